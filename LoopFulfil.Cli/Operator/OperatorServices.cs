using LoopFulfil.Cli.Hosting;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Privacy;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Storage;
using LoopFulfil.LocalHost;
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
        services.AddLoopFulfilPrivacy(configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
    }

    private static ServiceProvider? TryBuildCustom(CliContext context, IConfiguration configuration, IServiceCollection custom)
    {
        using var check = TryBuild(context, configuration);
        return check is null ? null : custom.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
    }

    /// <summary>
    /// True when storage is this machine's (Azurite: <c>UseDevelopmentStorage=true</c>, or endpoints on loopback), so the
    /// queues a command sends to are the ones <c>loopfulfil serve</c> drains. False for an Azure account: there the
    /// Functions app consumes Service Bus, and a Storage queue message would never be read. Not configured counts as
    /// local (the storage check then names the setting).
    /// </summary>
    public static bool UsesLocalStorage(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        foreach (var key in new[] { "Storage:TableEndpoint", "Storage:QueueEndpoint", "Storage:BlobEndpoint" })
        {
            if (CliConfiguration.IsSet(configuration, key) && !IsLoopback(configuration[key]))
            {
                return false;
            }
        }

        if (!CliConfiguration.IsSet(configuration, "Storage:ConnectionString"))
        {
            return true;
        }

        var settings = configuration["Storage:ConnectionString"]!
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(part => part.Split('=', 2))
            .Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.OrdinalIgnoreCase);
        if (settings.TryGetValue("UseDevelopmentStorage", out var dev) && bool.TryParse(dev, out var useDev) && useDev)
        {
            return true;
        }

        // An account key with explicit endpoints is local only when every endpoint is.
        var endpoints = settings.Where(p => p.Key.EndsWith("Endpoint", StringComparison.OrdinalIgnoreCase)).Select(p => p.Value).ToList();
        return endpoints.Count > 0 && endpoints.All(IsLoopback);
    }

    /// <summary>The refusal an operator command that would send a message prints when storage is an Azure account.</summary>
    public static string AzureStorageRefusal(string what, string instead) =>
        $"Storage points at an Azure account: {what} would go to a Storage queue that nothing reads there (the Function App consumes Service Bus), so nothing is sent. {instead}";

    private static bool IsLoopback(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri)
        && (uri.IsLoopback || string.Equals(uri.Host, "127.0.0.1", StringComparison.Ordinal));

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
