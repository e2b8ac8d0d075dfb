using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using LoopFulfil.Cli.Sandbox;
using LoopFulfil.Cli.Serve;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Sandbox.Fulfil;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Cli.Demo;

/// <summary>What a scenario works with: the sandboxes, the running host's services and a deadline.</summary>
internal sealed class DemoRun(SandboxEnvironment sandbox, IServiceProvider services, Uri hostAddress, DateTimeOffset deadline, TimeProvider time) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = hostAddress, Timeout = TimeSpan.FromSeconds(30) };

    private long _nextId = 880_000 + (time.GetUtcNow().ToUnixTimeSeconds() % 100_000 * 10);

    public SandboxEnvironment Sandbox { get; } = sandbox;

    public ExceptionService Exceptions { get; } = services.GetRequiredService<ExceptionService>();

    public DateTimeOffset Deadline { get; } = deadline;

    /// <summary>A Loop return id no earlier run used (the storage may be an Azurite that outlives runs).</summary>
    public string NextReturnId() => Interlocked.Increment(ref _nextId).ToString(CultureInfo.InvariantCulture);

    public string OwnerOf(ExceptionCategory category) => services.GetRequiredService<IOptions<ExceptionOptions>>().Value.OwnerOf(category);

    /// <summary>Adds the return to the Loop sandbox, created ten minutes ago so later state changes are newer.</summary>
    public Task AddReturnAsync(DemoReturn demo, bool sendCreated)
    {
        Sandbox.Loop.AddReturn(demo.ToJson(time.GetUtcNow().AddMinutes(-10)), sendCreated);
        return Task.CompletedTask;
    }

    /// <summary>Return orders in Fulfil made for a Loop return (keyed by channel_identifier).</summary>
    public IReadOnlyList<FulfilSandboxRecord> ReturnOrders(string returnId) =>
        Sandbox.Fulfil.State.Where("sale.sale", r => Equals(r.GetValueOrDefault("is_return"), true) && Equals(r.GetValueOrDefault("channel_identifier"), returnId));

    public async Task<IReadOnlyList<ExceptionRecord>> ExceptionsOfAsync(string returnId, CancellationToken cancellationToken)
    {
        var records = new List<ExceptionRecord>();
        await foreach (var record in Exceptions.ListAsync(null, null, cancellationToken).ConfigureAwait(false))
        {
            if (record.ReturnId == returnId)
            {
                records.Add(record);
            }
        }

        return records;
    }

    /// <summary>
    /// Posts the warehouse's verdict on every unit to the host's inspection route, as a WMS would
    /// (<c>POST /api/returns/{id}/inspection</c>).
    /// </summary>
    public async Task InspectAsync(DemoReturn demo, bool passed, string disposition, CancellationToken cancellationToken)
    {
        var lines = new JsonArray([.. demo.LineItemIds.Select(id => (JsonNode)new JsonObject { ["line_item_id"] = id, ["passed"] = passed, ["disposition"] = disposition })]);
        using var content = new StringContent(new JsonObject { ["lines"] = lines }.ToJsonString(), Encoding.UTF8, "application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"api/returns/{demo.Id}/inspection") { Content = content };
        request.Headers.Add(ServeRoutes.AdminKeyHeader, Sandbox.AdminKey);
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"The inspection route answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)}");
        }
    }

    /// <summary>The Fulfil record of <paramref name="model"/> whose reference is <paramref name="reference"/>, or null.</summary>
    public FulfilSandboxRecord? ByReference(string model, string field, string reference) =>
        Sandbox.Fulfil.State.Where(model, r => Equals(r.GetValueOrDefault(field), reference)).SingleOrDefault();

    public void Dispose() => _http.Dispose();

    /// <summary>Polls <paramref name="condition"/> until it holds; false at the deadline.</summary>
    public async Task<bool> WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            if (time.GetUtcNow() > Deadline)
            {
                return false;
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }
}
