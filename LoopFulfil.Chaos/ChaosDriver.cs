using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using LoopFulfil.Cli.Sandbox;
using LoopFulfil.Cli.Serve;

namespace LoopFulfil.Chaos;

/// <summary>
/// Plays one return's part in the run as Loop, the warehouse and CX would: Loop creates it, the warehouse inspects
/// it once Fulfil has its return order, Loop closes it (the integration asks it to; CX does for a damaged item) or
/// cancels it. Every webhook is delivered 1–5 times, and retries of earlier events may be held back and shuffled in
/// with later ones, as Loop's retries arrive. A delivery or an inspection the (killed) host does not answer is retried.
/// </summary>
internal sealed class ChaosDriver(ChaosOptions options, SandboxEnvironment sandbox, ChaosHost host, IChaosErp erp) : IDisposable
{
    private const int MaxAttempts = 3000;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private long _accepted;
    private long _refused;
    private int _lastRefusal;
    private int _finished;

    public long Accepted => Interlocked.Read(ref _accepted);

    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>The last status the host refused a webhook with (0: no answer).</summary>
    public int LastRefusal => Volatile.Read(ref _lastRefusal);

    /// <summary>Scripts run to their end (or stalled).</summary>
    public int Finished => Volatile.Read(ref _finished);

    public async Task RunScriptAsync(ChaosReturn r, Random random, CancellationToken cancellationToken)
    {
        try
        {
            await PlayAsync(r, random, cancellationToken);
        }
        finally
        {
            Interlocked.Increment(ref _finished);
        }
    }

    private async Task PlayAsync(ChaosReturn r, Random random, CancellationToken cancellationToken)
    {
        var loop = sandbox.Loop;
        var held = new List<byte[]>();
        loop.AddReturn(r.Payload, sendCreatedWebhook: false);
        await DeliverAsync(r.Id, "return.created", random, held, final: r.Kind == ChaosKind.UnknownSku, cancellationToken);
        if (r.Kind == ChaosKind.UnknownSku)
        {
            return;
        }

        var waiting = System.Diagnostics.Stopwatch.GetTimestamp();
        var ordered = await WaitAsync(() => erp.HasReturnOrderAsync(r.Id, cancellationToken), cancellationToken);
        r.ReturnOrderWait = System.Diagnostics.Stopwatch.GetElapsedTime(waiting);
        if (!ordered)
        {
            await StallAsync(r, "no return order in Fulfil", held, cancellationToken);
            return;
        }

        switch (r.Kind)
        {
            case ChaosKind.CancelledAfterAuthorisation:
                loop.SetState(r.Id, "cancelled", sendWebhook: false);
                await DeliverAsync(r.Id, "return.updated", random, held, final: true, cancellationToken);
                return;
            case ChaosKind.Damaged:
                if (!await InspectAsync(r, passed: false, "junk", cancellationToken))
                {
                    await StallAsync(r, "inspection refused", held, cancellationToken);
                    return;
                }

                // CX reviews the flagged return in Loop and closes it anyway, after a short wait for the flag: when the
                // inspection's handling is slow (faults, redeliveries), CX closes it first and the two race, as in life.
                r.ClosedBeforeFlag = !await WaitAsync(() => loop.FlagCount(r.Id) > 0, cancellationToken, maxPolls: 50);

                loop.SetState(r.Id, "closed", sendWebhook: false);
                await DeliverAsync(r.Id, "return.closed", random, held, final: true, cancellationToken);
                return;
            default:
                if (!await InspectAsync(r, passed: true, "back_to_stock", cancellationToken))
                {
                    await StallAsync(r, "inspection refused", held, cancellationToken);
                    return;
                }

                waiting = System.Diagnostics.Stopwatch.GetTimestamp();
                var closed = await WaitAsync(() => loop.GetState(r.Id) == "closed", cancellationToken);
                r.ClosedWait = System.Diagnostics.Stopwatch.GetElapsedTime(waiting);
                if (!closed)
                {
                    await StallAsync(r, "never processed in Loop", held, cancellationToken);
                    return;
                }

                await DeliverAsync(r.Id, "return.closed", random, held, final: true, cancellationToken);
                return;
        }
    }

    public void Dispose() => _http.Dispose();

    private async Task StallAsync(ChaosReturn r, string step, List<byte[]> held, CancellationToken cancellationToken)
    {
        r.Stalled = step;
        foreach (var body in held)
        {
            await PostWebhookAsync(body, cancellationToken);
        }
    }

    /// <summary>
    /// Sends the return as Loop holds it now with <paramref name="trigger"/>, 1–5 times; earlier copies held back are
    /// sent in the same shuffled batch, and (unless <paramref name="final"/>) some copies of this one are held back.
    /// </summary>
    private async Task DeliverAsync(string returnId, string trigger, Random random, List<byte[]> held, bool final, CancellationToken cancellationToken)
    {
        var snapshot = sandbox.Loop.GetReturn(returnId) ?? throw new InvalidOperationException($"Return {returnId} is not in the Loop sandbox.");
        snapshot["topic"] = "return";
        snapshot["trigger"] = trigger;
        // As Loop writes JSON (PHP's json_encode escapes '/'); the signature covers these exact bytes.
        var body = Encoding.UTF8.GetBytes(snapshot.ToJsonString().Replace("/", "\\/", StringComparison.Ordinal));
        var batch = new List<byte[]>(held) { body };
        held.Clear();
        var copies = random.Next(1, 6);
        for (var i = 1; i < copies; i++)
        {
            (final || random.Next(2) == 0 ? batch : held).Add(body);
        }

        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(batch));
        foreach (var b in batch)
        {
            await PostWebhookAsync(b, cancellationToken);
        }
    }

    private async Task PostWebhookAsync(byte[] body, CancellationToken cancellationToken)
    {
        var signature = sandbox.Loop.Sign(body);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, host.WebhookUrl) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            request.Headers.TryAddWithoutValidation("X-Loop-Signature", signature);
            var status = await SendAsync(request, cancellationToken);
            if (status < 300)
            {
                Interlocked.Increment(ref _accepted);
                return;
            }

            Interlocked.Increment(ref _refused);
            Volatile.Write(ref _lastRefusal, status ?? 0);
            await Task.Delay(options.PollInterval, cancellationToken);
        }

        throw new InvalidOperationException($"A webhook was refused {MaxAttempts} times.");
    }

    /// <summary>The warehouse's verdict on every unit, as a WMS posts it; false when the host refuses it (4xx).</summary>
    private async Task<bool> InspectAsync(ChaosReturn r, bool passed, string disposition, CancellationToken cancellationToken)
    {
        var lines = new JsonArray([.. r.LineItemIds.Select(id => (JsonNode)new JsonObject { ["line_item_id"] = id, ["passed"] = passed, ["disposition"] = disposition })]);
        var json = new JsonObject { ["lines"] = lines }.ToJsonString();
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(host.BaseAddress, $"api/returns/{r.Id}/inspection"))
            {
                Content = new StringContent(json, Encoding.UTF8, "application/json"),
            };
            request.Headers.Add(ServeRoutes.AdminKeyHeader, sandbox.AdminKey);
            var status = await SendAsync(request, cancellationToken);
            if (status == (int)HttpStatusCode.Accepted)
            {
                return true;
            }

            if (status is >= 400 and < 500)
            {
                return false;
            }

            await Task.Delay(options.PollInterval, cancellationToken);
        }

        return false;
    }

    /// <summary>The status code, or null when the host did not answer (killed, restarting).</summary>
    private async Task<int?> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.SendAsync(request, cancellationToken);
            return (int)response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private Task<bool> WaitAsync(Func<bool> condition, CancellationToken cancellationToken, int? maxPolls = null) =>
        WaitAsync(() => Task.FromResult(condition()), cancellationToken, maxPolls);

    private async Task<bool> WaitAsync(Func<Task<bool>> condition, CancellationToken cancellationToken, int? maxPolls = null)
    {
        for (var poll = 0; poll < (maxPolls ?? options.MaxPollsPerStep); poll++)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(options.PollInterval, cancellationToken);
        }

        return await condition();
    }
}
