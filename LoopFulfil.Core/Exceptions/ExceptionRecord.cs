namespace LoopFulfil.Core.Exceptions;

/// <summary>A request to record a problem. Repeats with the same (category, return id, detail key) bump one record.</summary>
/// <param name="Category">What went wrong; decides the owner.</param>
/// <param name="ReturnId">The Loop return id, when known.</param>
/// <param name="Message">What happened, for the owner (ids and codes only: no customer personal data).</param>
public sealed record ExceptionRaise(ExceptionCategory Category, string? ReturnId, string Message)
{
    /// <summary>
    /// Distinguishes several problems of one category on one return (e.g. a line id). Null: one record per
    /// (category, return). For SKU categories it defaults to the sorted SKU list.
    /// </summary>
    public string? DetailKey { get; init; }

    /// <summary>SKUs involved (SKU categories): the rechecker replays once all of them are active in Fulfil.</summary>
    public IReadOnlyList<string> Skus { get; init; } = [];

    /// <summary>The original Loop event body as received, kept for replay. Empty when there is none.</summary>
    public ReadOnlyMemory<byte> RawEvent { get; init; }

    /// <summary>Where it was raised (e.g. <c>webhook:return.created</c>, <c>returns-handler</c>).</summary>
    public string? Source { get; init; }

    /// <summary>
    /// The queue a replay sends <see cref="RawEvent"/> to as it is (e.g. <c>loop-exchanges</c> for an exchange
    /// message). Null: the raw event is a Loop webhook body, replayed onto <c>loop-returns</c> through webhook routing.
    /// </summary>
    public string? ReplayQueue { get; init; }

    /// <summary>
    /// Owner as configured for this category instead of <see cref="Category"/>'s (e.g. a Fulfil refusal while posting
    /// money goes to finance's team). Null: the category's owner.
    /// </summary>
    public ExceptionCategory? OwnerAs { get; init; }
}

/// <summary>A stored exception: one problem, its owner, its history and (optionally) the event to replay.</summary>
public sealed record ExceptionRecord
{
    /// <summary>Stable id: <c>{Category}-{32 hex}</c>.</summary>
    public required string Id { get; init; }

    public required ExceptionCategory Category { get; init; }

    /// <summary>Owning team (from <see cref="ExceptionOptions.Owners"/> when last raised).</summary>
    public required string Owner { get; init; }

    public string? ReturnId { get; init; }

    public string? DetailKey { get; init; }

    public IReadOnlyList<string> Skus { get; init; } = [];

    public required string Message { get; init; }

    public string? Source { get; init; }

    public required ExceptionStatus Status { get; init; }

    public required DateTimeOffset FirstSeen { get; init; }

    public required DateTimeOffset LastSeen { get; init; }

    /// <summary>How many times the problem was raised.</summary>
    public required int Attempts { get; init; }

    public int ReplayCount { get; init; }

    public DateTimeOffset? LastReplayedAt { get; init; }

    public DateTimeOffset? ResolvedAt { get; init; }

    public string? ResolutionNote { get; init; }

    /// <summary>What the person who resolved it said (<see cref="ExceptionResolution.Fixed"/> unless stated).</summary>
    public ExceptionResolution Resolution { get; init; }

    /// <summary>Length of the stored raw event (0: none).</summary>
    public int RawEventLength { get; init; }

    /// <summary>Hex SHA-256 of the stored raw event, or null.</summary>
    public string? RawEventSha256 { get; init; }

    /// <summary>Where a replay sends the raw event (null: <c>loop-returns</c>, as a Loop webhook).</summary>
    public string? ReplayQueue { get; init; }

    /// <summary>The raw event: filled by <see cref="ExceptionService.GetAsync"/>, empty in lists.</summary>
    public ReadOnlyMemory<byte> RawEvent { get; init; }
}

/// <summary>Outcome of a replay.</summary>
public enum ReplayOutcome
{
    /// <summary>The raw event was re-enqueued (to <c>loop-returns</c>, or the record's replay queue) and the record marked replayed.</summary>
    Replayed,

    NotFound,

    /// <summary>The record holds no raw event (raised by a job, not from an event).</summary>
    NoRawEvent,

    /// <summary>The stored event still does not route (unknown trigger, malformed): fix the cause, or resolve it.</summary>
    NotRoutable,
}

/// <param name="Outcome">What happened.</param>
/// <param name="Record">The record after the replay (null when not found).</param>
/// <param name="MessageId">The fresh MessageId the event was re-enqueued under.</param>
/// <param name="Detail">Why it could not be replayed.</param>
public sealed record ReplayResult(ReplayOutcome Outcome, ExceptionRecord? Record, string? MessageId, string? Detail);
