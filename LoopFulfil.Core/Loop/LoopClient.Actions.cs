using System.Net;
using LoopFulfil.Core.Http;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Core.Loop;

// Return actions. None is repeatable at the HTTP level (the resilience handler does not resend one whose outcome is
// unclear), so each looks at the return first where Loop's API can show the effect, and a repeat after an unclear
// outcome is a no-op: process skips a closed return, flag one already in review, note one already carrying the text.
public sealed partial class LoopClient
{
    private const string ClosedCode = "UNPROCESSABLE_CLOSED_RETURN";

    /// <remarks>
    /// Skipped when the return is already closed (processed, or closed by a person: either way nothing is left to
    /// process), and a "closed" refusal counts as done for the same reason. Residual risk: Loop shows no "queued"
    /// state, so a repeat that arrives while the first call is still queued is sent again; Loop runs outcomes only
    /// for an open return, and the integration handles the second <c>return.closed</c> as a redelivery.
    /// </remarks>
    public async Task ProcessReturnAsync(string returnId, IReadOnlyDictionary<string, string>? additionalDetails, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(returnId);
        if (await StateAsync(returnId, cancellationToken) == "closed")
        {
            _logger.LogInformation("Loop process skipped for return {ReturnId}: already closed", returnId);
            return;
        }

        HttpContent? content = additionalDetails is { Count: > 0 } ? Json(additionalDetails) : null;
        try
        {
            await ActionAsync(returnId, "process", $"warehouse/return/{Escape(returnId)}/process", content, cancellationToken);
        }
        catch (LoopActionRejectedException ex) when (ex.Code == ClosedCode)
        {
            _logger.LogInformation("Loop process of return {ReturnId} found it closed", returnId);
        }
    }

    /// <remarks>Skipped when the return is already in review: a flag that was applied before its answer was lost.</remarks>
    public async Task FlagReturnAsync(string returnId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(returnId);
        if (await StateAsync(returnId, cancellationToken) is "review" or "needs review")
        {
            _logger.LogInformation("Loop flag skipped for return {ReturnId}: already in review", returnId);
            return;
        }

        await ActionAsync(returnId, "flag", $"warehouse/return/{Escape(returnId)}/flag", null, cancellationToken);
    }

    public Task CancelReturnAsync(string returnId, CancellationToken cancellationToken)
        => ActionAsync(returnId, "cancel", $"warehouse/return/{Escape(returnId)}/cancel", null, cancellationToken);

    public Task CloseReturnAsync(string returnId, CancellationToken cancellationToken)
        => ActionAsync(returnId, "close", $"warehouse/return/{Escape(returnId)}/close", null, cancellationToken);

    /// <remarks>
    /// Skipped when the return already has a note with exactly this content (Loop's notes carry no reference of
    /// ours, so the text is the key: callers write deterministic texts). Residual risk: two different events that
    /// mean to add the same text add it once, which is what a reader of the timeline wants anyway.
    /// </remarks>
    public Task AddReturnNoteAsync(string returnId, string content, CancellationToken cancellationToken) =>
        AddNoteUnlessAsync(returnId, content, existing => string.Equals(existing, content, StringComparison.Ordinal), cancellationToken);

    /// <remarks>The key is the look-up: any note starting with it counts as this note, whatever its text goes on to say.</remarks>
    public Task AddReturnNoteOnceAsync(string returnId, string key, string content, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        ArgumentNullException.ThrowIfNull(content);
        if (!content.StartsWith(key, StringComparison.Ordinal))
        {
            throw new ArgumentException("The note must start with its key.", nameof(content));
        }

        return AddNoteUnlessAsync(returnId, content, existing => existing?.StartsWith(key, StringComparison.Ordinal) == true, cancellationToken);
    }

    private async Task AddNoteUnlessAsync(string returnId, string content, Func<string?, bool> alreadyThere, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(returnId);
        ArgumentException.ThrowIfNullOrWhiteSpace(content);
        if (content.Length >= MaxNoteLength)
        {
            throw new ArgumentOutOfRangeException(nameof(content), content.Length, $"Loop notes must be shorter than {MaxNoteLength} characters; use {nameof(LoopNotes)}.{nameof(LoopNotes.Fit)}.");
        }

        var existing = await GetReturnNotesAsync(returnId, cancellationToken);
        if (existing.Any(n => alreadyThere(n.Content)))
        {
            _logger.LogInformation("Loop note skipped for return {ReturnId}: already there", returnId);
            return;
        }

        await ActionAsync(returnId, "note", $"warehouse/return/{Escape(returnId)}/note", Json(new Dictionary<string, string> { ["content"] = content }), cancellationToken);
    }

    public Task RemoveLineItemsAsync(string returnId, IReadOnlyCollection<string> lineItemIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lineItemIds);
        if (lineItemIds.Count == 0)
        {
            throw new ArgumentException("At least one line item id is required.", nameof(lineItemIds));
        }

        var ids = string.Join(',', lineItemIds.Select(Uri.EscapeDataString));
        return ActionAsync(returnId, "remove", $"warehouse/return/{Escape(returnId)}/remove?line_item_id={ids}", null, cancellationToken);
    }

    private async Task<string?> StateAsync(string returnId, CancellationToken cancellationToken) =>
        (await GetReturnAsync(returnId, cancellationToken)).State;

    private async Task ActionAsync(string returnId, string action, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(returnId);
        using var response = await SendAsync(HttpMethod.Post, path, content, cancellationToken, RequestRepeatability.NotRepeatable);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var error = LoopError.TryRead(body);
        if (response.IsSuccessStatusCode)
        {
            if (IsJsonTrue(body))
            {
                _logger.LogInformation("Loop {Action} accepted for return {ReturnId}", action, returnId);
                return;
            }

            _logger.LogWarning("Loop {Action} rejected for return {ReturnId}: HTTP {Status} code {Code}", action, returnId, (int)response.StatusCode, error?.Code);
            throw new LoopActionRejectedException(response.StatusCode, action, returnId, error?.Code, error?.Message ?? "Loop did not answer true.");
        }

        if (error is not null && (response.StatusCode == HttpStatusCode.UnprocessableEntity || response.StatusCode == HttpStatusCode.BadRequest || response.StatusCode == HttpStatusCode.Conflict))
        {
            _logger.LogWarning("Loop {Action} rejected for return {ReturnId}: HTTP {Status} code {Code}", action, returnId, (int)response.StatusCode, error.Code);
            throw new LoopActionRejectedException(response.StatusCode, action, returnId, error.Code, error.Message);
        }

        ThrowIfFailed(response, body, Operation(HttpMethod.Post, path));
    }
}
