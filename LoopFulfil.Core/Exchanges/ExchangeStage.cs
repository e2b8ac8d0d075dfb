using System.Text.Json;
using System.Text.Json.Serialization;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Shadow;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

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
/// In shadow mode nothing is handed off and no step is recorded: the hand-off is planned (<see cref="ShadowPlanStore"/>),
/// so going live hands the order off then, whatever else the shadow pass planned or found made by the existing process.
/// </summary>
public sealed partial class ExchangeStage : IReturnStage
{
    private readonly IMessageSender _sender;
    private readonly ILogger<ExchangeStage> _logger;
    private readonly IOptionsMonitor<IntegrationOptions>? _integration;
    private readonly ShadowPlanStore? _plan;
    private readonly TimeProvider _time;

    public ExchangeStage(IMessageSender sender, ILogger<ExchangeStage> logger, IOptionsMonitor<IntegrationOptions>? integration = null, ShadowPlanStore? plan = null, TimeProvider? time = null)
    {
        _sender = sender;
        _logger = logger;
        _integration = integration;
        _plan = plan;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>What the planned hand-off of exchange <paramref name="key"/> is recorded as: the <c>loop-exchanges</c> message id.</summary>
    public static string MessageId(string returnId, string key) => $"exchange-{returnId}-{key}";

    public int Order => ReturnStageOrder.Exchanges;

    public string Name => "exchanges";

    public async Task ApplyAsync(ReturnContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.State != ReturnStates.Closed)
        {
            return;
        }

        if (_integration?.CurrentValue.Mode == IntegrationMode.Shadow)
        {
            await PlanAsync(context, cancellationToken).ConfigureAwait(false);
            return;
        }

        foreach (var key in ExchangeGroups.Of(context.Return).Keys)
        {
            var step = await context.Ledger.EnsureStepAsync(context.ReturnId, OutcomeSteps.ExchangeEnqueued(key), async ct =>
            {
                var body = JsonSerializer.SerializeToUtf8Bytes(new ExchangeMessage(context.ReturnId, key));
                var messageId = MessageId(context.ReturnId, key);
                var properties = new Dictionary<string, string>(StringComparer.Ordinal) { ["returnId"] = context.ReturnId, ["exchangeKey"] = key };
                // Duplicate detection on loop-exchanges drops a resend with this id; the handler's ledger step drops the rest.
                await _sender.SendAsync(new OutboundMessage(QueueNames.LoopExchanges, body, messageId, null, properties), ct).ConfigureAwait(false);
                return messageId;
            }, cancellationToken).ConfigureAwait(false);
            LogEnqueued(_logger, context.ReturnId, key, step.Created);
        }
    }

    // Shadow: the ExchangeEnqueued step is the hand-off's only record, so recording it (or sending) here would leave
    // the order made "in shadow" and never made once live. Each hand-off is planned instead, then the family stops.
    private async Task PlanAsync(ReturnContext context, CancellationToken cancellationToken)
    {
        PlannedWrite? first = null;
        foreach ((var key, var items) in ExchangeGroups.Of(context.Return))
        {
            var body = JsonSerializer.Serialize(new ExchangeMessage(context.ReturnId, key));
            var write = new PlannedWrite(PlannedHandOff, QueueNames.LoopExchanges, "send", null, context.ReturnId, MessageId(context.ReturnId, key), items.Sum(e => e.Price - e.Discount), body, _time.GetUtcNow());
            if (_plan is not null)
            {
                await _plan.RecordAsync(write, cancellationToken).ConfigureAwait(false);
            }

            first ??= write;
        }

        if (first is not null)
        {
            throw new ShadowWritePlannedException(first);
        }
    }

    /// <summary><see cref="PlannedWrite.Target"/> of a planned hand-off to one of the integration's own queues.</summary>
    public const string PlannedHandOff = "Queue";

    [LoggerMessage(EventId = 4651, Level = LogLevel.Information, Message = "Return {ReturnId}: exchange {Key} handed to loop-exchanges (now: {Created})")]
    private static partial void LogEnqueued(ILogger logger, string returnId, string key, bool created);
}
