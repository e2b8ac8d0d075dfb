using System.Text.Json.Serialization;

namespace LoopFulfil.Core.Inspection;

/// <summary>
/// The warehouse's (or WMS's) verdict on one returned unit. Loop sends one line item per unit and a line item id can
/// repeat: one inspection with a repeated id covers every unit of that id; several cover that many units, in order.
/// </summary>
/// <param name="LineItemId">Loop <c>line_item_id</c>.</param>
/// <param name="Passed">False flags the return in Loop (with <paramref name="Note"/>) instead of processing it.</param>
/// <param name="Disposition">Loop disposition or condition (<c>back_to_stock</c>, <c>grade_b</c>, <c>junk</c>…); routes the unit through <see cref="InspectionOptions.Destinations"/>.</param>
/// <param name="Note">Free text for the Loop note (no personal data).</param>
public sealed record LineInspection(
    [property: JsonPropertyName("line_item_id")] string LineItemId,
    [property: JsonPropertyName("passed")] bool Passed,
    [property: JsonPropertyName("disposition")] string? Disposition = null,
    [property: JsonPropertyName("note")] string? Note = null)
{
    /// <summary>The condition signal: the disposition when given, else <c>passed</c>/<c>failed</c>.</summary>
    [JsonIgnore]
    public string Signal => string.IsNullOrWhiteSpace(Disposition) ? (Passed ? "passed" : "failed") : Disposition.Trim();
}

/// <summary>The body stored in the ledger and queued for an inspection submission.</summary>
public sealed record InspectionSubmission(
    [property: JsonPropertyName("trigger")] string Trigger,
    [property: JsonPropertyName("return_id")] string ReturnId,
    [property: JsonPropertyName("submitted_at")] DateTimeOffset SubmittedAt,
    [property: JsonPropertyName("lines")] IReadOnlyList<LineInspection> Lines);

/// <summary>What <see cref="InspectionService.SubmitAsync"/> did.</summary>
/// <param name="MessageId">The queue message id (derived from the content: a resubmission of the same verdicts is one message).</param>
/// <param name="IsNew">False when the same verdicts were already stored.</param>
public sealed record InspectionReceipt(string ReturnId, string MessageId, bool IsNew, int Lines);
