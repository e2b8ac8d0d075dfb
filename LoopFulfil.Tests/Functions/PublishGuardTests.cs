using System.Diagnostics;

namespace LoopFulfil.Tests.Functions;

/// <summary>
/// A build whose Service Bus trigger came from eng/FunctionsWorkerSurface must not be packaged (ADR 0007). Runs the
/// project's guard target through MSBuild (evaluation only: nothing is compiled or published).
/// </summary>
public class PublishGuardTests
{
    [Fact]
    public async Task Publishing_a_surface_build_fails_with_a_message_naming_the_cause_and_the_fix()
    {
        var (exitCode, output) = await RunGuardAsync(surface: true);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("LOOPFULFIL001", output, StringComparison.Ordinal);
        Assert.Contains("eng/FunctionsWorkerSurface", output, StringComparison.Ordinal);
        Assert.Contains("-p:FunctionsWorkerSurface=false", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Publishing_a_build_on_the_real_service_bus_extension_passes_the_guard()
    {
        var (exitCode, output) = await RunGuardAsync(surface: false);

        Assert.True(exitCode == 0, output);
        Assert.DoesNotContain("LOOPFULFIL001", output, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output)> RunGuardAsync(bool surface)
    {
        var project = Path.Combine(Deployment.ArmTemplate.RepoRoot(), "LoopFulfil.Functions", "LoopFulfil.Functions.csproj");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "msbuild", project, "-t:LoopFulfilRefuseSurfacePublish", $"-p:FunctionsWorkerSurface={(surface ? "true" : "false")}", "-nologo", "-v:m", "-nodeReuse:false" })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
