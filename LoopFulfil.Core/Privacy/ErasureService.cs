using System.Text;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Storage;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Core.Privacy;

/// <summary>The tables erasure searches (every table LoopFulfil writes that could hold a value from a payload).</summary>
public sealed record PersonalDataTables(IReadOnlyList<string> Names);

/// <summary>A table a host writes (not Core) whose rows could hold a payload value; erasure searches it too.</summary>
public sealed record HostPersonalDataTable(string Name);

/// <summary>
/// Erasure on request (<c>loopfulfil privacy erase --email</c>, <c>POST /api/ops/privacy/erase</c>): finds every stored
/// record holding one person's data and takes the personal values out, keeping the money and stock facts.
/// </summary>
/// <remarks>
/// Two passes over every table and the payload blobs. The first finds the records holding the e-mail and learns from
/// them the person's Loop return ids and the other values that identify them (name, phone, street). The second
/// changes every record of those returns, and any other record holding the e-mail, phone or street: each payload loses all
/// its personal fields (<see cref="PersonalFields"/>) and any remaining occurrence of the values; text properties
/// (messages, notes) lose the values. Claim-checked message bodies holding them are deleted (a body cannot be edited:
/// its message checks its hash), as are payload blobs no record points at any more. Every rewrite is ETag-checked; a
/// second run finds nothing and changes nothing.
/// </remarks>
public sealed partial class ErasureService
{
    private const int MaxRewriteAttempts = 5;

    private readonly ITableStore _tables;
    private readonly IBlobStore _blobs;
    private readonly StoredPayloads _payloads;
    private readonly PersonalDataTables _searched;
    private readonly TimeProvider _time;
    private readonly ILogger<ErasureService> _logger;

    public ErasureService(ITableStore tables, IBlobStore blobs, PersonalDataTables searched, TimeProvider time, ILogger<ErasureService> logger)
    {
        _tables = tables;
        _blobs = blobs;
        _payloads = new StoredPayloads(tables, blobs);
        _searched = searched;
        _time = time;
        _logger = logger;
    }

    /// <summary>Erases the stored data of the person with <paramref name="email"/>; returns the receipt.</summary>
    /// <exception cref="ArgumentException"><paramref name="email"/> is not an e-mail address.</exception>
    public async Task<ErasureReceipt> EraseAsync(string email, CancellationToken cancellationToken)
    {
        email = (email ?? "").Trim();
        if (email.Length is < 3 or > 320 || email.IndexOf('@', StringComparison.Ordinal) is <= 0 || email.EndsWith('@'))
        {
            throw new ArgumentException("An e-mail address is needed (name@domain).", nameof(email));
        }

        var started = _time.GetUtcNow();
        var (returnIds, identifiers) = await DiscoverAsync(email, cancellationToken).ConfigureAwait(false);

        // Records are matched on values that single one person out (an e-mail, a phone, a street with its number);
        // names would match strangers of the same name, so they are only masked inside records already found.
        var match = new HashSet<string>(identifiers.Where(v => v.Contains('@', StringComparison.Ordinal) || v.Any(char.IsDigit)), StringComparer.OrdinalIgnoreCase) { email };
        var erase = new HashSet<string>(identifiers, StringComparer.OrdinalIgnoreCase) { email };

        var entries = new List<ErasureEntry>();
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        foreach (var table in _searched.Names)
        {
            await foreach (var entity in TableScan.AllAsync(_tables, table, null, cancellationToken).ConfigureAwait(false))
            {
                if (await EraseEntityAsync(table, entity, returnIds, match, erase, cancellationToken).ConfigureAwait(false) is { } entry)
                {
                    entries.Add(entry);
                }
            }

            // Read again after the rewrites: the blobs records point at now are the ones to keep.
            await foreach (var entity in TableScan.AllAsync(_tables, table, null, cancellationToken).ConfigureAwait(false))
            {
                referenced.UnionWith(StoredPayloads.PrefixesOf(entity).Select(p => BodyStore.BlobOf(entity, p)).OfType<string>());
            }
        }

        entries.AddRange(await DeleteBlobsAsync(ClaimCheck.Container, _ => true, match, cancellationToken).ConfigureAwait(false));
        entries.AddRange(await DeleteBlobsAsync(BodyStore.Container, name => !referenced.Contains(name), match, cancellationToken).ConfigureAwait(false));

        var receipt = new ErasureReceipt
        {
            StartedAt = started,
            CompletedAt = _time.GetUtcNow(),
            ReturnIds = [.. returnIds.Order(StringComparer.Ordinal)],
            Entries = entries,
            Searched = [.. _searched.Names.Select(t => "table " + t), "blob " + BodyStore.Container, "blob " + ClaimCheck.Container],
        };
        LogErased(_logger, receipt.ReturnIds.Count, receipt.Entries.Count, receipt.RecordsChanged);
        return receipt;
    }

    /// <summary>The person's return ids and identifying values, from every payload that holds the e-mail.</summary>
    private async Task<(HashSet<string> ReturnIds, HashSet<string> Identifiers)> DiscoverAsync(string email, CancellationToken cancellationToken)
    {
        var returnIds = new HashSet<string>(StringComparer.Ordinal);
        var identifiers = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        string[] terms = [email];
        foreach (var table in _searched.Names)
        {
            await foreach (var entity in TableScan.AllAsync(_tables, table, null, cancellationToken).ConfigureAwait(false))
            {
                var holds = false;
                foreach (var prefix in StoredPayloads.PrefixesOf(entity))
                {
                    if (await _payloads.ReadAsync(entity, prefix, cancellationToken).ConfigureAwait(false) is { } body && PersonalFields.Contains(body, terms))
                    {
                        holds = true;
                        identifiers.UnionWith(PersonalFields.Identifiers(body));
                    }
                }

                if (holds || TextProperties(entity).Any(p => PersonalFields.ContainsAny(p.Value, terms)))
                {
                    if (table == ReturnLedger.Table)
                    {
                        returnIds.Add(entity.PartitionKey);
                    }
                    else if (table == ExceptionService.TableName && entity.GetString("ReturnId") is { Length: > 0 } returnId)
                    {
                        returnIds.Add(returnId);
                    }
                }
            }
        }

        // Only values that were the person's own e-mail-bearing payload's; the e-mail itself is always matched.
        identifiers.RemoveWhere(v => v.Length < 3);
        return (returnIds, identifiers);
    }

    private async Task<ErasureEntry?> EraseEntityAsync(string table, TableEntity entity, HashSet<string> returnIds, HashSet<string> match, HashSet<string> erase, CancellationToken cancellationToken)
    {
        var key = $"{entity.PartitionKey} / {entity.RowKey}";
        if (PersonalFields.ContainsAny(key, match))
        {
            // A key cannot be masked, and printing it would print the value: say so, by position only.
            return new ErasureEntry("table " + table, "(a key holding the value)", ["PartitionKey/RowKey"], "left: the record's key holds the value; delete it by hand");
        }

        var ofReturn = (table == ReturnLedger.Table && returnIds.Contains(entity.PartitionKey))
            || (entity.GetString("ReturnId") is { Length: > 0 } rid && returnIds.Contains(rid));
        for (var attempt = 0; attempt < MaxRewriteAttempts; attempt++)
        {
            var replacements = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            var properties = new Dictionary<string, object?>(StringComparer.Ordinal);
            var stale = false;
            foreach (var prefix in StoredPayloads.PrefixesOf(entity))
            {
                var body = await _payloads.ReadAsync(entity, prefix, cancellationToken).ConfigureAwait(false);
                if (body is null)
                {
                    stale = true;
                    break;
                }

                if (body.Length == 0 || !(ofReturn || PersonalFields.Contains(body, match)))
                {
                    continue;
                }

                // A body that is not JSON keeps its text with the values masked.
                var reduced = PersonalFields.Reduce(body, erase, out var changed)
                    ?? Encoding.UTF8.GetBytes(PersonalFields.MaskIn(Encoding.UTF8.GetString(body), erase, out changed));
                if (changed > 0)
                {
                    replacements[prefix] = reduced;
                }
            }

            foreach ((var name, var value) in TextProperties(entity))
            {
                var masked = PersonalFields.MaskIn(value, erase, out var changed);
                if (changed > 0 && (ofReturn || PersonalFields.ContainsAny(value, match)))
                {
                    properties[name] = masked;
                }
            }

            if (!stale)
            {
                if (replacements.Count == 0 && properties.Count == 0)
                {
                    return null;
                }

                properties["ErasedAt"] = _time.GetUtcNow();
                IReadOnlyList<string> fields = [.. replacements.Keys, .. properties.Keys.Where(k => k != "ErasedAt")];
                if (await _payloads.RewriteAsync(table, entity, replacements, properties, cancellationToken).ConfigureAwait(false))
                {
                    return new ErasureEntry("table " + table, key, fields, "masked");
                }
            }

            // Changed under us (the pipeline wrote it meanwhile): read it again and decide again.
            if (await _tables.GetAsync(table, entity.PartitionKey, entity.RowKey, cancellationToken).ConfigureAwait(false) is not { } fresh)
            {
                return null;
            }

            entity = fresh;
        }

        throw new Errors.TransientIntegrationException($"Record {key} of table {table} kept changing during erasure; run the erasure again.");
    }

    private async Task<IReadOnlyList<ErasureEntry>> DeleteBlobsAsync(string container, Func<string, bool> candidate, HashSet<string> match, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        await foreach (var blob in _blobs.ListAsync(container, null, cancellationToken).ConfigureAwait(false))
        {
            if (candidate(blob.Name))
            {
                names.Add(blob.Name);
            }
        }

        var entries = new List<ErasureEntry>();
        foreach (var name in names)
        {
            if (await _blobs.DownloadAsync(container, name, cancellationToken).ConfigureAwait(false) is { } body
                && PersonalFields.Contains(body, match)
                && await _blobs.DeleteAsync(container, name, cancellationToken).ConfigureAwait(false))
            {
                entries.Add(new ErasureEntry("blob " + container, name, ["body"], "deleted"));
            }
        }

        return entries;
    }

    // Text a person's value could have been copied into (messages, notes); bodies, keys and hashes are not text.
    private static List<KeyValuePair<string, string>> TextProperties(TableEntity entity) =>
        entity.Properties
            .Where(p => p.Value is string { Length: > 0 } && !p.Key.EndsWith("Sha256", StringComparison.Ordinal) && !p.Key.EndsWith("Blob", StringComparison.Ordinal))
            .Select(p => new KeyValuePair<string, string>(p.Key, (string)p.Value!))
            .ToList();

    [LoggerMessage(EventId = 6102, Level = LogLevel.Information, Message = "Privacy erasure: {Returns} returns of the person, {Found} records held their data, {Changed} changed")]
    private static partial void LogErased(ILogger logger, int returns, int found, int changed);
}
