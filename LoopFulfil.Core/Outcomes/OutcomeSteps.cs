namespace LoopFulfil.Core.Outcomes;

/// <summary>Ledger step names of the outcome stages (see <see cref="Returns.ReturnSteps"/> for the rules).</summary>
public static class OutcomeSteps
{
    /// <summary><c>receipt:{shipmentId}</c>: the customer return shipment was received into quarantine.</summary>
    public static string Receipt(int shipmentId) => "receipt:" + shipmentId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary><c>restock:{locationCode}</c>: the internal shipment out of quarantine to that location is done.</summary>
    public static string Restock(string locationCode) => "restock:" + locationCode;

    /// <summary>Units reported missing on inspection were reported (RestockDelayed) once.</summary>
    public const string MissingReported = "inspection-missing-reported";

    /// <summary>More units inspected than Fulfil received: reported once.</summary>
    public const string ShortfallReported = "restock-shortfall-reported";

    /// <summary>Every unit passed: Loop was asked to process the return.</summary>
    public const string LoopProcess = "inspection-process";

    /// <summary>A unit failed: the return was flagged in Loop with a note.</summary>
    public const string LoopFlag = "inspection-flag";

    /// <summary><c>posting:{kind}</c>: the financial document exists and is posted.</summary>
    public static string Posting(string kind) => "posting:" + kind;

    /// <summary><c>exchange-enqueued:{key}</c>: the exchange was handed to <c>loop-exchanges</c>.</summary>
    public static string ExchangeEnqueued(string key) => "exchange-enqueued:" + key;

    /// <summary><c>exchange-order:{key}</c>: the exchange sales order exists (document id = Fulfil sale id).</summary>
    public static string ExchangeOrder(string key) => "exchange-order:" + key;

    /// <summary><c>exchange-loop-order:{key}</c>: the exchange order was pushed to Loop.</summary>
    public static string ExchangeLoopOrder(string key) => "exchange-loop-order:" + key;

    /// <summary><c>exchange-upsell-payment</c>: the upsell Loop collected is booked as a payment on the exchange invoice (<c>LOOP-{id}-UPSELL</c>).</summary>
    public const string ExchangeUpsellPayment = "exchange-upsell-payment";

    /// <summary>
    /// <c>exchange-settlement</c>: the return's receivable lines are reconciled (document id = Fulfil reconciliation id).
    /// The name predates settling returns without an exchange and stays, so settled returns are not settled again.
    /// </summary>
    public const string ReturnSettlement = "exchange-settlement";

    /// <summary>The note with the Fulfil document numbers was added to the Loop return.</summary>
    public const string WriteBackNote = "writeback-note";

    /// <summary>The posted credit note was recorded as a refund on the Loop order (document id = Fulfil sale id of the order).</summary>
    public const string WriteBackOrderRefund = "writeback-order-refund";
}

/// <summary>Keys of <see cref="Returns.ReturnContext.Items"/> the outcome stages share.</summary>
internal static class OutcomeItems
{
    public const string Plan = "outcomes.plan";
}
