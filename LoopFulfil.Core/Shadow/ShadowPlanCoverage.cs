using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;

namespace LoopFulfil.Core.Shadow;

/// <summary>
/// Which of a return's documents shadow mode actually planned a write for. A planned write stops its own family and the
/// families that depend on it (docs/go-live.md; after the return order every family): the stages after it read what that
/// write would have made — the return sale's id, and the credit note and return shipment Fulfil makes when it processes
/// the return sale — so they cannot be planned with a placeholder without inventing Fulfil's answer. Other families go on
/// planning; the exchange hand-off, when its stage runs, is planned, never sent. Each document row of the report says either which
/// planned write makes it or which planned write it waits on.
/// </summary>
public static class ShadowPlanCoverage
{
    /// <summary>
    /// Adds <see cref="ShadowReportRow.Write"/> to the document rows of one return (in the report's order: return sale,
    /// credit note, payments); <paramref name="writes"/> are the return's planned writes, oldest first. A document not
    /// planned waits on the write of the document before it (the credit note on the return sale, a payment on the
    /// credit note), else on the return's first planned write.
    /// </summary>
    public static IEnumerable<ShadowReportRow> Annotate(IEnumerable<ShadowReportRow> rows, IReadOnlyList<PlannedWrite> writes)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(writes);
        PlannedWrite? before = null;
        foreach (var row in rows)
        {
            if (row.Write is not null || row.Document == "money" || row.Verdict == ShadowVerdict.OnlyInFulfil || (row.Reference is null && row.Document != "return sale"))
            {
                yield return row;
                continue;
            }

            if (writes.FirstOrDefault(w => Makes(row, w)) is { } made)
            {
                before = made;
                yield return row with { Write = $"planned: {made.Model}.{made.Method}" };
                continue;
            }

            if (row.Document == "return sale" && row.Verdict == ShadowVerdict.Matched)
            {
                yield return row with { Write = NoneNeeded };
                continue;
            }

            var stop = before ?? (writes.Count > 0 ? writes[0] : null);
            yield return row with
            {
                Write = stop is null
                    ? "not planned: no write of this return was planned yet"
                    : $"not planned: it needs what {stop.Model}.{stop.Method} (planned{(stop.Reference is null ? "" : " for " + stop.Reference)}) would make, so its stage stopped there",
            };
        }
    }

    /// <summary>What a document of the existing process that live mode adopts without writing on it says.</summary>
    public const string NoneNeeded = "none needed: the existing process's document is adopted as it is";

    private static bool Makes(ShadowReportRow row, PlannedWrite write) => row.Document switch
    {
        "return sale" => FulfilWriteKinds.MakesReturnSale(write.Model, write.Method),
        "credit note" => FulfilWriteKinds.WritesInvoice(write.Model) && (write.Reference == row.Reference || write.Body.Contains(row.Reference ?? "\u0000", StringComparison.Ordinal)),
        LoopReferences.GiftCard => write.Reference == row.Reference,
        _ => write.Reference is not null && write.Reference == row.Reference,
    };
}
