using LoopFulfil.Core.Errors;
using LoopFulfil.Core.Fulfil;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Loop;
using LoopFulfil.Core.Loop.Models;
using LoopFulfil.Core.Outcomes;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Webhooks;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.GoLive;

/// <summary>
/// <c>loopfulfil audit</c>: what a merchant must know before switching the integration on. Reads Fulfil and Loop and
/// changes nothing. Each check has a verdict, the team that owns the fix and how to fix it; workflow shapes of recent
/// returns say what the integration supports today (docs/go-live.md).
/// </summary>
public sealed class GoLiveAudit(
    IFulfilClient fulfil,
    IFulfilOutcomesClient outcomes,
    ILoopClient loop,
    IOptions<FulfilOptions> fulfilOptions,
    IOptions<RefundsOptions> refundsOptions,
    IOptions<WebhookOptions> webhookOptions,
    IOptions<GoLiveAuditOptions> auditOptions,
    TimeProvider time)
{
    /// <summary>Triggers the returns path needs; without them returns never reach Fulfil.</summary>
    internal static readonly string[] RequiredTriggers = TriggerTable.LoopTriggers(TriggerSubscription.Required);

    /// <summary>Triggers the integration routes but does not need; subscribing is a choice.</summary>
    internal static readonly string[] OptionalTriggers = TriggerTable.LoopTriggers(TriggerSubscription.Optional);

    private readonly FulfilOptions _fulfil = fulfilOptions.Value;
    private readonly RefundsOptions _refunds = refundsOptions.Value;
    private readonly GoLiveAuditOptions _options = auditOptions.Value;

    public async Task<GoLiveAuditReport> RunAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var findings = new List<AuditFinding>();
        await FulfilSetupAsync(findings, cancellationToken).ConfigureAwait(false);
        await LoopSetupAsync(findings, cancellationToken).ConfigureAwait(false);
        var returns = await RecentReturnsAsync(now, findings, cancellationToken).ConfigureAwait(false);
        await CatalogueAndOrdersAsync(returns, findings, cancellationToken).ConfigureAwait(false);
        return new GoLiveAuditReport(now, _options.LookbackDays, findings, GoLiveWorkflow.Shapes(returns, _refunds, _fulfil));
    }

    private async Task FulfilSetupAsync(List<AuditFinding> findings, CancellationToken ct)
    {
        // Fulfil's gift-card model is read only with Refunds__StoreCreditDocument=GiftCard; Tryton has none.
        foreach (var access in await fulfil.ProbeModelAccessAsync(_refunds.StoreCreditDocument == StoreCreditDocument.GiftCard, ct).ConfigureAwait(false))
        {
            findings.Add(access.Problem is null
                ? Finding("Fulfil", $"read {access.Model}", AuditVerdict.Pass, "operations", "the API key reads it", "")
                : Finding("Fulfil", $"read {access.Model}", AuditVerdict.Fail, "operations", access.Problem, "give the API key's user access to this model"));
        }

        var locations = await fulfil.GetAllLocationsAsync(ct).ConfigureAwait(false);
        var warehouse = locations.FirstOrDefault(l => l.Id == _fulfil.WarehouseId);
        findings.Add(warehouse is { Type: "warehouse" }
            ? Finding("Fulfil", "warehouse", AuditVerdict.Pass, "operations", $"{warehouse.Code} ({warehouse.Name})", "")
            : Finding("Fulfil", "warehouse", AuditVerdict.Fail, "operations", warehouse is null ? $"no location with id {_fulfil.WarehouseId}" : $"location {_fulfil.WarehouseId} is a '{warehouse.Type}', not a warehouse", "set Fulfil__WarehouseId to the warehouse returns go to"));

        FulfilLocationNode? Find(string code) => locations.FirstOrDefault(l => string.Equals(l.Code, code, StringComparison.Ordinal));
        var quarantine = Find(_fulfil.QuarantineLocationCode);
        var sellable = Find(_fulfil.SellableLocationCode);
        var damaged = Find(_fulfil.DamagedLocationCode);
        var flow = warehouse is { Type: "warehouse" } ? await outcomes.GetWarehouseFlowAsync(_fulfil.WarehouseId, ct).ConfigureAwait(false) : null;
        findings.Add(QuarantineFinding(quarantine, flow, locations));
        findings.Add(LocationFinding("sellable location", _fulfil.SellableLocationCode, sellable, locations, ["storage"], "Fulfil__SellableLocationCode", "the warehouse's storage location"));
        // Inspection moves damaged units from quarantine to a waste location of the warehouse, as Tryton's set-up has it.
        findings.Add(damaged is { Type: "lost_found" } && flow is not null && flow.WasteIds.Contains(damaged.Id)
            ? Finding("Fulfil", "damaged location", AuditVerdict.Pass, "operations", $"{damaged.Code} (lost_found, a waste location of the warehouse)", "")
            : LocationFinding("damaged location", _fulfil.DamagedLocationCode, damaged, locations, ["storage", "lost_found"], "Fulfil__DamagedLocationCode", "a storage or lost-and-found location of the warehouse (or one of its waste locations) for damaged goods"));
        if (quarantine is not null && sellable is not null && quarantine.Id == sellable.Id)
        {
            findings.Add(Finding("Fulfil", "quarantine kept apart", AuditVerdict.Fail, "operations", "quarantine and sellable are the same location: returned units would be sold before inspection", "create a quarantine location and set Fulfil__QuarantineLocationCode"));
        }

        var accounts = new List<(string Name, string Setting, string Code, bool Needed)>
        {
            ("returns clearing account", "Fulfil__ReturnsClearingAccountCode", _fulfil.ReturnsClearingAccountCode, true),
            ("gift-card liability account", "Fulfil__GiftCardLiabilityAccountCode", _fulfil.GiftCardLiabilityAccountCode, _refunds.StoreCreditDocument == StoreCreditDocument.Journal),
            ("handling fee account", "Refunds__HandlingFeeAccountCode", _refunds.HandlingFeeAccountCode, true),
        };
        var codes = accounts.Where(a => !string.IsNullOrWhiteSpace(a.Code)).Select(a => a.Code).ToList();
        var found = codes.Count == 0 ? [] : await fulfil.GetAccountsByCodesAsync(codes, ct).ConfigureAwait(false);
        foreach (var (name, setting, code, needed) in accounts.Where(a => a.Needed))
        {
            var account = found.FirstOrDefault(a => string.Equals(a.Code, code, StringComparison.Ordinal));
            findings.Add(string.IsNullOrWhiteSpace(code)
                ? Finding("Fulfil", name, AuditVerdict.Warn, "finance", $"{setting} is not set: returns that need it raise a finance exception instead of posting", $"set {setting} to the account finance chose")
                : account is null
                    ? Finding("Fulfil", name, AuditVerdict.Fail, "finance", $"Fulfil has no account with code {code}", $"create account {code} in Fulfil or correct {setting}")
                    : string.IsNullOrWhiteSpace(account.Type)
                        ? Finding("Fulfil", name, AuditVerdict.Fail, "finance", $"account {code} is a view account (no type) and cannot take entries", $"point {setting} at a postable account")
                        : Finding("Fulfil", name, AuditVerdict.Pass, "finance", $"{code} {account.Name} ({account.Type})", ""));
        }

        var journal = await fulfil.GetJournalNameAsync(_fulfil.JournalId, ct).ConfigureAwait(false);
        findings.Add(journal is null
            ? Finding("Fulfil", "journal", AuditVerdict.Fail, "finance", $"no account.journal with id {_fulfil.JournalId}", "set Fulfil__JournalId to the journal store-credit entries go to")
            : Finding("Fulfil", "journal", AuditVerdict.Pass, "finance", journal, ""));
    }

    private async Task LoopSetupAsync(List<AuditFinding> findings, CancellationToken ct)
    {
        var secret = webhookOptions.Value;
        findings.Add(string.IsNullOrWhiteSpace(secret.Secret) && string.IsNullOrWhiteSpace(secret.SecondarySecret)
            ? Finding("Loop", "webhook secret", AuditVerdict.Fail, "operations", "Webhooks__Secret is not set: every delivery would be refused", "copy the secret from Loop → Developer Tools → Webhooks")
            : Finding("Loop", "webhook secret", AuditVerdict.Pass, "operations", "set (Loop's signature is checked on the first delivery)", ""));

        IReadOnlyList<LoopWebhookSubscription> subscriptions;
        try
        {
            subscriptions = await loop.ListWebhooksAsync(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is PermanentIntegrationException or TransientIntegrationException)
        {
            findings.Add(Finding("Loop", "API key", AuditVerdict.Fail, "operations", $"listing webhooks failed: {ex.Message}", "check Loop__ApiKey and its scopes (webhooks, returns)"));
            return;
        }

        findings.Add(Finding("Loop", "API key", AuditVerdict.Pass, "operations", "lists webhooks", ""));
        var url = _options.WebhookUrl.Trim();
        var active = subscriptions.Where(s => !string.Equals(s.Status, "inactive", StringComparison.OrdinalIgnoreCase)).ToList();
        bool Ours(LoopWebhookSubscription s) => url.Length > 0 && string.Equals(s.Url?.TrimEnd('/'), url.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);
        foreach (var trigger in RequiredTriggers)
        {
            var matching = active.Where(s => s.Trigger == trigger).ToList();
            findings.Add(matching.Count == 0
                ? Finding("Loop", $"subscription {trigger}", AuditVerdict.Fail, "operations", "no active subscription: these returns never reach Fulfil", $"subscribe {trigger} to {(url.Length > 0 ? url : "the Functions app's /api/loop/webhooks")}")
                : url.Length == 0
                    ? Finding("Loop", $"subscription {trigger}", AuditVerdict.Warn, "operations", $"subscribed to {string.Join(", ", matching.Select(s => s.Url))}; Audit__WebhookUrl is not set, so the URL was not checked", "set Audit__WebhookUrl to the URL Loop must call")
                    : matching.Any(Ours)
                        ? Finding("Loop", $"subscription {trigger}", AuditVerdict.Pass, "operations", url, "")
                        : Finding("Loop", $"subscription {trigger}", AuditVerdict.Fail, "operations", $"subscribed to {string.Join(", ", matching.Select(s => s.Url))}, not to {url}", $"point the {trigger} subscription at {url}"));
        }

        foreach (var s in active.Where(Ours).Where(s => s.Trigger is not null && !RequiredTriggers.Contains(s.Trigger) && !OptionalTriggers.Contains(s.Trigger)))
        {
            findings.Add(Finding("Loop", $"subscription {s.Trigger}", AuditVerdict.Warn, "operations", "the integration does not handle this trigger: every delivery would be parked as an exception", $"remove the {s.Trigger} subscription"));
        }
    }

    private async Task<IReadOnlyList<LoopReturn>> RecentReturnsAsync(DateTimeOffset now, List<AuditFinding> findings, CancellationToken ct)
    {
        var returns = new List<LoopReturn>();
        try
        {
            await foreach (var r in loop.ListReturnsAsync(new LoopReturnListQuery { From = now.AddDays(-Math.Max(1, _options.LookbackDays)), To = now }, ct).ConfigureAwait(false))
            {
                returns.Add(r);
            }
        }
        catch (Exception ex) when (ex is PermanentIntegrationException or TransientIntegrationException)
        {
            findings.Add(Finding("Loop", "recent returns", AuditVerdict.Fail, "operations", $"listing returns failed: {ex.Message}", "check Loop__ApiKey has the returns scope"));
        }

        return returns;
    }

    private async Task CatalogueAndOrdersAsync(IReadOnlyList<LoopReturn> returns, List<AuditFinding> findings, CancellationToken ct)
    {
        var skus = returns.SelectMany(r => r.LineItems.Select(l => l.Sku).Concat(r.Exchanges.Select(e => e.Sku)))
            .Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s!).Distinct(StringComparer.Ordinal).ToList();
        var products = skus.Count == 0 ? [] : await fulfil.GetProductsBySkusAsync(skus, ct).ConfigureAwait(false);
        var missing = skus.Where(s => !products.Any(p => p.Sku == s)).ToList();
        var inactive = skus.Where(s => products.Any(p => p.Sku == s) && !products.Any(p => p.Sku == s && p.Active)).ToList();
        findings.Add(missing.Count == 0
            ? Finding("Catalogue", "SKUs of recent returns in Fulfil", AuditVerdict.Pass, "merchandising", $"{skus.Count} SKUs found", "")
            : Finding("Catalogue", "SKUs of recent returns in Fulfil", AuditVerdict.Fail, "merchandising", $"{missing.Count} of {skus.Count} not in Fulfil: {Sample(missing)}", "create the products in Fulfil or correct the SKUs in the shop"));
        if (inactive.Count > 0)
        {
            findings.Add(Finding("Catalogue", "SKUs of recent returns active", AuditVerdict.Warn, "merchandising", $"{inactive.Count} archived in Fulfil: {Sample(inactive)}", "reactivate them, or expect SkuArchived exceptions for their returns"));
        }

        var unresolved = new List<string>();
        var origins = new List<int>();
        foreach (var group in returns.Where(r => r.OrderName is not null).GroupBy(r => (r.OrderName, r.ProviderOrderId)))
        {
            var sale = await fulfil.FindOriginalSaleAsync(group.Key.OrderName!, group.Key.ProviderOrderId, ct).ConfigureAwait(false);
            if (sale is null)
            {
                unresolved.Add(group.Key.OrderName!);
            }
            else
            {
                origins.Add(sale.Id);
            }
        }

        var orders = returns.Select(r => r.OrderName).Distinct().Count();
        findings.Add(unresolved.Count == 0
            ? Finding("Catalogue", "orders of recent returns in Fulfil", AuditVerdict.Pass, "operations", $"{orders} orders found", "")
            : Finding("Catalogue", "orders of recent returns in Fulfil", AuditVerdict.Fail, "operations", $"{unresolved.Count} of {orders} orders not found: {Sample(unresolved)}", "check Fulfil__SaleLookup and that the shop's orders reach Fulfil"));

        // A return sale that LoopFulfil did not make (its channel identifier is not a Loop return id) means another path
        // already brings these returns into Fulfil: going live would post each of them twice.
        var loopIds = returns.Select(r => r.Id).Where(i => i is not null).ToHashSet(StringComparer.Ordinal);
        var others = origins.Count == 0 ? [] : (await fulfil.GetReturnSalesAsync(origins.Distinct().ToList(), ct).ConfigureAwait(false))
            .Where(s => s.Sale.ChannelIdentifier is null || !loopIds.Contains(s.Sale.ChannelIdentifier)).ToList();
        findings.Add(others.Count == 0
            ? Finding("Double path", "returns reaching Fulfil another way", AuditVerdict.Pass, "operations", "no return orders on these orders except LoopFulfil's", "")
            : Finding("Double path", "returns reaching Fulfil another way", AuditVerdict.Fail, "operations", $"{others.Count} return orders on recent Loop returns' orders were made another way (e.g. {Sample(others.Select(s => s.Sale.Reference ?? s.Sale.Number ?? s.Sale.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList())})", "switch off the other path (Fulfil's Shopify channel importing returns/refunds, or keying them by hand) at go-live, or every return is posted twice"));
    }

    // The rule the receipt stage enforces (QuarantineLocation.Unfit): a waste location of the warehouse (Tryton's
    // set-up: type lost_found, received through the return flow) or a location inside storage, never storage or input.
    private AuditFinding QuarantineFinding(FulfilLocationNode? quarantine, FulfilWarehouseFlow? flow, IReadOnlyList<FulfilLocationNode> all)
    {
        const string Setting = "Fulfil__QuarantineLocationCode";
        const string Wanted = "a waste location of the warehouse (or a location inside its storage), apart from sellable stock: inspection is the only way out of it";
        var code = _fulfil.QuarantineLocationCode;
        if (quarantine is null)
        {
            return Finding("Fulfil", "quarantine location", AuditVerdict.Fail, "operations", $"no location with code {code}", $"create {Wanted}, or correct {Setting}");
        }

        if (flow is null)
        {
            return Finding("Fulfil", "quarantine location", AuditVerdict.Fail, "operations", $"{code} cannot be checked without the warehouse", "fix the warehouse first");
        }

        var waste = flow.WasteIds.Contains(quarantine.Id);
        var insideStorage = flow.StorageId is { } storage && IsInside(quarantine, storage, all);
        return QuarantineLocation.Unfit(quarantine.Id, code, _fulfil.WarehouseId, flow, insideStorage) is { } problem
            ? Finding("Fulfil", "quarantine location", AuditVerdict.Fail, "operations", $"{code} ({quarantine.Type}): {problem}", $"use {Wanted}, or correct {Setting}")
            : Finding("Fulfil", "quarantine location", AuditVerdict.Pass, "operations", $"{code} ({quarantine.Type}, {(waste ? "a waste location of the warehouse" : "inside its storage")})", "");
    }

    private AuditFinding LocationFinding(string check, string code, FulfilLocationNode? location, IReadOnlyList<FulfilLocationNode> all, string[] types, string setting, string wanted) =>
        location is null
            ? Finding("Fulfil", check, AuditVerdict.Fail, "operations", $"no location with code {code}", $"create {wanted}, or correct {setting}")
            : !types.Contains(location.Type)
                ? Finding("Fulfil", check, AuditVerdict.Fail, "operations", $"{code} is of type '{location.Type}', not {string.Join(" or ", types)}", $"use {wanted}")
                : !InWarehouse(location, all)
                    ? Finding("Fulfil", check, AuditVerdict.Fail, "operations", $"{code} is not inside warehouse {_fulfil.WarehouseId}", $"use {wanted}")
                    : Finding("Fulfil", check, AuditVerdict.Pass, "operations", $"{code} ({location.Type})", "");

    private bool InWarehouse(FulfilLocationNode location, IReadOnlyList<FulfilLocationNode> all) => IsInside(location, _fulfil.WarehouseId, all);

    private static bool IsInside(FulfilLocationNode location, int root, IReadOnlyList<FulfilLocationNode> all)
    {
        var byId = all.ToDictionary(l => l.Id);
        var depth = 0;
        for (var parent = location.ParentId; parent is { } id && depth < 64; parent = byId.GetValueOrDefault(id)?.ParentId, depth++)
        {
            if (id == root)
            {
                return true;
            }
        }

        return false;
    }

    private static string Sample(List<string> items) => string.Join(", ", items.Take(5)) + (items.Count > 5 ? $" and {items.Count - 5} more" : "");

    private static AuditFinding Finding(string area, string check, AuditVerdict verdict, string owner, string detail, string fix) => new(area, check, verdict, owner, detail, fix);
}
