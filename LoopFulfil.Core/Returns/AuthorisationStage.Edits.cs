using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop.Models;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Core.Returns;

// Edited returns: Loop sends return.updated with other line items (units removed, or added) before the return is
// processed. The return order made for the old lines is replaced: Tryton keeps a processing sale's lines fixed, so the
// stale order is withdrawn (renamed, cancelled where it can be, its draft return shipments and credit notes cancelled)
// and a new one is made for the current lines. Each set of lines is a ledger step (return-order-lines:{key}) whose
// document is the order carrying it, so a repeat of either version finds its order instead of making another.
public sealed partial class AuthorisationStage
{
    private const string LinesStepPrefix = "return-order-lines:";

    /// <summary>Ledger step of one set of Loop line items (order-independent).</summary>
    internal static string LinesStep(IReadOnlyList<LoopReturnLineItem> units)
    {
        var text = string.Join('\n', units.Select(u => (u.LineItemId ?? "") + "|" + (u.Sku ?? "").Trim()).Order(StringComparer.Ordinal));
        return LinesStepPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..20];
    }

    /// <summary>
    /// The return order now standing for the Loop return: the one carrying the current lines, else the newest
    /// recorded (<paramref name="first"/> when no lines were recorded yet). Replaces a stale order when the lines
    /// changed while the return is open and nothing was received into it.
    /// </summary>
    private async Task<int> CurrentReturnOrderAsync(ReturnContext context, int first, CancellationToken cancellationToken)
    {
        var units = context.Return.LineItems;
        var step = LinesStep(units);
        StepRecord[] recorded = [.. (await context.Ledger.GetStepsAsync(context.ReturnId, cancellationToken).ConfigureAwait(false))
            .Where(s => s.Step.StartsWith(LinesStepPrefix, StringComparison.Ordinal) && s.Status == StepStatus.Done && s.DocumentId is not null)
            .OrderBy(s => s.CompletedAt)];
        if (recorded.FirstOrDefault(s => s.Step == step) is { } same)
        {
            return int.Parse(same.DocumentId!, CultureInfo.InvariantCulture);
        }

        var current = recorded.Length == 0 ? first : int.Parse(recorded[^1].DocumentId!, CultureInfo.InvariantCulture);
        if (recorded.Length == 0 || units.Count == 0 || context.State is not (ReturnStates.Open or ReturnStates.Review))
        {
            // First sight of these lines (or an order made before lines were recorded), or no longer editable.
            if (recorded.Length == 0 && units.Count > 0)
            {
                var id = current.ToString(CultureInfo.InvariantCulture);
                await context.Ledger.EnsureStepAsync(context.ReturnId, step, _ => Task.FromResult(id), cancellationToken).ConfigureAwait(false);
            }

            return current;
        }

        return await ReplaceAsync(context, current, step, cancellationToken).ConfigureAwait(false) ?? current;
    }

    private async Task<int?> ReplaceAsync(ReturnContext context, int stale, string step, CancellationToken cancellationToken)
    {
        var shipments = await _fulfil.GetCustomerReturnShipmentsAsync(stale, cancellationToken).ConfigureAwait(false);
        if (shipments.Any(s => s.State is not ("draft" or "cancelled")))
        {
            await context.RaiseAsync(
                ExceptionCategory.ReturnStateConflict,
                $"Return {context.ReturnId} was edited in Loop after goods were received against return order {stale}; its lines were not changed. Adjust the return order in Fulfil.",
                Name,
                cancellationToken,
                detailKey: "edited-after-receipt").ConfigureAwait(false);
            return null;
        }

        var units = context.Return.LineItems;
        var products = await ValidateSkusAsync(context, units, cancellationToken).ConfigureAwait(false);
        var sale = products is null ? null : await FindSaleAsync(context, cancellationToken).ConfigureAwait(false);
        var lines = sale is null ? null : await MapLinesAsync(context, units, products!, sale, cancellationToken).ConfigureAwait(false);
        if (lines is null)
        {
            return null;
        }

        var request = new FulfilReturnOrderRequest(sale!.Id, context.ReturnId, context.References.ReturnOrder(context.ReturnId), lines);
        var result = await context.Ledger.EnsureStepAsync(
            context.ReturnId,
            step,
            async ct => (await _fulfil.FindReturnOrderAsync(context.ReturnId, ct).ConfigureAwait(false)) is { } found && found.Id != stale
                ? found.Id.ToString(CultureInfo.InvariantCulture)
                : null,
            async ct =>
            {
                await _fulfil.SupersedeReturnOrderAsync(stale, context.ReturnId + ReturnLineMatcher.SupersededMarker + stale.ToString(CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
                return (await _fulfil.CreateReturnOrderAsync(request, ct).ConfigureAwait(false)).Id.ToString(CultureInfo.InvariantCulture);
            },
            cancellationToken).ConfigureAwait(false);
        var replacement = int.Parse(result.DocumentId, CultureInfo.InvariantCulture);
        LogReplaced(_logger, context.ReturnId, stale, replacement, lines.Count, result.Created);
        return replacement;
    }

    [LoggerMessage(EventId = 4503, Level = LogLevel.Information, Message = "Return {ReturnId}: edited in Loop; return order {Stale} replaced by {ReturnOrderId} ({Lines} lines, now: {Created})")]
    private static partial void LogReplaced(ILogger logger, string returnId, int stale, int returnOrderId, int lines, bool created);
}
