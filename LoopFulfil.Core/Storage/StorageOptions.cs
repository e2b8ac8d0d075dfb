using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LoopFulfil.Core.Storage;

/// <summary>
/// Table, Queue and Blob storage settings (section "Storage"). Either a connection string (account key; Azurite by
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

    /// <summary>e.g. https://acct.blob.core.windows.net — large bodies; when unset in endpoint mode, derived from <see cref="TableEndpoint"/>.</summary>
    public string? BlobEndpoint { get; set; }

    /// <summary>Client id of a user-assigned managed identity (endpoint mode); unset: the registered TokenCredential, else DefaultAzureCredential.</summary>
    public string? ClientId { get; set; }

    /// <summary>Prepended to every table name (a letter, then letters and digits), to share one account between deployments; lower-cased, also to blob container names.</summary>
    public string? TablePrefix { get; set; }

    internal bool UsesTokenCredential => !string.IsNullOrWhiteSpace(TableEndpoint) || !string.IsNullOrWhiteSpace(QueueEndpoint) || !string.IsNullOrWhiteSpace(BlobEndpoint);

    /// <summary>The blob endpoint: as set, or the table endpoint's account on the blob service (<c>acct.table.…</c> → <c>acct.blob.…</c>).</summary>
    internal string? EffectiveBlobEndpoint
    {
        get
        {
            if (!string.IsNullOrWhiteSpace(BlobEndpoint))
            {
                return BlobEndpoint;
            }

            if (Uri.TryCreate(TableEndpoint, UriKind.Absolute, out var table) && table.Host.Split('.') is [var account, "table", .. var suffix] && suffix.Length > 0)
            {
                return new UriBuilder(table) { Host = string.Join('.', [account, "blob", .. suffix]), Path = "/" }.Uri.AbsoluteUri;
            }

            return null;
        }
    }

    /// <summary>The account these settings describe; <paramref name="credential"/> is used only in endpoint (token) mode without <see cref="ClientId"/>.</summary>
    public StorageAccount CreateAccount(TokenCredential? credential = null)
    {
        if (UsesTokenCredential)
        {
            var chosen = !string.IsNullOrWhiteSpace(ClientId)
                ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(ClientId))
                : credential ?? new DefaultAzureCredential();
            return StorageAccount.FromTokenCredential(chosen, OptionalUri(TableEndpoint), OptionalUri(QueueEndpoint), OptionalUri(EffectiveBlobEndpoint));
        }

        return StorageAccount.FromConnectionString(string.IsNullOrWhiteSpace(ConnectionString) ? "UseDevelopmentStorage=true" : ConnectionString);
    }

    private static Uri? OptionalUri(string? value) => string.IsNullOrWhiteSpace(value) ? null : new Uri(value);
}

public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ITableStore"/> (<see cref="AzureTableStore"/>), <see cref="IQueueStore"/>
    /// (<see cref="AzureQueueStore"/>) and <see cref="IBlobStore"/> (<see cref="AzureBlobStore"/>) as singletons,
    /// bound from section "Storage" and validated at start-up.
    /// A <see cref="TokenCredential"/> registered by the host is used in endpoint mode.
    /// </summary>
    public static IServiceCollection AddLoopFulfilStorage(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>());
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<StorageOptions>>().Value.CreateAccount(sp.GetService<TokenCredential>()));
        services.TryAddSingleton<ITableStore>(sp => new AzureTableStore(
            sp.GetRequiredService<StorageAccount>(),
            sp.GetRequiredService<IOptions<StorageOptions>>().Value.TablePrefix));
        services.TryAddSingleton<IQueueStore>(sp => new AzureQueueStore(sp.GetRequiredService<StorageAccount>()));
        services.TryAddSingleton<IBlobStore>(sp => new AzureBlobStore(
            sp.GetRequiredService<StorageAccount>(),
            sp.GetRequiredService<IOptions<StorageOptions>>().Value.TablePrefix));
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
            foreach (var (key, value) in new[] { ("TableEndpoint", options.TableEndpoint), ("QueueEndpoint", options.QueueEndpoint), ("BlobEndpoint", options.BlobEndpoint) })
            {
                if (!string.IsNullOrWhiteSpace(value)
                    && !(Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps))
                {
                    failures.Add($"Storage:{key} must be an absolute https URI (bearer tokens are never sent over http).");
                }
            }

            if (options.EffectiveBlobEndpoint is null)
            {
                failures.Add("Storage:BlobEndpoint is needed for large bodies (it can be derived only from a TableEndpoint of the form https://{account}.table.{suffix}).");
            }
        }
        else
        {
            try
            {
                StorageAccount.FromConnectionString(string.IsNullOrWhiteSpace(options.ConnectionString) ? "UseDevelopmentStorage=true" : options.ConnectionString);
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
