using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace LoopFulfil.Sandbox.Tryton;

/// <summary>
/// A real Tryton 6.0 with the Fulfil REST v2 façade, started by <c>eng/tryton/start.sh --foreground</c> (which installs
/// the Debian packages when absent, copies or builds the merchant database, and becomes <c>trytond</c>). Disposing stops
/// the server; its database folder stays for inspection until the OS cleans the temp folder.
/// </summary>
public sealed class TrytonEngine : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log;

    private TrytonEngine(Process process, StringBuilder log, IReadOnlyDictionary<string, string> values)
    {
        _process = process;
        _log = log;
        BaseAddress = new Uri(values["base_url"]);
        ApiKey = values["api_key"];
        DataDirectory = values["dir"];
        CompanyId = Int(values, "company_id");
        WarehouseId = Int(values, "warehouse_id");
        JournalId = Int(values, "journal_id");
        ExchangeChannelId = Int(values, "exchange_channel_id");
    }

    /// <summary>The façade's REST v2 root, e.g. <c>http://127.0.0.1:8123/loopfulfil/api/v2/</c> (<c>Fulfil:BaseUrl</c>).</summary>
    public Uri BaseAddress { get; }

    /// <summary>A validated <c>res.user.application</c> key of the admin user (<c>X-API-KEY</c>).</summary>
    public string ApiKey { get; }

    /// <summary>Where the database, configuration and <c>trytond.log</c> of this run are.</summary>
    public string DataDirectory { get; }

    public int CompanyId { get; }

    public int WarehouseId { get; }

    /// <summary>The Miscellaneous journal (journal entries).</summary>
    public int JournalId { get; }

    public int ExchangeChannelId { get; }

    /// <summary>Location and account codes of the set-up (the same as the simulator's demo data).</summary>
    public static class Codes
    {
        public const string Quarantine = "QUAR";
        public const string Sellable = "STOR";
        public const string Damaged = "DMG";
        public const string Receivable = "1200";
        public const string Tax = "2300";
        public const string ReturnsClearing = "2350";
        public const string GiftCardLiability = "2400";
        public const string Revenue = "4000";
        public const string HandlingFees = "4100";
        public const string Cash = "1000";

        /// <summary>Tryton's expense account of the set-up; the store-credit bonus is booked there.</summary>
        public const string Expense = "5000";
    }

    /// <summary>The Fulfil settings that point the integration at this engine.</summary>
    public IReadOnlyDictionary<string, string?> FulfilSettings => new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
    {
        ["Fulfil:BaseUrl"] = BaseAddress.ToString(),
        ["Fulfil:ApiKey"] = ApiKey,
        ["Fulfil:AuthMode"] = "ApiKey",
        ["Fulfil:CompanyId"] = Text(CompanyId),
        ["Fulfil:WarehouseId"] = Text(WarehouseId),
        ["Fulfil:JournalId"] = Text(JournalId),
        ["Fulfil:ExchangeChannelId"] = Text(ExchangeChannelId),
        ["Fulfil:ExchangePriority"] = "1",
        ["Fulfil:QuarantineLocationCode"] = Codes.Quarantine,
        ["Fulfil:SellableLocationCode"] = Codes.Sellable,
        ["Fulfil:DamagedLocationCode"] = Codes.Damaged,
        ["Fulfil:ReturnsClearingAccountCode"] = Codes.ReturnsClearing,
        ["Fulfil:GiftCardLiabilityAccountCode"] = Codes.GiftCardLiability,
        ["Fulfil:SaleLookup"] = "OrderName",
        // Refunds:CreditNoteSource stays Detect: the return sale's invoice method says Tryton makes its credit note.
        ["Refunds:HandlingFeeAccountCode"] = Codes.HandlingFees,
        ["Refunds:GiftCardBonusAccountCode"] = Codes.Expense,
    };

    /// <summary>What start.sh and trytond wrote so far (for failure messages).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>The repository's <c>eng/tryton/start.sh</c>, searched upwards from the working and the app directory.</summary>
    public static string? FindScript()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var script = Path.Combine(dir.FullName, "eng", "tryton", "start.sh");
                if (File.Exists(script))
                {
                    return script;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Runs the script and waits until the façade answers. Throws <see cref="InvalidOperationException"/> with the
    /// script's output when Tryton cannot be installed or started; <paramref name="cancellationToken"/> bounds the wait
    /// (a first start installs packages and builds the database: minutes, not seconds).
    /// </summary>
    public static async Task<TrytonEngine> StartAsync(TextWriter? progress = null, CancellationToken cancellationToken = default)
    {
        var script = FindScript() ?? throw new InvalidOperationException("eng/tryton/start.sh was not found above the current directory; run from the LoopFulfil repository.");
        var info = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(script);
        info.ArgumentList.Add("--foreground");
        var process = new Process { StartInfo = info };
        var log = new StringBuilder();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var settled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                settled.TrySetResult();
                return;
            }

            var eq = e.Data.IndexOf('=', StringComparison.Ordinal);
            lock (log)
            {
                log.AppendLine(e.Data.StartsWith("api_key=", StringComparison.Ordinal) ? "api_key=…" : e.Data);
                if (eq > 0)
                {
                    values[e.Data[..eq]] = e.Data[(eq + 1)..];
                }

                if (e.Data == "starting")
                {
                    settled.TrySetResult();
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (log)
            {
                log.AppendLine(e.Data);
            }

            if (e.Data.StartsWith("tryton: ", StringComparison.Ordinal))
            {
                progress?.WriteLine(e.Data);
            }
        };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("Could not run bash for eng/tryton/start.sh: " + ex.Message, ex);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        TrytonEngine? engine = null;
        try
        {
            await settled.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            Dictionary<string, string> snapshot;
            lock (log)
            {
                snapshot = new Dictionary<string, string>(values, StringComparer.Ordinal);
            }

            string[] required = ["base_url", "api_key", "dir", "company_id", "warehouse_id", "journal_id", "exchange_channel_id"];
            if (required.Any(k => !snapshot.ContainsKey(k)))
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                throw new InvalidOperationException($"Tryton could not be started (eng/tryton/start.sh exit code {process.ExitCode}):{Environment.NewLine}{Tail(log)}");
            }

            engine = new TrytonEngine(process, log, snapshot);
            await engine.WaitUntilAnsweringAsync(cancellationToken).ConfigureAwait(false);
            return engine;
        }
        catch
        {
            if (engine is not null)
            {
                await engine.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                Stop(process);
                process.Dispose();
            }

            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Stop(_process);
        await _process.WaitForExitAsync().ConfigureAwait(false);
        _process.Dispose();
    }

    private static void Stop(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // It never started or has already gone.
        }
    }

    private async Task WaitUntilAnsweringAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var probe = new Uri(BaseAddress, "model/company.company/search_count");
        // Bounded by count: trytond binds within seconds of starting; 600 × 100 ms covers a slow machine.
        for (var attempt = 0; attempt < 600; attempt++)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"trytond stopped (exit code {_process.ExitCode}):{Environment.NewLine}{Tail(_log)}");
            }

            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Put, probe) { Content = new StringContent("[[]]", Encoding.UTF8, "application/json") };
                request.Headers.TryAddWithoutValidation("X-API-KEY", ApiKey);
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Busy starting.
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        throw new InvalidOperationException($"The Fulfil façade on Tryton did not answer at {BaseAddress}:{Environment.NewLine}{Tail(_log)}");
    }

    private static string Tail(StringBuilder log)
    {
        lock (log)
        {
            var lines = log.ToString().Split('\n');
            return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 40)));
        }
    }

    private static int Int(IReadOnlyDictionary<string, string> values, string key) => int.Parse(values[key], NumberStyles.None, CultureInfo.InvariantCulture);

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
