using LoopFulfil.Cli;
using LoopFulfil.Cli.Hosting;
using static LoopFulfil.Tests.Cli.CliTestSupport;

namespace LoopFulfil.Tests.Cli;

/// <summary>The command surface: help, parsing, configuration sources and messages for missing settings.</summary>
public sealed class CliCommandTests
{
    [Theory]
    [InlineData("serve")]
    [InlineData("demo")]
    [InlineData("exceptions")]
    [InlineData("returns")]
    [InlineData("sync")]
    [InlineData("reconcile")]
    [InlineData("audit")]
    public async Task Every_command_has_help_that_exits_zero(string command)
    {
        var (code, stdout, _) = await RunAsync(new Dictionary<string, string?>(), command, "--help");

        Assert.Equal(0, code);
        Assert.Contains("Usage", stdout, StringComparison.Ordinal);
        Assert.Contains(command, stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("exceptions", "list")]
    [InlineData("exceptions", "replay", "SkuNotFound-0123")]
    [InlineData("returns", "show", "123")]
    public async Task Operator_command_without_storage_names_the_storage_setting(params string[] args)
    {
        var (code, _, stderr) = await RunAsync(new Dictionary<string, string?>(), args);

        Assert.Equal(2, code);
        Assert.Contains("Storage__ConnectionString", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sync_backfill_without_credentials_names_the_missing_settings()
    {
        var (code, _, stderr) = await RunAsync(new Dictionary<string, string?> { ["Storage:ConnectionString"] = "UseDevelopmentStorage=true" }, "sync", "backfill");

        Assert.Equal(2, code);
        Assert.Contains("Fulfil__ApiKey", stderr, StringComparison.Ordinal);
        Assert.Contains("Loop__ApiKey", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("reconcile")]
    [InlineData("reconcile", "--read-only")]
    public async Task Reconcile_needs_a_date_range_then_names_the_missing_settings(params string[] command)
    {
        var storage = new Dictionary<string, string?> { ["Storage:ConnectionString"] = "UseDevelopmentStorage=true" };

        var noRange = await RunAsync(storage, command);
        var backwards = await RunAsync(storage, [.. command, "--from", "2026-11-02", "--to", "2026-11-01"]);
        var noCredentials = await RunAsync(storage, [.. command, "--from", "2026-11-01", "--to", "2026-11-02"]);

        Assert.Equal((2, 2, 2), (noRange.Code, backwards.Code, noCredentials.Code));
        Assert.Contains("--from", noRange.Stderr, StringComparison.Ordinal);
        Assert.Contains("--to after --from", backwards.Stderr, StringComparison.Ordinal);
        Assert.Contains("Fulfil__ApiKey", noCredentials.Stderr, StringComparison.Ordinal);
        Assert.Contains("Loop__ApiKey", noCredentials.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Audit_without_credentials_names_the_missing_settings_and_needs_no_storage()
    {
        var (code, _, stderr) = await RunAsync(new Dictionary<string, string?>(), "audit");

        Assert.Equal(2, code);
        Assert.Contains("Fulfil__BaseUrl", stderr, StringComparison.Ordinal);
        Assert.Contains("Loop__ApiKey", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Storage__", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_option_and_bad_filter_are_usage_errors()
    {
        var unknown = await RunAsync(new Dictionary<string, string?>(), "serve", "--port", "1");
        var badCategory = await RunAsync(new Dictionary<string, string?>(), "exceptions", "list", "--category", "Nope");

        Assert.Equal(2, unknown.Code);
        Assert.Contains("--port", unknown.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, badCategory.Code);
        Assert.Contains("SkuNotFound", badCategory.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Local_settings_values_configure_the_cli_with_the_functions_key_names()
    {
        var dir = Directory.CreateTempSubdirectory("loopfulfil-cli-").FullName;
        File.WriteAllText(Path.Combine(dir, "local.settings.json"), """
            { "IsEncrypted": false, "Values": { "Storage__ConnectionString": "UseDevelopmentStorage=true", "Exceptions__Owners__SkuNotFound": "buying", "LocalHost__Partitions": 2 } }
            """);
        var context = new CliContext(TextWriter.Null, TextWriter.Null) { WorkingDirectory = dir, Settings = new Dictionary<string, string?> { ["LocalHost:Partitions"] = "3" } };

        var configuration = CliConfiguration.Build(context);

        Assert.Equal("UseDevelopmentStorage=true", configuration["Storage:ConnectionString"]);
        Assert.Equal("buying", configuration["Exceptions:Owners:SkuNotFound"]);
        Assert.Equal("3", configuration["LocalHost:Partitions"]);
    }

    [Theory]
    [InlineData("<fulfil-personal-access-token>", false)]
    [InlineData("", false)]
    [InlineData("real-token", true)]
    public void Sample_placeholders_do_not_count_as_configured(string value, bool configured)
    {
        var configuration = CliConfiguration.Build(new CliContext(TextWriter.Null, TextWriter.Null)
        {
            ReadProcessConfiguration = false,
            Settings = new Dictionary<string, string?> { ["Fulfil:ApiKey"] = value },
        });

        Assert.Equal(configured, CliConfiguration.IsSet(configuration, "Fulfil:ApiKey"));
    }

    [Fact]
    public async Task Demo_runs_every_scenario_in_process_and_exits_zero()
    {
        var (code, stdout, stderr) = await RunAsync(new Dictionary<string, string?>(), "demo", "--timeout", "120");

        Assert.True(code == 0, $"demo exited {code}: {stderr}\n{stdout}");
        Assert.Contains("scenarios ended as expected", stdout, StringComparison.Ordinal);
        Assert.Contains("LOOP-", stdout, StringComparison.Ordinal);
        Assert.Contains("-CN (paid)", stdout, StringComparison.Ordinal);
        Assert.Contains("SkuNotFound", stdout, StringComparison.Ordinal);
        Assert.Contains("-EXC (", stdout, StringComparison.Ordinal);
        Assert.Contains("Commerce sync backfill completed", stdout, StringComparison.Ordinal);
    }
}
