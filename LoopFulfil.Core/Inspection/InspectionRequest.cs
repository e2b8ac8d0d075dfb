using System.Text.Json;
using System.Text.Json.Serialization;

namespace LoopFulfil.Core.Inspection;

/// <summary>
/// The body of <c>POST /api/returns/{id}/inspection</c> as a warehouse or WMS sends it, in both hosts:
/// <c>{"lines":[{"line_item_id":"…","passed":true,"disposition":"back_to_stock","note":"…"}]}</c>.
/// </summary>
public sealed record InspectionRequest([property: JsonPropertyName("lines")] IReadOnlyList<LineInspection>? Lines)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Reads the body; malformed JSON becomes <see cref="InvalidInspectionException"/> (a 400, not a retry).</summary>
    public static async Task<IReadOnlyList<LineInspection>> ReadLinesAsync(Stream body, CancellationToken cancellationToken)
    {
        try
        {
            var request = await JsonSerializer.DeserializeAsync<InspectionRequest>(body, Json, cancellationToken);
            return request?.Lines ?? [];
        }
        catch (JsonException ex)
        {
            throw new InvalidInspectionException("The body is not an inspection: " + ex.Message, ex);
        }
    }
}
