using System.Globalization;
using System.Text;
using LoopFulfil.Core.Reconciliation;
using LoopFulfil.Sandbox.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;

namespace LoopFulfil.Tests.Reconciliation;

/// <summary>
/// The report page in a real headless browser: Debian's chromium driven by Playwright (which never downloads a
/// browser here). The page is served over HTTP from a loopback app, as the hosts serve it. Fails, not skips, when
/// chromium is missing: CI must install it (<c>apt-get install -y chromium</c>).
/// </summary>
public sealed class ReconciliationReportBrowserTests(ReportScenario scenario) : IClassFixture<ReportScenario>
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task Report_page_renders_in_chromium_with_the_key_numbers_the_chart_and_the_action_list()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install it with `apt-get update && apt-get install -y chromium` (eng/test.sh does this on CI).");
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        var page = Encoding.UTF8.GetBytes(scenario.Html);
        var requested = new List<string>();
        await using var app = await LoopbackApp.StartAsync(_ => { }, web => web.MapGet("/api/ops/reconciliation/latest.html", (HttpContext ctx) =>
        {
            ctx.Response.ContentType = "text/html; charset=utf-8";
            return ctx.Response.Body.WriteAsync(page).AsTask();
        }));

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
            Timeout = 120_000,
        });
        var tab = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1100, Height = 900 } });
        tab.Request += (_, request) => requested.Add(request.Url);
        var url = new Uri(app.BaseAddress, "api/ops/reconciliation/latest.html").ToString();

        var response = await tab.GotoAsync(url, new PageGotoOptions { Timeout = 120_000, WaitUntil = WaitUntilState.Load });

        Assert.Equal(200, response!.Status);
        var directory = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(directory);
        var screenshot = Path.Combine(directory, "reconciliation-report.png");
        await tab.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        Assert.True(new FileInfo(screenshot).Length > 10_000, "The screenshot is (nearly) empty.");

        var r = scenario.Report;
        Assert.Equal(r.ReturnsChecked.ToString(CultureInfo.InvariantCulture), await Text(tab, "[data-metric=returns-checked]"));
        Assert.Equal(r.NeedingAction.Count().ToString(CultureInfo.InvariantCulture), await Text(tab, "[data-metric=needs-action]"));
        Assert.Equal("104.99", await Text(tab, "[data-metric='loop-CashRefund-USD']"));
        Assert.Equal("104.99", await Text(tab, "[data-metric='fulfil-CashRefund-USD']"));
        Assert.Equal("50.00", await Text(tab, "[data-metric='loop-StoreCredit-USD']"));
        Assert.Equal(3, await tab.Locator("table[data-section=action] tr[data-kind]").CountAsync());
        var actionText = await tab.Locator("table[data-section=action]").InnerTextAsync();
        Assert.Contains($"LOOP-{scenario.ShortPaidReturnId}-CN", actionText, StringComparison.Ordinal);
        Assert.Contains("finance", actionText, StringComparison.Ordinal);
        Assert.Contains("operations", actionText, StringComparison.Ordinal);

        // The chart is drawn: three day groups with visible bars inside the SVG's box.
        var bars = tab.Locator("svg[data-section=chart] g[data-day] rect");
        Assert.True(await bars.CountAsync() >= 3);
        var chart = await tab.Locator("svg[data-section=chart]").BoundingBoxAsync();
        Assert.True(chart is { Width: > 300, Height: > 100 }, "The chart did not lay out.");
        var tallest = await bars.First.BoundingBoxAsync();
        Assert.True(tallest is { Height: > 10 }, "The first day's bar has no height.");

        // Nothing but the page itself was requested: no scripts, fonts, styles or images from anywhere.
        Assert.Equal([url], requested);
    }

    private static Task<string> Text(IPage tab, string selector) => tab.Locator(selector).InnerTextAsync(new LocatorInnerTextOptions { Timeout = 30_000 });
}
