using System.Collections.Frozen;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Exchanges;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;

namespace LoopFulfil.Core.Webhooks;

/// <summary>Which top-level field of an event body holds the Loop return id.</summary>
public enum ReturnIdField
{
    /// <summary><c>id</c> (return events: the body is the return).</summary>
    Id,

    /// <summary><c>return_id</c> only (a gift card's <c>id</c> is the gift card, and may be null).</summary>
    ReturnId,

    /// <summary><c>return_id</c> when it is an id, else <c>id</c> (labels come both ways; restock documents <c>id</c>).</summary>
    ReturnIdThenId,
}

/// <summary>Who puts an event with this trigger on a queue.</summary>
public enum TriggerSource
{
    /// <summary>A signed Loop webhook, through the ingress.</summary>
    Loop,

    /// <summary>The integration itself (inspection, exchange, posting follow-ups): never accepted from a webhook.</summary>
    Integration,
}

/// <summary>Whether a merchant subscribes the trigger in Loop (what <c>loopfulfil audit</c> checks).</summary>
public enum TriggerSubscription
{
    /// <summary>Without it returns never reach Fulfil.</summary>
    Required,

    /// <summary>Routed and used by a stage; subscribing is a choice.</summary>
    Optional,

    /// <summary>Nothing acts on it (recorded only, or parked): do not subscribe.</summary>
    NotNeeded,
}

/// <summary>One trigger: where its events go, or that they are parked and as what.</summary>
/// <param name="Trigger">The <c>trigger</c> field (and message property).</param>
/// <param name="Topic">The <c>topic</c> Loop sends with it.</param>
/// <param name="Source">Who sends it.</param>
/// <param name="Queue">The queue its events go to (its handler is that queue's entry point); null: parked at the ingress.</param>
/// <param name="ReturnIdIn">Where the body holds the return id.</param>
/// <param name="Subscription">Whether a merchant subscribes it.</param>
/// <param name="ParkedAs">For a parked trigger, the exception category (and so the owner) its events are parked as.</param>
/// <param name="Purpose">What the integration does with it, for people.</param>
public sealed record TriggerRoute(
    string Trigger,
    string Topic,
    TriggerSource Source,
    string? Queue,
    ReturnIdField ReturnIdIn,
    TriggerSubscription Subscription,
    ExceptionCategory? ParkedAs,
    string Purpose)
{
    /// <summary>True when the ingress parks its events for a person instead of queueing them.</summary>
    public bool IsParked => Queue is null;

    /// <summary>True for the triggers whose body is a full return snapshot: Loop's <c>return</c> topic.</summary>
    public bool CarriesSnapshot => Source == TriggerSource.Loop && Topic == "return";
}

/// <summary>
/// The one list of triggers: the ingress routes and parks by it, the envelope reader takes the return id field from
/// it, the returns handler reads "carries a snapshot" from it, and the go-live audit checks subscriptions against
/// it. A trigger missing here is unknown: a signed event with it is parked as <see cref="ExceptionCategory.UnknownTopic"/>.
/// </summary>
public static class TriggerTable
{
    public static IReadOnlyList<TriggerRoute> All { get; } =
    [
        Loop(ReturnTriggers.ReturnCreated, "return", ReturnIdField.Id, TriggerSubscription.Required, "the return snapshot: authorisation, return order"),
        Loop(ReturnTriggers.ReturnUpdated, "return", ReturnIdField.Id, TriggerSubscription.Required, "the return snapshot: edits, state changes"),
        Loop(ReturnTriggers.ReturnClosed, "return", ReturnIdField.Id, TriggerSubscription.Required, "the return snapshot: refunds, exchanges, write-back"),
        Loop(ReturnTriggers.ReturnProcessingFailed, "return.processing", ReturnIdField.ReturnId, TriggerSubscription.Optional, "Loop's processing failed: outcome stages wait (ProcessingGate)"),
        Loop(ReturnTriggers.LabelCreated, "label", ReturnIdField.ReturnIdThenId, TriggerSubscription.Optional, "label tracking for the receipt plan"),
        Loop(ReturnTriggers.LabelUpdated, "label", ReturnIdField.ReturnIdThenId, TriggerSubscription.Optional, "label tracking for the receipt plan"),
        Loop(ReturnTriggers.LabelRequestIssued, "label.request", ReturnIdField.ReturnIdThenId, TriggerSubscription.NotNeeded, "recorded in the ledger; no stage acts on it"),
        Loop(ReturnTriggers.LabelRequestCancelled, "label.request", ReturnIdField.ReturnIdThenId, TriggerSubscription.NotNeeded, "recorded in the ledger; no stage acts on it"),
        Loop(ReturnTriggers.RestockRequested, "restock", ReturnIdField.ReturnIdThenId, TriggerSubscription.Optional, "restock instruction: inspection and processing evidence"),
        Loop(ReturnTriggers.GiftCardRequested, "giftcard", ReturnIdField.ReturnId, TriggerSubscription.Optional, "gift card issued: store credit amounts, processing evidence"),
        new(ReturnTriggers.ShipmentProcessed, "happy.returns.shipment", TriggerSource.Loop, Queue: null, ReturnIdField.ReturnIdThenId, TriggerSubscription.NotNeeded, ExceptionCategory.UnknownTopic,
            "Happy Returns drop-off shipments make no Fulfil document; parked so a person sees a subscription that should not exist"),
        Internal(InspectionService.Trigger, "inspection", "an inspection submitted through the API: restock or damage moves"),
        Internal(ExchangeOrderHandler.CreatedTrigger, "exchange", "the exchange order exists: write-back"),
        Internal(ScheduledPostingJob.PostedTrigger, "postings", "scheduled postings were posted: write-back"),
        Internal(ScheduledPostingJob.ReplanTrigger, "postings", "blocked postings are planned again by the refunds stage"),
    ];

    private static readonly FrozenDictionary<string, TriggerRoute> ByTrigger = All.ToFrozenDictionary(r => r.Trigger, StringComparer.Ordinal);

    /// <summary>Every trigger name, for the envelope reader to match without allocating.</summary>
    internal static string[] Names { get; } = [.. All.Select(r => r.Trigger)];

    /// <summary>The route of <paramref name="trigger"/>, or null when it is unknown.</summary>
    public static TriggerRoute? Find(string? trigger) => trigger is not null && ByTrigger.TryGetValue(trigger, out var route) ? route : null;

    /// <summary>True when <paramref name="trigger"/>'s body is a full return snapshot (<c>return.created/updated/closed</c>).</summary>
    public static bool CarriesSnapshot(string? trigger) => Find(trigger)?.CarriesSnapshot == true;

    /// <summary>The Loop triggers a merchant subscribes with <paramref name="subscription"/>.</summary>
    public static string[] LoopTriggers(TriggerSubscription subscription) =>
        [.. All.Where(r => r.Source == TriggerSource.Loop && r.Subscription == subscription).Select(r => r.Trigger)];

    private static TriggerRoute Loop(string trigger, string topic, ReturnIdField returnIdIn, TriggerSubscription subscription, string purpose) =>
        new(trigger, topic, TriggerSource.Loop, QueueNames.LoopReturns, returnIdIn, subscription, ParkedAs: null, purpose);

    private static TriggerRoute Internal(string trigger, string topic, string purpose) =>
        new(trigger, topic, TriggerSource.Integration, QueueNames.LoopReturns, ReturnIdField.ReturnId, TriggerSubscription.NotNeeded, ParkedAs: null, purpose);
}
