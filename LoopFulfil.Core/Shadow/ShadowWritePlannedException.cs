namespace LoopFulfil.Core.Shadow;

/// <summary>
/// A write that shadow mode recorded instead of sending. Neither transient nor permanent: the pipeline treats the
/// write as done-in-shadow and stops that return's chain without an exception record (what came after needed the
/// write's answer, e.g. the new document's id).
/// </summary>
public sealed class ShadowWritePlannedException : Exception
{
    public ShadowWritePlannedException()
        : this(new PlannedWrite("?", "?", "?", null, null, null, null, "", default))
    {
    }

    public ShadowWritePlannedException(string message)
        : base(message)
    {
        Write = new PlannedWrite("?", "?", "?", null, null, null, null, "", default);
    }

    public ShadowWritePlannedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Write = new PlannedWrite("?", "?", "?", null, null, null, null, "", default);
    }

    public ShadowWritePlannedException(PlannedWrite write)
        : base($"Shadow mode: {write.Target} {write.Model}.{write.Method} planned, not sent.")
    {
        ArgumentNullException.ThrowIfNull(write);
        Write = write;
    }

    public PlannedWrite Write { get; }
}

/// <summary>One write shadow mode planned: where it would have gone and what it carried.</summary>
/// <param name="Target"><c>Fulfil</c> or <c>Loop</c>.</param>
/// <param name="Model">Fulfil model (<c>sale.sale</c>) or Loop resource path.</param>
/// <param name="Method"><c>create</c>, a Fulfil method (<c>return_order</c>, <c>post</c>, <c>write</c>) or the HTTP verb for Loop.</param>
/// <param name="RecordId">The record the method was called on, when the path names one.</param>
/// <param name="ReturnId">The Loop return being handled (the pipeline's scope, else read from a <c>LOOP-{id}-…</c> reference).</param>
/// <param name="Reference">The document's reference (<c>reference</c>, <c>channel_identifier</c>, <c>description</c> or <c>number</c> of the body).</param>
/// <param name="Amount">Σ quantity (or return_quantity) × unit price of the body's lines, or Σ debit of its move lines; null when it has neither.</param>
/// <param name="Body">The request body as sent would have been (trimmed).</param>
public sealed record PlannedWrite(string Target, string Model, string Method, int? RecordId, string? ReturnId, string? Reference, decimal? Amount, string Body, DateTimeOffset At);
