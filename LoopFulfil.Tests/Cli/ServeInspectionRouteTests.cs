using System.Net;
using System.Text;
using LoopFulfil.Cli.Serve;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Webhooks;
using LoopFulfil.LocalHost;
using LoopFulfil.Tests.Functions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Cli;

/// <summary>
/// The single-machine host's inspection route (serve's web host, <see cref="ServeRoutes.MapInspection"/>) over real
/// HTTP on 127.0.0.1, with the real inspection service and ledger on Azurite: answered as the Functions trigger is.
/// </summary>
public sealed class ServeInspectionRouteTests
{
    private const string AdminKey = "inspection-route-test-key";

    [Fact]
    public async Task Serve_answers_an_inspection_whose_enqueue_fails_transiently_with_503_and_retry_after_not_500()
    {
        var ingress = await InspectionFunctionTests.CreateIngressAsync(new PendingClaimSender(), new WebhookOptions { RetryAfterSeconds = 9 });
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["LocalHost:Urls"] = "http://127.0.0.1:0",
            ["Logging:LogLevel:Default"] = "None",
        }).Build();
        var builder = ServeHost.CreateBuilder(configuration, TextWriter.Null);
        builder.Services.Configure<LocalHostOptions>(o => o.AdminKey = AdminKey);
        builder.Services.AddSingleton(ingress);
        await using var app = builder.Build();
        ServeRoutes.MapInspection(app);
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = ServeHost.ListeningAddress(app) };
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/returns/7004/inspection")
        {
            Content = new StringContent("""{"lines":[{"line_item_id":"501","passed":true,"disposition":"back_to_stock"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add(ServeRoutes.AdminKeyHeader, AdminKey);

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(9), response.Headers.RetryAfter?.Delta);
    }
}
