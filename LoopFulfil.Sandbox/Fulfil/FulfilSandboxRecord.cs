using System.Globalization;

namespace LoopFulfil.Sandbox.Fulfil;

/// <summary>A read-only copy of one simulated record, for test assertions.</summary>
public sealed class FulfilSandboxRecord
{
    internal FulfilSandboxRecord(string model, int id, IReadOnlyDictionary<string, object?> fields)
    {
        Model = model;
        Id = id;
        Fields = fields;
    }

    public string Model { get; }

    public int Id { get; }

    /// <summary>Stored and computed fields: decimal for money and quantities, DateOnly/DateTime for dates, int ids.</summary>
    public IReadOnlyDictionary<string, object?> Fields { get; }

    public string? State => Fields.TryGetValue("state", out var s) ? s as string : null;

    public object? this[string field] => Fields.TryGetValue(field, out var v) ? v : null;

    public decimal Number(string field) => Convert.ToDecimal(this[field] ?? 0m, CultureInfo.InvariantCulture);

    public string? Text(string field) => this[field] as string;

    public int? Ref(string field) => this[field] is int i ? i : null;

    public IReadOnlyList<int> Ids(string field) => this[field] as IReadOnlyList<int> ?? [];
}
