namespace LoopFulfil.Core.Exceptions;

// The ops API's shapes, shared by the Functions app and `loopfulfil serve` so both answer alike.

/// <summary>An exception record as the ops API shows it: no raw event (it may hold customer data), enums as names.</summary>
public sealed record ExceptionRecordView(
    string Id,
    string Category,
    string Owner,
    string? ReturnId,
    IReadOnlyList<string> Skus,
    string Message,
    string? Source,
    string Status,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    int Attempts,
    int ReplayCount,
    DateTimeOffset? LastReplayedAt,
    DateTimeOffset? ResolvedAt,
    int RawEventLength)
{
    public static ExceptionRecordView From(ExceptionRecord r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return new(r.Id, r.Category.ToString(), r.Owner, r.ReturnId, r.Skus, r.Message, r.Source, r.Status.ToString(), r.FirstSeen,
            r.LastSeen, r.Attempts, r.ReplayCount, r.LastReplayedAt, r.ResolvedAt, r.RawEventLength);
    }
}

/// <summary>The outcome of one replay, for the ops API.</summary>
public sealed record ReplayView(string Outcome, string? Id, string? MessageId, string? Detail, ExceptionRecordView? Record)
{
    public static ReplayView From(string id, ReplayResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new(result.Outcome.ToString(), result.Record?.Id ?? id, result.MessageId, result.Detail,
            result.Record is null ? null : ExceptionRecordView.From(result.Record));
    }
}
