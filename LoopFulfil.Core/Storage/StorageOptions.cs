using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Storage;

/// <summary>
/// Table and Queue storage settings (section "Storage"). Either a connection string (account key; Azurite by
/// default) or, for managed identity, the service endpoints: when an endpoint is set, the connection string is ignored.
/// </summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Account-key connection string; <c>UseDevelopmentStorage=true</c> means Azurite on its default ports.</summary>
    public string? ConnectionString { get; set; } = "UseDevelopmentStorage=true";

    /// <summary>e.g. https://acct.table.core.windows.net — set for managed identity (a registered TokenCredential, else DefaultAzureCredential).</summary>
    public string? TableEndpoint { get; set; }

    /// <summary>e.g. https://acct.queue.core.windows.net — set for managed identity.</summary>
    public string? QueueEndpoint { get; set; }

    /// <summary>Prepended to every table name (a letter, then letters and digits), to share one account between deployments.</summary>
    public string? TablePrefix { get; set; }

    internal bool UsesTokenCredential => !string.IsNullOrWhiteSpace(TableEndpoint) || !string.IsNullOrWhiteSpace(QueueEndpoint);

    /// <summary>The account these settings describe; <paramref name="credential"/> is used only for endpoint (token) mode.</summary>
    public StorageAccount CreateAccount(TokenCredential? credential = null)
    {
        if (UsesTokenCredential)
        {
            return StorageAccount.FromTokenCredential(
                credential ?? new DefaultAzureCredential(),
                string.IsNullOrWhiteSpace(TableEndpoint) ? null : new Uri(TableEndpoint),
                string.IsNullOrWhiteSpace(QueueEndpoint) ? null : new Uri(QueueEndpoint));
        }

        return StorageAccount.FromConnectionString(string.IsNullOrWhiteSpace(ConnectionString) ? "UseDevelopmentStorage=true" : ConnectionString);
    }
}

public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ITableStore"/> (<see cref="AzureTableStore"/>) and <see cref="IQueueStore"/>
    /// (<see cref="AzureQueueStore"/>) as singletons, bound from section "Storage" and validated at start-up.
    /// A <see cref="TokenCredential"/> registered by the host is used in endpoint mode.
    /// </summary>
    public static IServiceCollection AddLoopFulfilStorage(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<StorageOptions>>().Value.CreateAccount(sp.GetService<TokenCredential>()));
        services.TryAddSingleton<ITableStore>(sp => new AzureTableStore(
            sp.GetRequiredService<StorageAccount>(),
            sp.GetRequiredService<IOptions<StorageOptions>>().Value.TablePrefix,
            timeProvider: sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IQueueStore>(sp => new AzureQueueStore(
            sp.GetRequiredService<StorageAccount>(),
            timeProvider: sp.GetRequiredService<TimeProvider>()));
        return services;
    }
}

internal sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        var failures = new List<string>();
        if (options.UsesTokenCredential)
        {
            foreach (var (key, value) in new[] { ("TableEndpoint", options.TableEndpoint), ("QueueEndpoint", options.QueueEndpoint) })
            {
                if (!string.IsNullOrWhiteSpace(value)
                    && !(Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps))
                {
                    failures.Add($"Storage:{key} must be an absolute https URI (bearer tokens are never sent over http).");
                }
            }
        }
        else
        {
            try
            {
                StorageConnectionString.Parse(string.IsNullOrWhiteSpace(options.ConnectionString) ? "UseDevelopmentStorage=true" : options.ConnectionString);
            }
            catch (FormatException ex)
            {
                failures.Add("Storage:ConnectionString: " + ex.Message);
            }
        }

        if (!string.IsNullOrEmpty(options.TablePrefix) && (!char.IsAsciiLetter(options.TablePrefix[0]) || !options.TablePrefix.All(char.IsAsciiLetterOrDigit)))
        {
            failures.Add("Storage:TablePrefix must start with a letter and hold only letters and digits.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
