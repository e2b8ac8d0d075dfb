using System.Globalization;
using SdkEntity = Azure.Data.Tables.TableEntity;

namespace LoopFulfil.Core.Storage;

/// <summary>
/// Our <see cref="TableEntity"/> to and from the SDK's: keys escaped with <see cref="TableKey"/>, decimals as
/// invariant strings (Table Storage has no decimal), nulls left out, and the service's size limits checked before
/// sending so an oversized entity fails with names, not a bare 400.
/// </summary>
internal static class TableEntityConversion
{
    private const int MaxEntityBytes = 1024 * 1024;
    private const int MaxStringChars = 32 * 1024;
    private const int MaxBinaryBytes = 64 * 1024;
    private const int MaxKeyChars = 1024;

    public static DateTimeOffset ToUtc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Local => new DateTimeOffset(value.ToUniversalTime()),
        _ => new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc)),
    };

    public static SdkEntity ToSdk(TableEntity entity)
    {
        var sdk = new SdkEntity(TableKey.Escape(entity.PartitionKey), TableKey.Escape(entity.RowKey));
        foreach (var (name, value) in entity.Properties)
        {
            if (name is "PartitionKey" or "RowKey" or "Timestamp" || name.Contains('@', StringComparison.Ordinal) || name.StartsWith("odata.", StringComparison.Ordinal))
            {
                throw new ArgumentException($"'{name}' is reserved and cannot be a property name.", nameof(entity));
            }

            switch (value)
            {
                case null:
                    // Table Storage has no null: an absent property is the closest thing (and Merge leaves it alone).
                    continue;
                case string or bool or int or long or double or DateTimeOffset or Guid or byte[]:
                    sdk[name] = value;
                    continue;
                case decimal m:
                    sdk[name] = m.ToString(CultureInfo.InvariantCulture);
                    continue;
                case DateTime dt:
                    sdk[name] = ToUtc(dt);
                    continue;
                default:
                    throw new ArgumentException($"Property '{name}' has type {value.GetType().Name}, which Table Storage cannot hold (use string, bool, int, long, double, decimal, DateTimeOffset, Guid or byte[]).");
            }
        }

        return sdk;
    }

    public static TableEntity FromSdk(SdkEntity sdk)
    {
        var entity = new TableEntity(TableKey.Unescape(sdk.PartitionKey ?? ""), TableKey.Unescape(sdk.RowKey ?? ""))
        {
            ETag = sdk.ETag == default ? null : sdk.ETag.ToString(),
            Timestamp = sdk.Timestamp,
        };
        foreach (var (name, value) in sdk)
        {
            if (name is "PartitionKey" or "RowKey" or "Timestamp" || name.Contains('@', StringComparison.Ordinal) || name.StartsWith("odata.", StringComparison.Ordinal))
            {
                continue;
            }

            entity.Properties[name] = value switch
            {
                BinaryData data => data.ToArray(),
                DateTime dt => ToUtc(dt),
                _ => value,
            };
        }

        return entity;
    }

    /// <summary>Applies the service's documented size formula.</summary>
    public static void CheckLimits(string table, TableEntity entity)
    {
        var pk = TableKey.Escape(entity.PartitionKey);
        var rk = TableKey.Escape(entity.RowKey);
        if (pk.Length > MaxKeyChars || rk.Length > MaxKeyChars)
        {
            throw new TableEntityTooLargeException(table, entity.PartitionKey, entity.RowKey,
                $"a stored key may hold at most {MaxKeyChars} characters (partition {pk.Length}, row {rk.Length} after escaping)", null, "KeyTooLong");
        }

        long size = 4 + ((pk.Length + 1) * 2) + ((rk.Length + 1) * 2);
        foreach (var (name, value) in entity.Properties)
        {
            if (value is null)
            {
                continue;
            }

            if (value is string str && str.Length > MaxStringChars)
            {
                throw new TableEntityTooLargeException(table, entity.PartitionKey, entity.RowKey,
                    $"property '{name}' has {str.Length} characters; a string property holds at most {MaxStringChars} (64 KiB UTF-16)", null, "PropertyValueTooLarge");
            }

            if (value is byte[] bytes && bytes.Length > MaxBinaryBytes)
            {
                throw new TableEntityTooLargeException(table, entity.PartitionKey, entity.RowKey,
                    $"property '{name}' has {bytes.Length} bytes; a binary property holds at most {MaxBinaryBytes} (64 KiB)", null, "PropertyValueTooLarge");
            }

            var valueSize = value switch
            {
                string s => 4 + (s.Length * 2L),
                decimal m => 4 + (m.ToString(CultureInfo.InvariantCulture).Length * 2L),
                byte[] b => 4 + b.Length,
                bool => 1,
                int => 4,
                Guid => 16,
                _ => 8,
            };
            size += 8 + ((name.Length + 1) * 2L) + valueSize;
        }

        if (size > MaxEntityBytes)
        {
            throw new TableEntityTooLargeException(table, entity.PartitionKey, entity.RowKey,
                $"it is about {size} bytes; an entity holds at most {MaxEntityBytes} (1 MiB)", null, "EntityTooLarge");
        }
    }
}
