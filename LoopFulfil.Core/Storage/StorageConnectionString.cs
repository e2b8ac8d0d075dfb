namespace LoopFulfil.Core.Storage;

/// <summary>
/// A parsed Azure Storage connection string: account, key and the Table/Queue endpoints. Understands
/// <c>UseDevelopmentStorage=true</c> (Azurite, path-style endpoints on 127.0.0.1) and the full
/// <c>DefaultEndpointsProtocol=...;AccountName=...;AccountKey=...;TableEndpoint=...;QueueEndpoint=...</c> form.
/// <see cref="ToString"/> never includes the key, so an instance is safe to log.
/// </summary>
public sealed class StorageConnectionString
{
    /// <summary>The Azurite / storage emulator account.</summary>
    public const string DevelopmentAccountName = "devstoreaccount1";

    /// <summary>The Azurite / storage emulator account key, published by Microsoft (not a secret).</summary>
    public const string DevelopmentAccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private StorageConnectionString(string accountName, byte[] accountKey, Uri tableEndpoint, Uri queueEndpoint)
    {
        AccountName = accountName;
        AccountKey = accountKey;
        TableEndpoint = tableEndpoint;
        QueueEndpoint = queueEndpoint;
    }

    public string AccountName { get; }

    /// <summary>Decoded account key (HMAC-SHA256 signing key).</summary>
    internal byte[] AccountKey { get; }

    /// <summary>e.g. https://acct.table.core.windows.net/ or http://127.0.0.1:10002/devstoreaccount1/ (always ends with a slash).</summary>
    public Uri TableEndpoint { get; }

    /// <summary>e.g. https://acct.queue.core.windows.net/ or http://127.0.0.1:10001/devstoreaccount1/ (always ends with a slash).</summary>
    public Uri QueueEndpoint { get; }

    /// <exception cref="FormatException">The string is malformed, lacks an account or key, or uses a SAS (unsupported).</exception>
    public static StorageConnectionString Parse(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // Split on the first '=' only: base64 keys end with '='.
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new FormatException("The storage connection string has a segment that is not 'Name=Value'.");
            }

            settings[part[..eq].Trim()] = part[(eq + 1)..].Trim();
        }

        if (settings.Count == 0)
        {
            throw new FormatException("The storage connection string is empty.");
        }

        if (settings.TryGetValue("UseDevelopmentStorage", out var dev) && bool.TryParse(dev, out var useDev) && useDev)
        {
            if (settings.ContainsKey("DevelopmentStorageProxyUri"))
            {
                throw new FormatException("DevelopmentStorageProxyUri is not supported; give explicit endpoints instead.");
            }

            return new StorageConnectionString(
                DevelopmentAccountName,
                Convert.FromBase64String(DevelopmentAccountKey),
                new Uri($"http://127.0.0.1:10002/{DevelopmentAccountName}/"),
                new Uri($"http://127.0.0.1:10001/{DevelopmentAccountName}/"));
        }

        if (settings.ContainsKey("SharedAccessSignature"))
        {
            throw new FormatException("SAS connection strings are not supported; use an account key or managed identity (Storage:TableEndpoint / Storage:QueueEndpoint).");
        }

        if (!settings.TryGetValue("AccountName", out var account) || account.Length == 0)
        {
            throw new FormatException("The storage connection string has no AccountName.");
        }

        if (!settings.TryGetValue("AccountKey", out var key) || key.Length == 0)
        {
            throw new FormatException($"The storage connection string for account '{account}' has no AccountKey.");
        }

        byte[] keyBytes;
        try
        {
            keyBytes = Convert.FromBase64String(key);
        }
        catch (FormatException)
        {
            // Never echo the key itself.
            throw new FormatException($"The AccountKey in the storage connection string for account '{account}' is not valid base64.");
        }

        var protocol = settings.TryGetValue("DefaultEndpointsProtocol", out var p) && p.Length > 0 ? p.ToLowerInvariant() : "https";
        if (protocol is not ("http" or "https"))
        {
            throw new FormatException($"DefaultEndpointsProtocol must be http or https, not '{protocol}'.");
        }

        var suffix = settings.TryGetValue("EndpointSuffix", out var s) && s.Length > 0 ? s : "core.windows.net";
        var table = Endpoint(settings, "TableEndpoint") ?? new Uri($"{protocol}://{account}.table.{suffix}/");
        var queue = Endpoint(settings, "QueueEndpoint") ?? new Uri($"{protocol}://{account}.queue.{suffix}/");
        return new StorageConnectionString(account, keyBytes, table, queue);
    }

    /// <summary>Adds the trailing slash relative paths need (path-style endpoints carry the account as a path segment).</summary>
    internal static Uri NormalizeEndpoint(Uri endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!endpoint.IsAbsoluteUri || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
        {
            throw new FormatException($"A storage endpoint must be an absolute http(s) URI, not '{endpoint}'.");
        }

        var text = endpoint.GetLeftPart(UriPartial.Path);
        return new Uri(text.EndsWith('/') ? text : text + "/");
    }

    private static Uri? Endpoint(Dictionary<string, string> settings, string name)
    {
        if (!settings.TryGetValue(name, out var value) || value.Length == 0)
        {
            return null;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri))
        {
            throw new FormatException($"{name} in the storage connection string is not an absolute URI.");
        }

        return NormalizeEndpoint(uri);
    }

    public override string ToString() => $"AccountName={AccountName};TableEndpoint={TableEndpoint};QueueEndpoint={QueueEndpoint}";
}
