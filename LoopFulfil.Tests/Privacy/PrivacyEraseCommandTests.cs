using LoopFulfil.Cli;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Storage;
using LoopFulfil.Tests.Builders;
using LoopFulfil.Tests.Infrastructure;

namespace LoopFulfil.Tests.Privacy;

/// <summary><c>loopfulfil privacy erase --email</c> against the configured storage (Azurite): the wiring of <c>ErasureService</c>.</summary>
public sealed class PrivacyEraseCommandTests
{
    [Fact]
    public async Task Privacy_erase_masks_the_persons_ledger_snapshot_prints_a_receipt_of_keys_and_a_second_run_changes_nothing()
    {
        var connection = await AzuriteTestServer.GetConnectionStringAsync();
        var prefix = AzuriteTestServer.UniqueTableName("pe");
        var account = StorageAccount.FromConnectionString(connection);
        var ledger = new ReturnLedger(new AzureTableStore(account, prefix), new AzureBlobStore(account, prefix), TimeProvider.System);
        DateTimeOffset at = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
        await ledger.AdvanceSnapshotAsync("910001", at, "closed", PersonalValues.Zeb.On(LoopReturnBuilder.AReturn("910001").WithState("closed").WithLine("TEE-BLK-M", 25.00m)).BuildBytes(), CancellationToken.None);
        await ledger.AdvanceSnapshotAsync("910002", at, "closed", PersonalValues.Ottilie.On(LoopReturnBuilder.AReturn("910002").WithState("closed").WithLine("SOCK-3PK", 12.00m)).BuildBytes(), CancellationToken.None);
        var settings = new Dictionary<string, string?> { ["Storage:ConnectionString"] = connection, ["Storage:TablePrefix"] = prefix };

        var first = await RunAsync(settings, "privacy", "erase", "--email", PersonalValues.Zeb.Email);
        var second = await RunAsync(settings, "privacy", "erase", "--email", PersonalValues.Zeb.Email);
        var zeb = System.Text.Encoding.UTF8.GetString((await ledger.GetSnapshotAsync("910001", CancellationToken.None))!.Body);
        var ottilie = System.Text.Encoding.UTF8.GetString((await ledger.GetSnapshotAsync("910002", CancellationToken.None))!.Body);

        Assert.Equal(0, first.Code);
        Assert.Contains("Loop returns of the person: 910001", first.Stdout, StringComparison.Ordinal);
        Assert.Contains("table returns  910001 / record  [Snapshot]  masked", first.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(PersonalValues.Zeb.Scanned, v => first.Stdout.Contains(v, StringComparison.OrdinalIgnoreCase) || zeb.Contains(v, StringComparison.OrdinalIgnoreCase));
        Assert.Contains(PersonalValues.Ottilie.Email, ottilie, StringComparison.Ordinal);
        Assert.Contains("TEE-BLK-M", zeb, StringComparison.Ordinal);
        Assert.Equal(0, second.Code);
        Assert.Contains("changed now: 0", second.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Privacy_erase_without_an_email_names_the_missing_option_and_exits_2()
    {
        var result = await RunAsync(new Dictionary<string, string?>(), "privacy", "erase");

        Assert.Equal(2, result.Code);
        Assert.Contains("--email", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("loopfulfil privacy erase --help", result.Stderr, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(IDictionary<string, string?> settings, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await CliApp.RunAsync(args, new CliContext(stdout, stderr) { ReadProcessConfiguration = false, Settings = settings });
        return (code, stdout.ToString(), stderr.ToString());
    }
}
