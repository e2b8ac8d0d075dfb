using System.Globalization;
using System.Text;
using System.Text.Json;
using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Loop.Json;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Skus;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.Core.WriteBack;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Exchanges;

/// <summary>What <see cref="ExchangeOrderHandler.HandleAsync"/> did (the message is complete unless it threw).</summary>
public enum ExchangeOutcome
{
    /// <summary>The sales order was created (or found) and confirmed.</summary>
    Created,

    /// <summary>A permanent problem was recorded as ExchangeOrderFailed (owner CX, alerted at once).</summary>
    Failed,
}

/// <param name="SaleId">The Fulfil sales order, when one exists.</param>
public sealed record ExchangeHandlingResult(ExchangeOutcome Outcome, string? ReturnId, string? Key, int? SaleId, ExceptionRecord? Exception);

/// <summary>
/// The consumer of <c>loop-exchanges</c> (Functions: Service Bus trigger; local host: the dispatcher). Creates the
/// exchange as a new confirmed Fulfil sales order with the exchange priority and channel, the customer of the original
/// sale, shipped to the address on the return (found or created on the customer party; the original sale's shipment
/// address when the return has no usable one) and invoiced to the original's invoice address, one line per exchanged item; reference/channel identifier <c>LOOP-{id}-EXC</c> (or
/// <c>LOOP-{id}-{EXC-order}</c>) — once, by ledger step and lookup. Then (WriteBack:ExchangeOrders) pushes the order to
/// Loop, and enqueues the return for reconciliation so the write-back note can name it.
/// The order step is leased (<see cref="ReturnLedger"/>, ADR 0006):
/// the stage's hand-off, a replay and the nightly repair can all deliver one exchange, and while one of them works the
/// step the others back off as transient (<see cref="StepLeaseHeldException"/>) instead of creating a second order.
/// Transient failures throw (redelivery); permanent ones become ExchangeOrderFailed records that keep the message, so
/// <see cref="ExceptionService.ReplayAsync"/> re-sends it to <c>loop-exchanges</c> once the cause is fixed.
/// </summary>
public sealed partial class ExchangeOrderHandler
{
    /// <summary>Trigger of the reconciliation message sent once the exchange order exists.</summary>
    public const string CreatedTrigger = "exchange.created";

    private readonly ReturnLedger _ledger;
    private readonly IFulfilClient _fulfil;
    private readonly FulfilSkuCatalog _catalog;
    private readonly ILoopClient _loop;
    private readonly IReturnExceptionReporter _reporter;
    private readonly IMessageSender _sender;
    private readonly IOptionsMonitor<WriteBackOptions> _writeBack;
    private readonly IOptionsMonitor<FulfilOptions> _fulfilOptions;
    private readonly TimeProvider _time;
    private readonly ILogger<ExchangeOrderHandler> _logger;
    private readonly LoopReferences _references;

    public ExchangeOrderHandler(ReturnLedger ledger, IFulfilClient fulfil, FulfilSkuCatalog catalog, ILoopClient loop, IReturnExceptionReporter reporter, IMessageSender sender, IOptionsMonitor<WriteBackOptions> writeBack, IOptionsMonitor<FulfilOptions> fulfilOptions, LoopReferences references, TimeProvider time, ILogger<ExchangeOrderHandler> logger)
    {
        _references = references;
        _fulfilOptions = fulfilOptions;
        _ledger = ledger;
        _fulfil = fulfil;
        _catalog = catalog;
        _loop = loop;
        _reporter = reporter;
        _sender = sender;
        _writeBack = writeBack;
        _time = time;
        _logger = logger;
    }

    public async Task<ExchangeHandlingResult> HandleAsync(InboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ExchangeMessage? request = null;
        try
        {
            request = JsonSerializer.Deserialize<ExchangeMessage>(message.Body.Span);
        }
        catch (JsonException)
        {
            // Reported below like any other unusable message.
        }

        if (request is null || string.IsNullOrWhiteSpace(request.ReturnId) || string.IsNullOrWhiteSpace(request.Key))
        {
            return await FailAsync(message, message.Properties.GetValueOrDefault("returnId"), "?", $"Message {message.MessageId} on {QueueNames.LoopExchanges} does not name a return and an exchange.", cancellationToken).ConfigureAwait(false);
        }

        try
        {
            return await CreateAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (PermanentIntegrationException ex)
        {
            LogFailed(_logger, ex, request.ReturnId, request.Key);
            return await FailAsync(message, request.ReturnId, request.Key, $"Exchange {_references.Of(request.ReturnId, request.Key)}: {ex.Message}", cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<ExchangeHandlingResult> CreateAsync(ExchangeMessage request, CancellationToken cancellationToken)
    {
        var returnId = request.ReturnId;
        var stored = await _ledger.GetSnapshotAsync(returnId, cancellationToken).ConfigureAwait(false);
        if (stored is null || stored.Body.Length == 0)
        {
            throw new PermanentIntegrationException($"No snapshot of return {returnId} is stored.");
        }

        var r = LoopJson.Deserialize<LoopReturn>(stored.Body);
        if (ReturnStates.Normalise(r.State) != ReturnStates.Closed)
        {
            throw new PermanentIntegrationException($"Return {returnId} is {r.State}, not closed: Loop has not confirmed the exchange.");
        }

        if (!ExchangeGroups.Of(r).TryGetValue(request.Key, out var items))
        {
            throw new PermanentIntegrationException($"Return {returnId} has no exchange {request.Key} to ship.");
        }

        var original = await OriginalSaleAsync(returnId, r, cancellationToken).ConfigureAwait(false);
        var party = original.PartyId ?? throw new PermanentIntegrationException($"Original sale {original.Reference ?? original.Id.ToString(CultureInfo.InvariantCulture)} has no customer.");
        string[] skus = [.. items.Select(i => (i.Sku ?? string.Empty).Trim()).Distinct(StringComparer.Ordinal)];
        if (skus.Any(string.IsNullOrEmpty))
        {
            throw new PermanentIntegrationException($"An exchange item of return {returnId} has no SKU.");
        }

        var products = await _catalog.GetProductsAsync(skus, cancellationToken).ConfigureAwait(false);
        string[] unusable = [.. skus.Where(s => !products.TryGetValue(s, out var p) || !p.Active)];
        if (unusable.Length > 0)
        {
            throw new PermanentIntegrationException($"Exchange SKU(s) {string.Join(", ", unusable)} are missing or archived in Fulfil.");
        }

        FulfilSaleOrderLine[] lines = [.. items
            .GroupBy(i => (Sku: i.Sku!.Trim(), Price: i.Price - i.Discount))
            .OrderBy(g => g.Key.Sku, StringComparer.Ordinal)
            .Select(g => new FulfilSaleOrderLine(products[g.Key.Sku].Id, g.Count(), g.Key.Price, g.First().Title ?? g.Key.Sku))];
        var reference = _references.Of(returnId, request.Key);
        var shipTo = await ShipToAsync(returnId, request.Key, r, party, original, cancellationToken).ConfigureAwait(false);
        var order = new FulfilSaleOrderRequest(
            reference,
            reference,
            party,
            shipTo,
            original.InvoiceAddressId,
            DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime),
            $"Loop exchange for return {returnId} (order {r.OrderName})",
            lines);
        var step = await _ledger.EnsureStepAsync(
            returnId,
            OutcomeSteps.ExchangeOrder(request.Key),
            async ct => (await _fulfil.FindSaleByChannelIdentifierAsync(reference, ct).ConfigureAwait(false))?.Id.ToString(CultureInfo.InvariantCulture),
            async ct => (await _fulfil.CreateSaleOrderAsync(order, ct).ConfigureAwait(false)).Id.ToString(CultureInfo.InvariantCulture),
            cancellationToken).ConfigureAwait(false);
        var saleId = int.Parse(step.DocumentId, CultureInfo.InvariantCulture);
        // Confirmed so the warehouse ships it; a no-op when a redelivery finds it confirmed.
        var sale = await _fulfil.ConfirmSaleOrderAsync(saleId, cancellationToken).ConfigureAwait(false);
        LogCreated(_logger, returnId, request.Key, saleId, sale.Number, step.Created);

        ExceptionRecord? loopProblem = null;
        if (_writeBack.CurrentValue.ExchangeOrders)
        {
            loopProblem = await PushToLoopAsync(returnId, request.Key, r, sale, cancellationToken).ConfigureAwait(false);
        }

        await EnqueueReconcileAsync(returnId, request.Key, cancellationToken).ConfigureAwait(false);
        return new ExchangeHandlingResult(ExchangeOutcome.Created, returnId, request.Key, saleId, loopProblem);
    }

    /// <summary>
    /// The return's address as a <c>party.address</c> of the customer (reused when equal, so redelivery adds none), or
    /// the original sale's shipment address when the return carries no usable address or the setting is off.
    /// </summary>
    private async Task<int?> ShipToAsync(string returnId, string key, LoopReturn r, int party, FulfilSale original, CancellationToken cancellationToken)
    {
        if (!_fulfilOptions.CurrentValue.ExchangeShipToReturnAddress)
        {
            return original.ShipmentAddressId;
        }

        var address = ExchangeAddresses.ShipTo(r.Address, out var unusable);
        if (address is null)
        {
            LogOriginalAddress(_logger, returnId, key, unusable, original.Id);
            return original.ShipmentAddressId;
        }

        var ensured = await _fulfil.EnsurePartyAddressAsync(party, address, cancellationToken).ConfigureAwait(false);
        LogReturnAddress(_logger, returnId, key, ensured.Id, party, ensured.Created);
        return ensured.Id;
    }

    private async Task<FulfilSale> OriginalSaleAsync(string returnId, LoopReturn r, CancellationToken cancellationToken)
    {
        var known = await _ledger.GetStepAsync(returnId, ReturnSteps.OriginalSale, cancellationToken).ConfigureAwait(false);
        if (known is { Status: StepStatus.Done } && int.TryParse(known.DocumentId, NumberStyles.None, CultureInfo.InvariantCulture, out var saleId))
        {
            return await _fulfil.GetSaleAsync(saleId, cancellationToken).ConfigureAwait(false);
        }

        return await _fulfil.FindOriginalSaleAsync(r.OrderName ?? string.Empty, r.ProviderOrderId, cancellationToken).ConfigureAwait(false)
            ?? throw new PermanentIntegrationException($"No Fulfil sale matches order {r.OrderName} of return {returnId}.");
    }

    /// <summary>Upserts the order in Loop (ids as CommerceSync maps them: Fulfil ids as external ids). A refusal is recorded, the order stands.</summary>
    private async Task<ExceptionRecord?> PushToLoopAsync(string returnId, string key, LoopReturn r, FulfilSale sale, CancellationToken cancellationToken)
    {
        var currency = string.IsNullOrWhiteSpace(r.Currency) ? "USD" : r.Currency.Trim();
        var upsert = new LoopOrderUpsert
        {
            ExternalId = sale.Id.ToString(CultureInfo.InvariantCulture),
            Name = sale.Number ?? sale.Reference ?? _references.Of(returnId, key),
            Status = LoopOrderStatus.Active,
            Customer = sale.PartyId is int party ? LoopIdReference.ByExternalId(party.ToString(CultureInfo.InvariantCulture)) : null,
            TotalPrice = LoopMoney.FromDecimal(sale.Lines.Sum(l => l.Quantity * l.UnitPrice), currency),
            LineItems = [.. sale.Lines.Where(l => l.ProductId is not null).Select(l => new LoopOrderLineItem
            {
                ExternalId = l.Id.ToString(CultureInfo.InvariantCulture),
                ProductVariant = LoopIdReference.ByExternalId(l.ProductId!.Value.ToString(CultureInfo.InvariantCulture)),
                Quantity = (int)decimal.Round(l.Quantity),
                UnitPrice = LoopMoney.FromDecimal(l.UnitPrice, currency),
            })],
            CreatedAt = _time.GetUtcNow(),
        };
        try
        {
            await _ledger.EnsureStepAsync(returnId, OutcomeSteps.ExchangeLoopOrder(key), async ct =>
            {
                var pushed = await _loop.UpsertOrderAsync(upsert, ct).ConfigureAwait(false);
                return pushed.Id ?? upsert.ExternalId;
            }, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (PermanentIntegrationException ex)
        {
            LogLoopRefused(_logger, ex, returnId, key);
            return await _reporter.ReportAsync(new ExceptionRaise(ExceptionCategory.ExchangeOrderFailed, returnId, $"Exchange order {upsert.Name} exists in Fulfil but Loop refused it as an order: {ex.Message}")
            { DetailKey = "loop:" + key, Source = "exchanges" }, cancellationToken).ConfigureAwait(false);
        }
    }

    private Task EnqueueReconcileAsync(string returnId, string key, CancellationToken cancellationToken)
    {
        var dedupe = $"{CreatedTrigger}-{key}";
        var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, string> { ["trigger"] = CreatedTrigger, ["return_id"] = returnId, ["key"] = key }));
        var properties = new Dictionary<string, string>(StringComparer.Ordinal) { [WebhookMessagePropertyNames.DedupeKey] = dedupe };
        // The body carries no time.
        return _sender.SendAsync(IntegrationMessages.ToLoopReturns(CreatedTrigger, returnId, body, $"{dedupe}-{returnId}", eventTime: null, properties), cancellationToken);
    }

    private async Task<ExchangeHandlingResult> FailAsync(InboundMessage inbound, string? returnId, string key, string message, CancellationToken cancellationToken)
    {
        var record = await _reporter.ReportAsync(new ExceptionRaise(ExceptionCategory.ExchangeOrderFailed, returnId, message)
        {
            // The exchange message itself is what a replay re-sends: the ledger step and the channel identifier
            // lookup keep a replay to one order however often it runs.
            RawEvent = inbound.Body,
            ReplayQueue = QueueNames.LoopExchanges,
            DetailKey = key,
            Source = "exchanges",
        }, cancellationToken).ConfigureAwait(false);
        return new ExchangeHandlingResult(ExchangeOutcome.Failed, returnId, key, null, record);
    }

    [LoggerMessage(EventId = 4661, Level = LogLevel.Information, Message = "Return {ReturnId}: exchange {Key} is sales order {SaleId} ({Number}, created now: {Created})")]
    private static partial void LogCreated(ILogger logger, string returnId, string key, int saleId, string? number, bool created);

    [LoggerMessage(EventId = 4662, Level = LogLevel.Warning, Message = "Return {ReturnId}: exchange {Key} failed permanently; raising ExchangeOrderFailed")]
    private static partial void LogFailed(ILogger logger, Exception exception, string returnId, string key);

    [LoggerMessage(EventId = 4664, Level = LogLevel.Information, Message = "Return {ReturnId}: exchange {Key} ships to party address {AddressId} of party {PartyId} from the return (created now: {Created})")]
    private static partial void LogReturnAddress(ILogger logger, string returnId, string key, int addressId, int partyId, bool created);

    [LoggerMessage(EventId = 4665, Level = LogLevel.Information, Message = "Return {ReturnId}: exchange {Key} ships to the shipment address of original sale {SaleId}: the return's address {Reason}")]
    private static partial void LogOriginalAddress(ILogger logger, string returnId, string key, string? reason, int saleId);

    [LoggerMessage(EventId = 4663, Level = LogLevel.Warning, Message = "Return {ReturnId}: Loop refused exchange order {Key}")]
    private static partial void LogLoopRefused(ILogger logger, Exception exception, string returnId, string key);
}
