using System.Net;
using System.Text;
using LoopFulfil.Core.Fulfil;

namespace LoopFulfil.Tests.Fulfil;

/// <summary>Fulfil's real error body (from a captured response) mapped to the exception the handlers act on.</summary>
public class FulfilErrorMappingTests
{
    [Fact]
    public async Task Captured_user_error_body_keeps_type_code_message_and_description()
    {
        var body = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", "Fulfil", "error-400-usererror.json"));
        using var http = new HttpClient(new FixedResponseHandler(HttpStatusCode.BadRequest, body)) { BaseAddress = new Uri("https://acme.fulfil.io/api/v2/") };
        var fulfil = new FulfilHttp(http, new FulfilOptions { ApiKey = "k" });

        var error = await Assert.ThrowsAsync<FulfilUserErrorException>(() => fulfil.CallAsync("sale.sale", "create", [Array.Empty<object>()]));

        Assert.Equal("UserError", error.Type);
        Assert.Equal("E1000", error.Code);
        Assert.Equal("Cannot create record with state 'open'. Allowed states: draft", error.UserMessage);
        Assert.Equal("", error.Description);
        Assert.Equal("model/sale.sale/create", error.Path);
    }

    [Fact]
    public async Task Server_error_with_a_text_body_is_transient()
    {
        using var http = new HttpClient(new FixedResponseHandler(HttpStatusCode.BadGateway, "<html>bad gateway</html>")) { BaseAddress = new Uri("https://acme.fulfil.io/api/v2/") };
        var fulfil = new FulfilHttp(http, new FulfilOptions { ApiKey = "k" });

        var error = await Assert.ThrowsAsync<FulfilUnavailableException>(() => fulfil.SearchCountAsync("sale.sale", []));

        Assert.Equal(502, error.StatusCode);
    }

    private sealed class FixedResponseHandler(HttpStatusCode status, string body) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json"), RequestMessage = request });
    }
}
