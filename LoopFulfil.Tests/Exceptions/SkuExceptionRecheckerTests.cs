using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Skus;
using Microsoft.Extensions.Logging.Abstractions;
using static LoopFulfil.Tests.Webhooks.WebhookTestKit;

namespace LoopFulfil.Tests.Exceptions;

/// <summary>The SKU recheck over real stored records (Azurite) and a catalog the test controls.</summary>
public class SkuExceptionRecheckerTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    /// <summary>Stands in for the Fulfil product search: the test decides which SKUs exist.</summary>
    private sealed class CatalogDouble : ISkuCatalog
    {
        public Dictionary<string, SkuStatus> Known { get; } = new(StringComparer.Ordinal);

        public List<string[]> Questions { get; } = [];

        public Task<IReadOnlyDictionary<string, SkuStatus>> LookupAsync(IReadOnlyCollection<string> skus, CancellationToken cancellationToken)
        {
            Questions.Add([.. skus]);
            IReadOnlyDictionary<string, SkuStatus> answer = skus.Where(Known.ContainsKey).ToDictionary(s => s, s => Known[s]);
            return Task.FromResult(answer);
        }
    }

    private static ExceptionRaise Raise(ExceptionCategory category, string returnId, params string[] skus) =>
        new(category, returnId, "SKU problem")
        {
            Skus = skus,
            RawEvent = Utf8($$"""{"topic":"return","trigger":"return.created","id":{{returnId}},"state":"open"}"""),
        };

    [Fact]
    public async Task Replays_only_records_whose_skus_are_all_active_now()
    {
        var h = await ExceptionsHarness.CreateAsync();
        var catalog = new CatalogDouble();
        var rechecker = new SkuExceptionRechecker(h.Service, catalog, NullLogger<SkuExceptionRechecker>.Instance);
        var partly = await h.Service.RaiseAsync(Raise(ExceptionCategory.SkuNotFound, "101", "SKU-A", "SKU-B"), Ct);
        var fixedNow = await h.Service.RaiseAsync(Raise(ExceptionCategory.SkuNotFound, "102", "SKU-C"), Ct);
        var archived = await h.Service.RaiseAsync(Raise(ExceptionCategory.SkuArchived, "103", "SKU-D"), Ct);
        catalog.Known["SKU-A"] = SkuStatus.Active;          // SKU-B still missing (absent from the answer)
        catalog.Known["SKU-C"] = SkuStatus.Active;
        catalog.Known["SKU-D"] = SkuStatus.Archived;

        var first = await rechecker.RunAsync(Ct);

        Assert.Equal(new SkuRecheckSummary(3, 1, 2, 0), first);
        Assert.Equal(["102"], h.Sender.On(QueueNames.LoopReturns).Select(m => m.SessionId!).ToArray());
        Assert.Equal(ExceptionStatus.Open, (await h.Service.GetAsync(partly.Id, Ct))!.Status);
        Assert.Equal(ExceptionStatus.Replayed, (await h.Service.GetAsync(fixedNow.Id, Ct))!.Status);
        Assert.Equal(ExceptionStatus.Open, (await h.Service.GetAsync(archived.Id, Ct))!.Status);
        Assert.Single(catalog.Questions);
        Assert.Equal(["SKU-A", "SKU-B", "SKU-C", "SKU-D"], catalog.Questions[0].Order().ToArray());

        // Merchandising creates SKU-B and re-activates SKU-D: the next run replays both, and not 102 again.
        catalog.Known["SKU-B"] = SkuStatus.Active;
        catalog.Known["SKU-D"] = SkuStatus.Active;
        var second = await rechecker.RunAsync(Ct);

        Assert.Equal(new SkuRecheckSummary(2, 2, 0, 0), second);
        Assert.Equal(["101", "102", "103"], h.Sender.On(QueueNames.LoopReturns).Select(m => m.SessionId!).Order().ToArray());
    }

    [Fact]
    public async Task Nothing_open_means_no_catalog_question()
    {
        var h = await ExceptionsHarness.CreateAsync();
        var catalog = new CatalogDouble();

        var summary = await new SkuExceptionRechecker(h.Service, catalog, NullLogger<SkuExceptionRechecker>.Instance).RunAsync(Ct);

        Assert.Equal(new SkuRecheckSummary(0, 0, 0, 0), summary);
        Assert.Empty(catalog.Questions);
    }
}
