using LoopFulfil.Cli;

namespace LoopFulfil.Tests;

public class CliTests
{
    [Fact]
    public async Task Help_lists_the_commands_and_exits_zero()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var code = await CliApp.RunAsync(["--help"], stdout, stderr);

        Assert.Equal(0, code);
        Assert.Contains("loopfulfil", stdout.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_command_is_an_error_that_names_help()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var code = await CliApp.RunAsync(["frobnicate"], stdout, stderr);

        Assert.NotEqual(0, code);
        Assert.Contains("--help", stderr.ToString(), StringComparison.Ordinal);
    }
}
