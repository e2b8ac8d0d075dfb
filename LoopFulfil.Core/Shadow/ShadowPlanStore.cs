using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using LoopFulfil.Core.Storage;

namespace LoopFulfil.Core.Shadow;

/// <summary>
/// Table <c>shadowplan</c>: partition = Loop return id (<c>-</c> when the write names none), row = a hash of the
/// write's target, model, method, record and body. The same write planned again (a redelivery, the next sweep) is the
/// same row, so the plan lists each document once however often the pipeline ran.
/// </summary>
public sealed class ShadowPlanStore(ITableStore store)
{
    public const string Table = "shadowplan";
    private const string NoReturn = "-";
    private int _ready;

    public async Task RecordAsync(PlannedWrite write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var identity = string.Join('\u001f', write.Target, write.Model, write.Method, write.RecordId?.ToString(CultureInfo.InvariantCulture) ?? "", write.Body);
        var entity = new TableEntity(TableKey.Escape(write.ReturnId ?? NoReturn), Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..32])
        {
            ["Target"] = write.Target,
            ["Model"] = write.Model,
            ["Method"] = write.Method,
            ["Reference"] = write.Reference,
            // As text: the exact decimal, whatever the store does with doubles.
            ["Amount"] = write.Amount?.ToString(CultureInfo.InvariantCulture),
            ["Body"] = write.Body,
            ["At"] = write.At,
        };
        if (write.RecordId is { } id)
        {
            entity["RecordId"] = id;
        }

        // Insert-if-absent keeps the first time it was planned.
        await store.InsertAsync(Table, entity, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every planned write, in partition (return) order.</summary>
    public async IAsyncEnumerable<PlannedWrite> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var e in store.QueryAsync(Table, null, cancellationToken).ConfigureAwait(false))
        {
            var returnId = TableKey.Unescape(e.PartitionKey);
            yield return new PlannedWrite(
                e.GetString("Target") ?? "?",
                e.GetString("Model") ?? "?",
                e.GetString("Method") ?? "?",
                e.GetInt32("RecordId"),
                returnId == NoReturn ? null : returnId,
                e.GetString("Reference"),
                e.GetDecimal("Amount"),
                e.GetString("Body") ?? "",
                e.GetDateTimeOffset("At") ?? default);
        }
    }

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _ready) == 1)
        {
            return;
        }

        await store.CreateTableIfNotExistsAsync(Table, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _ready, 1);
    }
}
