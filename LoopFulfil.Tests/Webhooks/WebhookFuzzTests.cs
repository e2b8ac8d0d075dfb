using System.Net.Http.Headers;
using System.Text.Json;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Webhooks;
using static LoopFulfil.Tests.Webhooks.WebhookTestKit;

namespace LoopFulfil.Tests.Webhooks;

/// <summary>
/// Whatever the bytes, a correctly signed body gets an answer with a reason and is either queued or parked: 10,000
/// seeded mutations of the sample webhooks sent through the local host's real HTTP route.
/// </summary>
public sealed class WebhookFuzzTests(WebhookHttpHost host) : IClassFixture<WebhookHttpHost>
{
    private const int Cases = 10_000;
    private const int Concurrency = 16;
    private const int Seed = 20261206;

    [Fact]
    public async Task Ten_thousand_mutated_signed_bodies_are_each_queued_or_parked_and_never_answered_5xx()
    {
        var mutator = new WebhookMutator(Seed);
        (string Kind, byte[] Body)[] cases = [.. Enumerable.Range(0, Cases).Select(mutator.Next)];
        var answers = new Answer[Cases];
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Concurrency });

        await Parallel.ForEachAsync(Enumerable.Range(0, Cases), new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (i, ct) =>
        {
            var body = cases[i].Body;
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, host.WebhookUrl) { Content = content };
            request.Headers.Add(WebhookHttp.SignatureHeader, Sign(body));
            using var response = await http.SendAsync(request, ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            answers[i] = new Answer((int)response.StatusCode, ReasonOf(text));
        });

        // Every answer is a 202 with its reason: each body here is signed and within the limit.
        var wrong = Enumerable.Range(0, Cases).Where(i => answers[i].Status != 202 || answers[i].Reason is not ("queued" or "parked")).ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} cases not answered 202 queued/parked, e.g. " + string.Join("; ", wrong.Take(5).Select(i => $"#{i} {cases[i].Kind}: {answers[i]}")));

        var queued = await host.DrainQueuedBodyHashesAsync();
        var records = await host.ExceptionRecordsAsync();
        var parked = records.Where(r => r.Category is ExceptionCategory.UnparseableEvent or ExceptionCategory.UnknownTopic).ToDictionary(r => r.DetailKey!, StringComparer.Ordinal);
        var lost = new List<string>();
        for (var i = 0; i < Cases; i++)
        {
            var hash = Sha256Hex(cases[i].Body);
            var found = answers[i].Reason == "queued" ? queued.Contains(hash) : parked.TryGetValue(hash, out var record) && record.Owner.Length > 0;
            if (!found)
            {
                lost.Add($"#{i} {cases[i].Kind} answered {answers[i].Reason}");
            }
        }

        Assert.True(lost.Count == 0, $"{lost.Count} accepted bodies neither queued nor parked, e.g. " + string.Join("; ", lost.Take(5)));

        // Every kind of damage reached both the queue and the parking lot or one of them; malformed text is parked.
        foreach (var kind in (string[])["invalid-utf8", "lone-surrogate-escape", "bom", "empty", "truncate", "control-char"])
        {
            Assert.Contains(Enumerable.Range(0, Cases), i => cases[i].Kind == kind && answers[i].Reason == "parked");
        }

        Assert.Contains(Enumerable.Range(0, Cases), i => cases[i].Kind == "inflate" && answers[i].Reason == "queued");
        Assert.All(Enumerable.Range(0, Cases).Where(i => cases[i].Kind == "intact"), i => Assert.Equal("queued", answers[i].Reason));
    }

    private static string? ReasonOf(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.TryGetProperty("reason", out var reason) ? reason.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private readonly record struct Answer(int Status, string? Reason);
}
