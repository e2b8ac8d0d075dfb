using LoopFulfil.Cli;
using LoopFulfil.Core.Storage;
using LoopFulfil.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static LoopFulfil.Tests.Cli.CliTestSupport;

namespace LoopFulfil.Tests.Cli;

/// <summary><c>serve</c> never falls into the sandbox by itself, and the sandbox never touches configured storage or keys.</summary>
public sealed class ServeModeTests(ServeAzurite azurite) : IClassFixture<ServeAzurite>
{
    [Fact]
    public async Task Serve_without_credentials_refuses_to_start_naming_the_missing_settings()
    {
        var settings = FastSettings(azurite.ConnectionString);
        settings["Loop:ApiKey"] = "real-loop-key";
        using var stop = new CancellationTokenSource();
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var started = false;
        var context = new CliContext(TextWriter.Synchronized(stdout), TextWriter.Synchronized(stderr))
        {
            ReadProcessConfiguration = false,
            Settings = settings,
            Stopping = stop.Token,

            // Should a host start after all (the old fallback into the sandbox), stop it so the test ends and fails.
            OnServeStarted = _ =>
            {
                started = true;
                stop.Cancel();
            },
        };

        var code = await CliApp.RunAsync(["serve"], context).Guarded();

        Assert.False(started, "serve started a host without Loop and Fulfil credentials");
        Assert.Equal(2, code);
        var message = stderr.ToString();
        Assert.Contains("Fulfil__ApiKey", message, StringComparison.Ordinal);
        Assert.Contains("Fulfil__BaseUrl", message, StringComparison.Ordinal);
        Assert.DoesNotContain("Loop__ApiKey", message, StringComparison.Ordinal);
        Assert.Contains("--sandbox", message, StringComparison.Ordinal);
        Assert.DoesNotContain("SANDBOX", stdout.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_sandbox_uses_private_storage_and_shows_only_keys_made_for_it()
    {
        var settings = FastSettings(azurite.ConnectionString);
        settings["LocalHost:AdminKey"] = "configured-admin-key-for-real-use";
        settings["Webhooks:Secret"] = "configured-webhook-secret-for-real-use";

        await using var serve = await StartServeAsync(settings, "--sandbox");
        var sandbox = serve.Host.Sandbox!;
        var storage = serve.Host.Services.GetRequiredService<IOptions<StorageOptions>>().Value;

        Assert.NotEqual(azurite.ConnectionString, sandbox.StorageConnectionString);
        Assert.Equal(sandbox.StorageConnectionString, storage.ConnectionString);
        Assert.NotEqual("configured-admin-key-for-real-use", sandbox.AdminKey);
        Assert.DoesNotContain("configured-admin-key-for-real-use", serve.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("configured-webhook-secret-for-real-use", serve.Stdout, StringComparison.Ordinal);
        Assert.Contains(sandbox.AdminKey, serve.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, await serve.StopAsync());
    }
}
