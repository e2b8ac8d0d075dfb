using System.Text;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Privacy;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Storage;
using LoopFulfil.Functions.Functions;
using LoopFulfil.Functions.Http;
using LoopFulfil.Tests.Builders;
using LoopFulfil.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Privacy;

/// <summary><c>POST /api/ops/privacy/erase</c>: the Functions app's thin adapter over <see cref="ErasureService"/>.</summary>
public sealed class OpsPrivacyFunctionTests
{
    [Fact]
    public async Task Erase_route_takes_the_email_from_the_json_body_returns_the_receipt_and_refuses_a_body_without_one()
    {
        var account = StorageAccount.FromConnectionString(await AzuriteTestServer.GetConnectionStringAsync());
        var prefix = AzuriteTestServer.UniqueTableName("po");
        var tables = new AzureTableStore(account, prefix);
        var blobs = new AzureBlobStore(account, prefix);
        var ledger = new ReturnLedger(tables, blobs, TimeProvider.System);
        await ledger.AdvanceSnapshotAsync("920001", new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero), "closed",
            PersonalValues.Zeb.On(LoopReturnBuilder.AReturn("920001").WithState("closed").WithLine("TEE-BLK-M", 25.00m)).BuildBytes(), CancellationToken.None);
        await using var services = new ServiceCollection().AddLogging()
            .AddSingleton<ITableStore>(tables).AddSingleton<IBlobStore>(blobs)
            .AddLoopFulfilMessaging()
            .AddLoopFulfilPrivacy(new ConfigurationBuilder().Build())
            .BuildServiceProvider();
        var function = new OpsPrivacyFunction(services.GetRequiredService<ErasureService>());

        var missing = await function.Erase(Post("{\"mail\":\"x\"}"));
        var erased = await function.Erase(Post($"{{\"email\":\"{PersonalValues.Zeb.Email}\"}}"));

        Assert.Equal(StatusCodes.Status400BadRequest, Assert.IsType<OpsActionResult>(missing).Response.Status);
        var receipt = Assert.IsType<OpsActionResult>(erased).Response;
        Assert.Equal(StatusCodes.Status200OK, receipt.Status);
        Assert.Contains("\"920001 / record\"", receipt.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(PersonalValues.Zeb.Email, receipt.Text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(PersonalValues.Zeb.Email, Encoding.UTF8.GetString((await ledger.GetSnapshotAsync("920001", CancellationToken.None))!.Body), StringComparison.OrdinalIgnoreCase);
    }

    private static HttpRequest Post(string json)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Post;
        context.Request.ContentType = "application/json";
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(json));
        return context.Request;
    }
}
