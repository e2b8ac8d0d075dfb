using LoopFulfil.Cli.Hosting;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.LocalHost;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LoopFulfil.Cli.Operator;

/// <summary>
/// The services operator commands read and write through: the configured storage, exception records, the return
/// ledger, and the single-machine queue sender (a replay enqueues where <c>loopfulfil serve</c> consumes).
/// </summary>
internal static class OperatorServices
{
    /// <summary>Builds them, or writes which setting is missing (naming it as an environment variable) and returns null.</summary>
    public static ServiceProvider? TryBuild(CliContext context, IConfiguration configuration)
    {
        if (!CliConfiguration.IsSet(configuration, "Storage:ConnectionString")
            && !CliConfiguration.IsSet(configuration, "Storage:TableEndpoint"))
        {
            context.Stderr.WriteLine(
                "No storage is configured: set Storage__ConnectionString (UseDevelopmentStorage=true for Azurite on its default ports, " +
                "or the account's connection string), or Storage__TableEndpoint and Storage__QueueEndpoint for managed identity.");
            return null;
        }

        var services = new ServiceCollection();
        services.AddLogging();
        services.TryAddSingleton(TimeProvider.System);
        services.AddLoopFulfilStorage(configuration);
        services.AddLoopFulfilLocalHost(configuration);
        services.AddLoopFulfilExceptions(configuration);
        services.TryAddSingleton<ReturnLedger>();
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
    }

    private static ServiceProvider? TryBuildCustom(CliContext context, IConfiguration configuration, IServiceCollection custom)
    {
        using var check = TryBuild(context, configuration);
        return check is null ? null : custom.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
    }

    /// <summary>True when storage is reached through endpoints (Azure, managed identity) rather than a connection string.</summary>
    public static bool UsesAzureEndpoints(IConfiguration configuration) =>
        CliConfiguration.IsSet(configuration, "Storage:TableEndpoint") || CliConfiguration.IsSet(configuration, "Storage:QueueEndpoint");

    /// <summary>Runs <paramref name="action"/>, turning storage failures into a message naming the storage setting.</summary>
    public static Task<int> RunAsync(CliContext context, IConfiguration configuration, Func<IServiceProvider, Task<int>> action) =>
        RunAsync(context, configuration, null, action);

    /// <summary>As above, with <paramref name="custom"/> services instead of the operator set (still needing storage).</summary>
    public static async Task<int> RunAsync(CliContext context, IConfiguration configuration, IServiceCollection? custom, Func<IServiceProvider, Task<int>> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        using var services = custom is null ? TryBuild(context, configuration) : TryBuildCustom(context, configuration, custom);
        if (services is null)
        {
            return 2;
        }

        try
        {
            return await action(services).ConfigureAwait(false);
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException ex)
        {
            SettingsProblems.Write(context.Stderr, ex);
            return 2;
        }
        catch (Exception ex) when (ex is HttpRequestException or Core.Errors.TransientIntegrationException or PermanentStorageException or TaskCanceledException)
        {
            context.Stderr.WriteLine($"Could not reach storage (Storage__ConnectionString / Storage__TableEndpoint): {ex.GetType().Name}: {ex.Message}");
            return 3;
        }
    }
}
