using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Privacy;
using LoopFulfil.Core.Reconciliation;
using LoopFulfil.Core.Storage;
using LoopFulfil.Tests.Infrastructure;
using LoopFulfil.Tests.Reconciliation;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Privacy;

/// <summary>The privacy features composed over a <see cref="ReconciliationHarness"/>'s storage, with their own clock.</summary>
internal static class PrivacyHarness
{
    /// <summary>Reconciliation that only reports: no repairs, no exception records of its own (the tests count theirs).</summary>
    public static Dictionary<string, string?> QuietReconciliation => new() { ["Reconciliation:SelfHeal"] = "false", ["Reconciliation:RaiseExceptions"] = "false" };

    /// <summary>The services of <c>AddLoopFulfilPrivacy</c> (as both hosts register them) on the harness's tables and blobs.</summary>
    public static ServiceProvider Services(ReconciliationHarness h, TimeProvider time, IDictionary<string, string?>? settings = null) =>
        new ServiceCollection()
            .AddLogging()
            .AddSingleton(time)
            .AddSingleton(h.Services.GetRequiredService<ITableStore>())
            .AddSingleton(h.Services.GetRequiredService<IBlobStore>())
            .AddLoopFulfilMessaging()
            .AddLoopFulfilPrivacy(new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build())
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

    /// <summary>Sends the created and closed webhooks of each return (as Loop would) and handles them.</summary>
    public static async Task CreateAndCloseAsync(ReconciliationHarness h, params ReconReturn[] returns)
    {
        foreach (var r in returns)
        {
            r.InLoop(h.Loop);
            await h.SendAsync(r.CreatedWebhook());
            r.InLoop(h.Loop, "closed", 120);
            await h.SendAsync(r.ClosedWebhook());
        }
    }

    public static async Task<string> SnapshotTextAsync(ReconciliationHarness h, string returnId) =>
        System.Text.Encoding.UTF8.GetString((await h.Ledger.GetSnapshotAsync(returnId, CancellationToken.None))!.Body);

    /// <summary>What reconciliation found, by return and kind (amounts and references are in the kinds' details).</summary>
    public static IReadOnlyList<string> Mismatches(ReconciliationReport report) =>
        [.. report.Mismatches.Select(m => $"{m.ReturnId} {m.Kind} {m.Expected} {m.Actual}").Order(StringComparer.Ordinal)];

    /// <summary>Every table and blob the harness's run stored.</summary>
    public static async Task<IReadOnlyList<(string Where, string Text)>> ScanAsync(ReconciliationHarness h) =>
        await StorageScan.AllAsync(
            await AzuriteTestServer.GetConnectionStringAsync(),
            ((AzureTableStore)h.Services.GetRequiredService<ITableStore>()).TablePrefix,
            ((AzureBlobStore)h.Services.GetRequiredService<IBlobStore>()).ContainerPrefix);
}
