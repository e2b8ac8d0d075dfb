using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;
using LoopFulfil.Core.Storage;

namespace LoopFulfil.Core.Reconciliation;

/// <summary>
/// Table <c>reconciliation</c>: partition <c>run</c> (row = run id, the report as gzipped JSON in chunks), partition
/// <c>latest</c> (rows <c>any</c>, <c>Daily</c>, <c>Audit</c>: the newest run id), partition <c>day</c> (row
/// <c>yyyy-MM-dd</c>: the day's figures for the history chart, written by daily runs).
/// </summary>
public sealed class ReconciliationReportStore
{
    public const string Table = "reconciliation";
    private const string RunPartition = "run";
    private const string LatestPartition = "latest";
    private const string DayPartition = "day";
    private const string AnyMode = "any";

    // Table Storage caps a binary property at 64 KiB and an entity at 1 MiB.
    private const int ChunkBytes = 60 * 1024;
    private const int MaxChunks = 15;

    // Counts stay exact; only the stored list is capped so a pathological run still saves.
    private const int MaxStoredMismatches = 20_000;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    private readonly ITableStore _store;
    private int _ready;

    public ReconciliationReportStore(ITableStore store) => _store = store;

    public async Task SaveAsync(ReconciliationReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var stored = report.Mismatches.Count > MaxStoredMismatches ? report with { Mismatches = [.. report.Mismatches.Take(MaxStoredMismatches)] } : report;
        var body = Compress(JsonSerializer.SerializeToUtf8Bytes(stored, Json));
        var chunks = (body.Length + ChunkBytes - 1) / ChunkBytes;
        if (chunks > MaxChunks)
        {
            throw new Errors.PermanentIntegrationException($"Reconciliation report {report.RunId} is {body.Length} bytes compressed, more than a table entity holds.");
        }

        var entity = new TableEntity(RunPartition, report.RunId)
        {
            ["Mode"] = report.Mode.ToString(),
            ["From"] = report.From,
            ["To"] = report.To,
            ["CompletedAt"] = report.CompletedAt,
            ["ReturnsChecked"] = report.ReturnsChecked,
            ["Mismatches"] = report.Mismatches.Count,
            ["Chunks"] = chunks,
        };
        for (var i = 0; i < chunks; i++)
        {
            entity[$"Body{i}"] = body.AsSpan(i * ChunkBytes, Math.Min(ChunkBytes, body.Length - (i * ChunkBytes))).ToArray();
        }

        await _store.UpsertAsync(Table, entity, UpsertMode.Replace, cancellationToken).ConfigureAwait(false);
        if (report.Mode == ReconciliationMode.Daily)
        {
            await _store.UpsertAsync(Table, new TableEntity(DayPartition, DayKey(DayOf(report)))
            {
                ["RunId"] = report.RunId,
                ["ReturnsChecked"] = report.ReturnsChecked,
                ["Mismatches"] = report.Mismatches.Count,
                ["Healed"] = report.Mismatches.Count(m => m.Healed),
            }, UpsertMode.Replace, cancellationToken).ConfigureAwait(false);
        }

        // Pointers last: a reader never follows one to a run that is not stored yet.
        foreach (var row in new[] { AnyMode, report.Mode.ToString() })
        {
            await _store.UpsertAsync(Table, new TableEntity(LatestPartition, row) { ["RunId"] = report.RunId }, UpsertMode.Replace, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<ReconciliationReport?> GetAsync(string runId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var entity = await _store.GetAsync(Table, RunPartition, runId, cancellationToken).ConfigureAwait(false);
        if (entity is null)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunks = entity.GetInt32("Chunks") ?? 0;
        for (var i = 0; i < chunks; i++)
        {
            if (entity[$"Body{i}"] is byte[] chunk)
            {
                buffer.Write(chunk);
            }
        }

        return JsonSerializer.Deserialize<ReconciliationReport>(Decompress(buffer.ToArray()), Json);
    }

    /// <summary>The newest run (of <paramref name="mode"/>, or of any mode), or null before the first run.</summary>
    public async Task<string?> GetLatestRunIdAsync(ReconciliationMode? mode, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var pointer = await _store.GetAsync(Table, LatestPartition, mode?.ToString() ?? AnyMode, cancellationToken).ConfigureAwait(false);
        return pointer?.GetString("RunId");
    }

    /// <summary>Day rows from <paramref name="first"/> to <paramref name="last"/> inclusive, oldest first.</summary>
    public async Task<IReadOnlyList<ReconciliationDay>> GetHistoryAsync(DateOnly first, DateOnly last, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var filter = TableFilter.And(
            TableFilter.PartitionKeyEquals(DayPartition),
            TableFilter.GreaterThanOrEqual("RowKey", DayKey(first)),
            TableFilter.LessThanOrEqual("RowKey", DayKey(last)));
        var days = new List<ReconciliationDay>();
        await foreach (var e in _store.QueryAsync(Table, filter, cancellationToken).ConfigureAwait(false))
        {
            if (DateOnly.TryParseExact(e.RowKey, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                days.Add(new ReconciliationDay(date, e.GetString("RunId") ?? "", e.GetInt32("ReturnsChecked") ?? 0, e.GetInt32("Mismatches") ?? 0, e.GetInt32("Healed") ?? 0));
            }
        }

        return [.. days.OrderBy(d => d.Date)];
    }

    /// <summary>The day a run reports on: the last day its window covers (the previous day, for the scheduled run).</summary>
    public static DateOnly DayOf(ReconciliationReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return DateOnly.FromDateTime(report.To.UtcDateTime.AddTicks(-1));
    }

    private static string DayKey(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static byte[] Compress(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(raw);
        }

        return output.ToArray();
    }

    private static byte[] Decompress(byte[] compressed)
    {
        using var input = new MemoryStream(compressed);
        using var gzip = new GZipStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        gzip.CopyTo(output);
        return output.ToArray();
    }

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _ready) == 1)
        {
            return;
        }

        await _store.CreateTableIfNotExistsAsync(Table, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _ready, 1);
    }
}
