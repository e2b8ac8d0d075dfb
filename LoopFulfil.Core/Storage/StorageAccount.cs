using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;

namespace LoopFulfil.Core.Storage;

/// <summary>
/// Where the Table and Queue services are and how to authenticate to them: an account key (connection string,
/// Azurite) or a <see cref="TokenCredential"/> (managed identity). Both stores build their Azure.Core pipeline here,
/// so signing lives in one place.
/// </summary>
public sealed class StorageAccount
{
    /// <summary>Entra ID scope for Azure Storage data-plane access.</summary>
    public const string StorageScope = "https://storage.azure.com/.default";

    private readonly StorageConnectionString? _sharedKey;
    private readonly TokenCredential? _credential;

    private StorageAccount(StorageConnectionString? sharedKey, TokenCredential? credential, Uri? tableEndpoint, Uri? queueEndpoint)
    {
        _sharedKey = sharedKey;
        _credential = credential;
        TableEndpoint = tableEndpoint;
        QueueEndpoint = queueEndpoint;
    }

    /// <summary>Table service endpoint, ending with a slash; null when only queues were configured.</summary>
    public Uri? TableEndpoint { get; }

    /// <summary>Queue service endpoint, ending with a slash; null when only tables were configured.</summary>
    public Uri? QueueEndpoint { get; }

    /// <summary>Shared-key authentication from a connection string (including <c>UseDevelopmentStorage=true</c>).</summary>
    public static StorageAccount FromConnectionString(string connectionString)
    {
        var parsed = StorageConnectionString.Parse(connectionString);
        return new StorageAccount(parsed, null, parsed.TableEndpoint, parsed.QueueEndpoint);
    }

    /// <summary>Bearer-token authentication (managed identity) against explicit https endpoints.</summary>
    public static StorageAccount FromTokenCredential(TokenCredential credential, Uri? tableEndpoint, Uri? queueEndpoint)
    {
        ArgumentNullException.ThrowIfNull(credential);
        if (tableEndpoint is null && queueEndpoint is null)
        {
            throw new ArgumentException("Token authentication needs at least one of the table or queue endpoints.");
        }

        return new StorageAccount(
            null,
            credential,
            tableEndpoint is null ? null : StorageConnectionString.NormalizeEndpoint(tableEndpoint),
            queueEndpoint is null ? null : StorageConnectionString.NormalizeEndpoint(queueEndpoint));
    }

    internal Uri RequireEndpoint(StorageService service) => (service == StorageService.Table ? TableEndpoint : QueueEndpoint)
        ?? throw new InvalidOperationException($"No {service} endpoint is configured (set Storage:{service}Endpoint or a connection string).");

    internal HttpPipeline CreatePipeline(StorageService service, StorageClientOptions? options, TimeProvider timeProvider)
    {
        options ??= new StorageClientOptions();
        var version = new StorageVersionPolicy(service == StorageService.Table ? "2019-02-02" : "2021-08-06", timeProvider);
        HttpPipelinePolicy auth = _sharedKey is not null
            ? new SharedKeyPolicy(_sharedKey.AccountName, _sharedKey.AccountKey, service)
            : new BearerTokenAuthenticationPolicy(_credential!, StorageScope);
        // Date and signature are per retry: a retried request must be re-signed with a fresh date.
        return HttpPipelineBuilder.Build(options, [], [version, auth], new ResponseClassifier());
    }
}

internal enum StorageService
{
    Table,
    Queue,
}

/// <summary>
/// Pipeline options for both stores: exponential retry of 408/429/500/502/503/504 and network failures, a network
/// timeout well below the Functions timeout.
/// </summary>
public sealed class StorageClientOptions : ClientOptions
{
    public StorageClientOptions()
    {
        Retry.Mode = RetryMode.Exponential;
        Retry.MaxRetries = 4;
        Retry.Delay = TimeSpan.FromMilliseconds(400);
        Retry.MaxDelay = TimeSpan.FromSeconds(8);
        Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        Diagnostics.IsLoggingContentEnabled = false;
    }
}

internal sealed class StorageVersionPolicy(string version, TimeProvider timeProvider) : HttpPipelineSynchronousPolicy
{
    public override void OnSendingRequest(HttpMessage message)
    {
        message.Request.Headers.SetValue("x-ms-version", version);
        message.Request.Headers.SetValue("x-ms-date", timeProvider.GetUtcNow().ToString("R", CultureInfo.InvariantCulture));
    }
}

/// <summary>
/// Shared Key signing: SharedKeyLite for the Table service (what Azure.Data.Tables sends), full SharedKey for the
/// Queue service. The canonical resource is "/{account}{path}", so path-style Azurite endpoints sign
/// "/devstoreaccount1/devstoreaccount1/...".
/// </summary>
internal sealed class SharedKeyPolicy(string accountName, byte[] key, StorageService service) : HttpPipelineSynchronousPolicy
{
    public override void OnSendingRequest(HttpMessage message)
    {
        var request = message.Request;
        var uri = request.Uri.ToUri();
        var stringToSign = service == StorageService.Table ? TableStringToSign(request, uri) : QueueStringToSign(request, uri);
        var signature = Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
        var scheme = service == StorageService.Table ? "SharedKeyLite" : "SharedKey";
        request.Headers.SetValue("Authorization", $"{scheme} {accountName}:{signature}");
    }

    private string TableStringToSign(Request request, Uri uri)
    {
        request.Headers.TryGetValue("x-ms-date", out var date);
        var resource = new StringBuilder("/").Append(accountName).Append(uri.AbsolutePath);
        var comp = QueryParameters(uri).FirstOrDefault(p => p.Name == "comp");
        if (comp.Name is not null)
        {
            resource.Append("?comp=").Append(comp.Value);
        }

        return date + "\n" + resource;
    }

    private string QueueStringToSign(Request request, Uri uri)
    {
        string Header(string name) => request.Headers.TryGetValue(name, out var v) ? v : "";

        var length = request.Content is not null && request.Content.TryComputeLength(out var l) && l > 0
            ? l.ToString(CultureInfo.InvariantCulture)
            : "";
        var sb = new StringBuilder();
        sb.Append(request.Method.Method.ToUpperInvariant()).Append('\n')
            .Append(Header("Content-Encoding")).Append('\n')
            .Append(Header("Content-Language")).Append('\n')
            .Append(length).Append('\n')
            .Append(Header("Content-MD5")).Append('\n')
            .Append(Header("Content-Type")).Append('\n')
            .Append('\n') // Date: x-ms-date is signed among the canonical headers instead.
            .Append(Header("If-Modified-Since")).Append('\n')
            .Append(Header("If-Match")).Append('\n')
            .Append(Header("If-None-Match")).Append('\n')
            .Append(Header("If-Unmodified-Since")).Append('\n')
            .Append(Header("Range")).Append('\n');
        foreach (var header in request.Headers
            .Where(h => h.Name.StartsWith("x-ms-", StringComparison.OrdinalIgnoreCase))
            .Select(h => (Name: h.Name.ToLowerInvariant(), h.Value))
            .OrderBy(h => h.Name, StringComparer.Ordinal))
        {
            sb.Append(header.Name).Append(':').Append(header.Value.Trim()).Append('\n');
        }

        sb.Append('/').Append(accountName).Append(uri.AbsolutePath);
        foreach (var group in QueryParameters(uri).GroupBy(p => p.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            sb.Append('\n').Append(group.Key).Append(':')
                .Append(string.Join(',', group.Select(p => p.Value).Order(StringComparer.Ordinal)));
        }

        return sb.ToString();
    }

    private static IEnumerable<(string Name, string Value)> QueryParameters(Uri uri)
    {
        var query = uri.Query.TrimStart('?');
        if (query.Length == 0)
        {
            yield break;
        }

        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? pair : pair[..eq];
            var value = eq < 0 ? "" : pair[(eq + 1)..];
            yield return (Uri.UnescapeDataString(name).ToLowerInvariant(), Uri.UnescapeDataString(value));
        }
    }
}
