using System.Text.Json;
using LoopFulfil.Core.Reconciliation;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Fulfil;

/// <summary>
/// <see cref="IFulfilReconciliationReader"/> over <see cref="FulfilHttp"/>, on the <c>Fulfil</c> named client (one
/// resilience pipeline and circuit with <see cref="IFulfilClient"/>). One <c>search_read</c> per model per batch of
/// returns: an <c>OR</c> of <c>reference like 'LOOP-{id}-%'</c> clauses.
/// </summary>
public sealed class FulfilReconciliationReader : IFulfilReconciliationReader
{
    private readonly LoopReferences _references;
    private readonly FulfilHttp _http;
    private readonly FulfilOptions _options;
    private readonly IOptionsMonitor<ReconciliationOptions> _reconciliation;
    private readonly IOptionsMonitor<RefundsOptions> _refunds;

    public FulfilReconciliationReader(HttpClient httpClient, IOptions<FulfilOptions> options, IOptionsMonitor<ReconciliationOptions> reconciliation, IOptionsMonitor<RefundsOptions> refunds, LoopReferences references, TimeProvider timeProvider)
    {
        _references = references;
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _reconciliation = reconciliation;
        _refunds = refunds;
        _http = new FulfilHttp(httpClient, _options, timeProvider);
    }

    public async Task<IReadOnlyList<FulfilLoopDocument>> GetDocumentsOfReturnsAsync(IReadOnlyCollection<string> returnIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(returnIds);
        var found = new List<FulfilLoopDocument>();
        var batch = Math.Max(1, _reconciliation.CurrentValue.FulfilBatchSize);
        foreach (var ids in returnIds.Distinct(StringComparer.Ordinal).Chunk(batch))
        {
            string[] patterns = [.. ids.Select(id => _references.DocumentsOf(id) + "%")];
            found.AddRange(await SearchAsync(["OR", new object[] { "channel_identifier", "in", ids }, .. Likes(patterns, "reference")], "sale.sale", cancellationToken).ConfigureAwait(false));
            found.AddRange(await SearchAsync([new object[] { "type", "=", "out" }, (object[])["OR", .. Likes(patterns, _options.CreditNoteReferenceField)]], "account.invoice", cancellationToken).ConfigureAwait(false));
            found.AddRange(await SearchAsync(["OR", .. Likes(patterns, _options.JournalReferenceField)], "account.move", cancellationToken).ConfigureAwait(false));
            found.AddRange(await SearchAsync(["OR", .. Likes(patterns, "reference")], "stock.shipment.internal", cancellationToken).ConfigureAwait(false));
            if (ReadsGiftCards)
            {
                found.AddRange(await SearchAsync(["OR", .. Likes(patterns, _options.GiftCardReferenceField)], _options.GiftCardModel, cancellationToken).ConfigureAwait(false));
            }
        }

        // The like patterns are broader than the ids when an id holds '_' or '%': keep exact owners only.
        var wanted = returnIds.ToHashSet(StringComparer.Ordinal);
        return [.. found.Where(d => wanted.Contains(d.ReturnId)).DistinctBy(d => (d.Type, d.Id))];
    }

    public async Task<IReadOnlyList<FulfilLoopDocument>> GetLoopDocumentsCreatedAsync(DateTimeOffset createdFrom, DateTimeOffset createdBefore, CancellationToken cancellationToken)
    {
        object[] window = [new object[] { "create_date", ">=", createdFrom.UtcDateTime }, new object[] { "create_date", "<", createdBefore.UtcDateTime }];
        object Like(string field) => new object[] { field, "like", _references.Prefix + "%" };
        var found = new List<FulfilLoopDocument>();
        found.AddRange(await SearchAsync([.. window, Like("reference")], "sale.sale", cancellationToken).ConfigureAwait(false));
        found.AddRange(await SearchAsync([.. window, new object[] { "type", "=", "out" }, Like(_options.CreditNoteReferenceField)], "account.invoice", cancellationToken).ConfigureAwait(false));
        found.AddRange(await SearchAsync([.. window, Like(_options.JournalReferenceField)], "account.move", cancellationToken).ConfigureAwait(false));
        found.AddRange(await SearchAsync([.. window, Like("reference")], "stock.shipment.internal", cancellationToken).ConfigureAwait(false));
        if (ReadsGiftCards)
        {
            found.AddRange(await SearchAsync([.. window, Like(_options.GiftCardReferenceField)], _options.GiftCardModel, cancellationToken).ConfigureAwait(false));
        }

        return found;
    }

    public async Task<FulfilLoopDocument?> GetCreditNoteAsync(int invoiceId, string returnId, CancellationToken cancellationToken)
    {
        var found = await SearchAsync([new object[] { "id", "=", invoiceId }], "account.invoice", cancellationToken, returnId).ConfigureAwait(false);
        return found.Count > 0 ? found[0] : null;
    }

    // The gift card model exists only where Fulfil's gift card module is installed: merchants booking store credit as
    // journals may not have it, and a search on an unknown model fails.
    private bool ReadsGiftCards => _refunds.CurrentValue.StoreCreditDocument == StoreCreditDocument.GiftCard;

    private static IEnumerable<object> Likes(string[] patterns, string field) =>
        patterns.Select(p => (object)new object[] { field, "like", p });

    /// <param name="owner">The return a credit note belongs to when its reference does not say (read by id).</param>
    private async Task<IReadOnlyList<FulfilLoopDocument>> SearchAsync(object[] domain, string model, CancellationToken cancellationToken, string? owner = null)
    {
        var referenceField = model switch
        {
            "account.invoice" => _options.CreditNoteReferenceField,
            "account.move" => _options.JournalReferenceField,
            _ when model == _options.GiftCardModel => _options.GiftCardReferenceField,
            _ => "reference",
        };
        string[] fields = model switch
        {
            "sale.sale" => ["id", "reference", "number", "state", "channel_identifier", "total_amount", "create_date"],
            "account.invoice" => ["id", referenceField, "number", "state", "total_amount", "create_date"],
            "account.move" => ["id", referenceField, "number", "state", "create_date"],
            _ when model == _options.GiftCardModel => ["id", referenceField, "number", "state", "amount", "create_date"],
            _ => ["id", referenceField, "number", "state", "create_date"],
        };
        var rows = await _http.SearchReadAllAsync<JsonElement>(model, domain, fields, cancellationToken: cancellationToken).ConfigureAwait(false);
        Dictionary<int, decimal> debits = [];
        if (model == "account.move" && rows.Count > 0)
        {
            var lines = await _http.SearchReadAllAsync<JsonElement>("account.move.line", [new object[] { "move", "in", rows.Select(r => r.Id()).ToArray() }], ["id", "move", "debit"], cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (var line in lines)
            {
                if (line.IntOrNull("move") is int move)
                {
                    debits[move] = debits.GetValueOrDefault(move) + line.Dec("debit");
                }
            }
        }

        var documents = new List<FulfilLoopDocument>(rows.Count);
        foreach (var r in rows)
        {
            var reference = r.Str(referenceField);
            var parsed = _references.Parse(reference);
            LoopDocumentType type;
            string? returnId;
            switch (model)
            {
                case "sale.sale":
                    // A return order is keyed by channel_identifier (its reference is optional); exchanges by reference.
                    var exchange = parsed?.Suffix?.StartsWith(LoopReferences.Exchange, StringComparison.Ordinal) == true;
                    type = exchange ? LoopDocumentType.ExchangeOrder : LoopDocumentType.ReturnOrder;
                    returnId = exchange ? parsed!.ReturnId : r.Str("channel_identifier") ?? parsed?.ReturnId;
                    if (!exchange && parsed is { Suffix: not null })
                    {
                        continue;
                    }

                    break;
                case "account.invoice":
                    type = LoopDocumentType.CreditNote;
                    returnId = owner ?? parsed?.ReturnId;
                    break;
                case "account.move":
                    type = LoopDocumentType.JournalEntry;
                    returnId = parsed?.ReturnId;
                    break;
                case var m when m == _options.GiftCardModel:
                    type = LoopDocumentType.GiftCard;
                    returnId = parsed?.ReturnId;
                    break;
                default:
                    type = LoopDocumentType.InternalShipment;
                    returnId = parsed?.ReturnId;
                    break;
            }

            if (string.IsNullOrEmpty(returnId))
            {
                continue;
            }

            var amount = model switch
            {
                "account.move" => debits.GetValueOrDefault(r.Id()),
                "stock.shipment.internal" => null,
                _ when model == _options.GiftCardModel => r.DecOrNull("amount"),
                _ => r.DecOrNull("total_amount"),
            };
            DateTimeOffset? created = r.DateTime("create_date") is { } c ? new DateTimeOffset(DateTime.SpecifyKind(c, DateTimeKind.Utc)) : null;
            documents.Add(new FulfilLoopDocument(type, r.Id(), returnId, reference, r.Str("number"), r.Str("state") ?? "", amount, created));
        }

        return documents;
    }
}
