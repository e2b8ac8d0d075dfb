using LoopFulfil.Core.Storage;

namespace LoopFulfil.Core.Privacy;

/// <summary>
/// The payloads on table entities, whichever table: every body kept through <see cref="BodyStore"/> (a property
/// <c>{prefix}</c> with <c>{prefix}Length</c> and <c>{prefix}Sha256</c>), read and rewritten the way their owners
/// write them, so retention and erasure need no knowledge of each table's rows.
/// </summary>
internal sealed class StoredPayloads
{
    /// <summary>On an entity: <c>{prefix}ReducedSha256</c>, the hash of the body as this class last reduced it.</summary>
    internal const string ReducedSuffix = "ReducedSha256";

    private readonly ITableStore _tables;
    private readonly BodyStore _bodies;

    public StoredPayloads(ITableStore tables, IBlobStore blobs)
    {
        _tables = tables;
        _bodies = new BodyStore(blobs);
    }

    /// <summary>The body prefixes on <paramref name="entity"/> (e.g. <c>Snapshot</c> on a ledger row, <c>Body</c> on an exception record).</summary>
    public static IReadOnlyList<string> PrefixesOf(TableEntity entity) =>
        [.. entity.Properties.Keys
            .Where(k => k.EndsWith("Sha256", StringComparison.Ordinal) && !k.EndsWith(ReducedSuffix, StringComparison.Ordinal))
            .Select(k => k[..^"Sha256".Length])
            .Where(p => p.Length > 0 && entity.Properties.ContainsKey(p + "Length"))
            .Order(StringComparer.Ordinal)];

    /// <summary>True when the body under <paramref name="prefix"/> is the one this class last reduced (nothing to do).</summary>
    public static bool IsReduced(TableEntity entity, string prefix) =>
        entity.GetInt32(prefix + "Length") is null or 0
        || (entity.GetString(prefix + ReducedSuffix) is { Length: > 0 } reduced && reduced == entity.GetString(prefix + "Sha256"));

    /// <summary>The body, or null when its blob is gone or was replaced meanwhile (read the entity again).</summary>
    public Task<byte[]?> ReadAsync(TableEntity entity, string prefix, CancellationToken cancellationToken) =>
        _bodies.ReadAsync(entity, prefix, cancellationToken);

    /// <summary>
    /// Writes <paramref name="replacements"/> (prefix → new body) and <paramref name="properties"/> onto the stored
    /// entity in one ETag-checked write, marks each body reduced, and deletes the blobs the old bodies were in.
    /// </summary>
    /// <returns>False when the entity changed since it was read (nothing written; read it again).</returns>
    public async Task<bool> RewriteAsync(
        string table,
        TableEntity entity,
        IReadOnlyDictionary<string, byte[]> replacements,
        IReadOnlyDictionary<string, object?> properties,
        CancellationToken cancellationToken)
    {
        var previous = replacements.Keys.ToDictionary(p => p, p => BodyStore.BlobOf(entity, p), StringComparer.Ordinal);
        foreach ((var prefix, var body) in replacements)
        {
            await _bodies.WriteAsync(table, entity, prefix, body, cancellationToken).ConfigureAwait(false);
            entity[prefix + ReducedSuffix] = entity.GetString(prefix + "Sha256");
        }

        foreach ((var name, var value) in properties)
        {
            entity[name] = value;
        }

        if (await _tables.UpdateAsync(table, entity, UpsertMode.Merge, cancellationToken).ConfigureAwait(false) == UpdateOutcome.Updated)
        {
            foreach ((var prefix, var blob) in previous)
            {
                await _bodies.ReleaseAsync(blob, entity, prefix, cancellationToken).ConfigureAwait(false);
            }

            return true;
        }

        foreach (var prefix in replacements.Keys)
        {
            if (!string.Equals(previous[prefix], BodyStore.BlobOf(entity, prefix), StringComparison.Ordinal))
            {
                await _bodies.DiscardAsync(_tables, table, entity, prefix, cancellationToken).ConfigureAwait(false);
            }
        }

        return false;
    }
}
