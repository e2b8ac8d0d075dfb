using static LoopFulfil.Tests.Cli.CliTestSupport;

namespace LoopFulfil.Tests.Cli;

/// <summary>The command line as System.CommandLine parses it: usage errors, help per command, typed values.</summary>
public sealed class CliSyntaxTests
{
    private static readonly string[] Commands = ["serve", "demo", "exceptions", "returns", "sync", "reconcile", "audit", "shadow", "privacy"];

    private const string AzureAccount = "DefaultEndpointsProtocol=https;AccountName=loopfulfilprod;AccountKey=a2V5a2V5a2V5;EndpointSuffix=core.windows.net";

    [Theory]
    [InlineData("audit", "--since")]
    [InlineData("reconcile", "--dry-run")]
    [InlineData("demo", "--fast")]
    public async Task Unknown_option_exits_2_naming_the_option_and_the_commands_help(string command, string option)
    {
        var (code, stdout, stderr) = await RunAsync(new Dictionary<string, string?>(), command, option);

        Assert.Equal(2, code);
        Assert.Contains($"'{option}'", stderr, StringComparison.Ordinal);
        Assert.Contains($"loopfulfil {command} --help", stderr, StringComparison.Ordinal);
        Assert.Equal("", stdout);
    }

    [Fact]
    public async Task Unknown_command_exits_2()
    {
        var (code, _, stderr) = await RunAsync(new Dictionary<string, string?>(), "frobnicate");

        Assert.Equal(2, code);
        Assert.Contains("'frobnicate'", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("serve", "--sandbox", "--erp", "--fulfil-faults", "--urls")]
    [InlineData("demo", "--erp", "--timeout")]
    [InlineData("reconcile", "--read-only", "--from", "--to", "--out")]
    [InlineData("audit", "--days", "--webhook-url", "--out")]
    [InlineData("shadow report", "--out")]
    [InlineData("exceptions list", "--status", "--category")]
    [InlineData("exceptions replay", "--category")]
    [InlineData("exceptions resolve", "--note")]
    public async Task Command_help_lists_its_options(string command, params string[] options)
    {
        var (code, stdout, _) = await RunAsync(new Dictionary<string, string?>(), [.. command.Split(' '), "--help"]);

        Assert.Equal(0, code);
        Assert.Contains($"loopfulfil {command}", stdout, StringComparison.Ordinal);
        Assert.All(options, option => Assert.Contains(option, stdout, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Root_help_lists_every_command_and_the_configuration_note()
    {
        var (code, stdout, _) = await RunAsync(new Dictionary<string, string?>(), "--help");

        Assert.Equal(0, code);
        Assert.All(Commands, c => Assert.Contains($"  {c} ", stdout, StringComparison.Ordinal));
        Assert.Contains("local.settings.sample.json", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--days 'x'", "audit", "--days", "x")]
    [InlineData("--timeout 5 to 3600", "demo", "--timeout", "2")]
    [InlineData("--from yyyy-MM-dd", "reconcile", "--from", "2026/11/01", "--to", "2026-11-02")]
    [InlineData("--category must be one of", "exceptions", "list", "--category", "7")]
    [InlineData("'tryton'", "serve", "--sandbox", "--erp", "oracle")]
    [InlineData("--fulfil-faults 0.2,0.1,7 '0.9,0.5'", "serve", "--sandbox", "--fulfil-faults", "0.9,0.5")]
    public async Task Typed_option_with_a_bad_value_exits_2_with_what_it_takes(string expected, params string[] args)
    {
        var (code, _, stderr) = await RunAsync(new Dictionary<string, string?>(), args);

        Assert.Equal(2, code);
        Assert.All(expected.Split(' '), part => Assert.Contains(part, stderr, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--erp", "tryton")]
    [InlineData("--fulfil-faults", "0.2,0.1")]
    public async Task Erp_or_fulfil_faults_without_sandbox_is_a_usage_error(string option, string value)
    {
        var (code, _, stderr) = await RunAsync(new Dictionary<string, string?>(), "serve", option, value);

        Assert.Equal(2, code);
        Assert.Contains("--sandbox", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("exceptions", "replay")]
    [InlineData("exceptions", "replay", "SkuNotFound-0123", "--category", "SkuNotFound")]
    public async Task Replay_takes_an_id_or_a_category_but_not_both(params string[] args)
    {
        var (code, _, stderr) = await RunAsync(new Dictionary<string, string?>(), args);

        Assert.Equal(2, code);
        Assert.Contains("record id or --category", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_only_reconcile_is_the_audit_mode_so_azure_storage_is_not_refused()
    {
        var settings = new Dictionary<string, string?> { ["Storage:ConnectionString"] = AzureAccount };

        var repair = await RunAsync(settings, "reconcile", "--from", "2026-11-01", "--to", "2026-11-02");
        var readOnly = await RunAsync(settings, "reconcile", "--read-only", "--from", "2026-11-01", "--to", "2026-11-02");

        Assert.Equal((2, 2), (repair.Code, readOnly.Code));
        Assert.Contains("Azure account", repair.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Azure account", readOnly.Stderr, StringComparison.Ordinal);
        Assert.Contains("Fulfil__ApiKey", readOnly.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_at_sign_argument_is_text_not_a_response_file()
    {
        var (code, _, stderr) = await RunAsync(new Dictionary<string, string?>(), "exceptions", "resolve", "SkuNotFound-0123", "--note", "@ops fixed it");

        // It gets past parsing to the storage check, which needs a connection string these settings lack.
        Assert.Equal(2, code);
        Assert.Contains("Storage__ConnectionString", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bare_loopfulfil_and_the_help_word_print_help_and_exit_0()
    {
        var bare = await RunAsync(new Dictionary<string, string?>());
        var word = await RunAsync(new Dictionary<string, string?>(), "help");

        Assert.Equal((0, 0), (bare.Code, word.Code));
        Assert.Contains("loopfulfil [command]", bare.Stdout, StringComparison.Ordinal);
        Assert.Contains("loopfulfil [command]", word.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_prints_the_tools_version_and_exits_0()
    {
        var expected = typeof(LoopFulfil.Cli.CliApp).Assembly.GetName().Version!.ToString(3);

        var (code, stdout, _) = await RunAsync(new Dictionary<string, string?>(), "--version");

        Assert.Equal(0, code);
        Assert.Equal(expected, stdout.Trim());
    }
}
