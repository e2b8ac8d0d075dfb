using System.Text.Json;
using System.Text.Json.Serialization;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Returns;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Core.Exchanges;

/// <summary>The <c>loop-exchanges</c> message: which exchange order of which return to create.</summary>
/// <param name="Key"><see cref="ExchangeGroups.OriginalOrderKey"/> for items added to the original order, else the <c>EXC-</c> order name.</param>
public sealed record ExchangeMessage(
    [property: JsonPropertyName("return_id")] string ReturnId,
    [property: JsonPropertyName("key")] string Key);

/// <summary>How a return's exchange items become Fulfil sales orders.</summary>
public static class ExchangeGroups
{
    /// <summary>Key of the items Loop added to the original order (the current shape).</summary>
    public const string OriginalOrderKey = LoopReferences.Exchange;

    /// <summary>
    /// Items to ship, grouped into orders: one for items added to the original order, one per separate <c>EXC-</c>
    /// order. Out-of-stock items are left out: Loop resolved them otherwise (e.g. a gift card).
    /// </summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<LoopExchange>> Of(LoopReturn r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return r.Exchanges.Where(e => !e.OutOfStock)
            .GroupBy(e => e.IsSeparateOrder ? e.ExchangeOrderName!.Trim() : OriginalOrderKey, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<LoopExchange>)[.. g], StringComparer.Ordinal);
    }

}

/// <summary>
/// Exchanges: once Loop confirms the exchange (the return is closed — processed — with exchange items), each exchange
/// order is handed to <c>loop-exchanges</c>, where <see cref="ExchangeOrderHandler"/> creates it. Never earlier: an
/// open return's exchange can still be edited or cancelled. The returned goods follow their own path (inspection).
/// The exchange invoice is settled against the credit note by <see cref="Refunds.SettlementStage"/>, like every return's receivable.
/// </summary>
public sealed partial class ExchangeStage : IReturnStage
{
    private readonly IMessageSender _sender;
    private readonly ILogger<ExchangeStage> _logger;

    public ExchangeStage(IMessageSender sender, ILogger<ExchangeStage> logger)
    {
        _sender = sender;
        _logger = logger;
    }

    public int Order => ReturnStageOrder.Exchanges;

    public string Name => "exchanges";

    public async Task ApplyAsync(ReturnContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.State != ReturnStates.Closed)
        {
            return;
        }

        foreach (var key in ExchangeGroups.Of(context.Return).Keys)
        {
            var step = await context.Ledger.EnsureStepAsync(context.ReturnId, OutcomeSteps.ExchangeEnqueued(key), async ct =>
            {
                var body = JsonSerializer.SerializeToUtf8Bytes(new ExchangeMessage(context.ReturnId, key));
                var messageId = $"exchange-{context.ReturnId}-{key}";
                var properties = new Dictionary<string, string>(StringComparer.Ordinal) { ["returnId"] = context.ReturnId, ["exchangeKey"] = key };
                // Duplicate detection on loop-exchanges drops a resend with this id; the handler's ledger step drops the rest.
                await _sender.SendAsync(new OutboundMessage(QueueNames.LoopExchanges, body, messageId, null, properties), ct).ConfigureAwait(false);
                return messageId;
            }, cancellationToken).ConfigureAwait(false);
            LogEnqueued(_logger, context.ReturnId, key, step.Created);
        }
    }

    [LoggerMessage(EventId = 4651, Level = LogLevel.Information, Message = "Return {ReturnId}: exchange {Key} handed to loop-exchanges (now: {Created})")]
    private static partial void LogEnqueued(ILogger logger, string returnId, string key, bool created);
}
