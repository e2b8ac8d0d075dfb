using LoopFulfil.Chaos;

namespace LoopFulfil.Tests.Chaos;

/// <summary>The chaos command's options on System.CommandLine: a bad value is a usage error (exit 2) before anything starts.</summary>
public sealed class ChaosCommandTests
{
    [Theory]
    [InlineData("--returns", "many")]
    [InlineData("--returns", "1")]
    [InlineData("--before", "1.5")]
    [InlineData("--loop-after", "-0.1")]
    [InlineData("--posting-mode", "Hourly")]
    [InlineData("--set", "no-equals-sign")]
    [InlineData("--no-such-option", "1")]
    public async Task A_bad_option_is_a_usage_error_with_exit_code_2_that_names_it(string name, string value)
    {
        var output = new StringWriter();

        var exit = await ChaosCommand.RunAsync([name, value], output, CancellationToken.None);

        Assert.Equal(2, exit);
        Assert.StartsWith("chaos: ", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_lists_the_options_and_starts_nothing()
    {
        var output = new StringWriter();

        var exit = await ChaosCommand.RunAsync(["--help"], output, CancellationToken.None);

        Assert.Equal(0, exit);
        foreach (var option in new[] { "--returns", "--seed", "--before", "--after", "--loop-before", "--loop-after", "--restarts", "--posting-mode", "--set" })
        {
            Assert.Contains(option, output.ToString(), StringComparison.Ordinal);
        }
    }
}
