using LoopFulfil.Cli.Operator;
using Microsoft.Extensions.Configuration;
using static LoopFulfil.Tests.Cli.CliTestSupport;

namespace LoopFulfil.Tests.Cli;

/// <summary>
/// Operator commands that send queue messages never send them to an Azure account's Storage queues, which nothing
/// reads (the Function App consumes Service Bus), and never report a repair as sent.
/// </summary>
public sealed class OperatorAzureStorageTests
{
    private const string AzureAccount = "DefaultEndpointsProtocol=https;AccountName=loopfulfilprod;AccountKey=a2V5a2V5a2V5;EndpointSuffix=core.windows.net";

    [Fact]
    public async Task Reconcile_against_an_azure_storage_account_refuses_before_reading_or_sending_anything()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = AzureAccount,
            ["Fulfil:BaseUrl"] = "http://127.0.0.1:9/",
            ["Fulfil:ApiKey"] = "k",
            ["Loop:ApiKey"] = "k",
        };

        var (code, stdout, stderr) = await RunAsync(settings, "reconcile", "--from", "2026-11-01", "--to", "2026-11-02");

        Assert.Equal(2, code);
        Assert.Contains("Azure account", stderr, StringComparison.Ordinal);
        Assert.Contains("loopfulfil reconcile --read-only", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("repairs sent", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Storage:ConnectionString", AzureAccount)]
    [InlineData("Storage:TableEndpoint", "https://loopfulfilprod.table.core.windows.net")]
    public async Task Exceptions_replay_against_azure_storage_refuses_and_names_the_service_bus_route(string key, string value)
    {
        var (code, _, stderr) = await RunAsync(new Dictionary<string, string?> { [key] = value }, "exceptions", "replay", "DeadLettered-0123");

        Assert.Equal(2, code);
        Assert.Contains("POST /api/ops/exceptions/{id}/replay", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("UseDevelopmentStorage=true", true)]
    [InlineData("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;", true)]
    [InlineData("DefaultEndpointsProtocol=http;AccountName=a;AccountKey=a2V5;QueueEndpoint=http://127.0.0.1:10001/a;TableEndpoint=https://a.table.core.windows.net;", false)]
    [InlineData(AzureAccount, false)]
    public void Only_azurite_or_loopback_storage_counts_as_local(string? connectionString, bool local)
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Storage:ConnectionString"] = connectionString }).Build();

        Assert.Equal(local, OperatorServices.UsesLocalStorage(configuration));
    }
}
