using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace LoopFulfil.Core.Storage;

/// <summary><see cref="IBlobStore"/> on Azure.Storage.Blobs (block blobs, uploaded in one call or in blocks by the SDK).</summary>
public sealed partial class AzureBlobStore : IBlobStore
{
    private const string Service = "Blob storage";

    private readonly BlobServiceClient _service;
    private readonly string _containerPrefix;
    private readonly ConcurrentDictionary<string, bool> _created = new(StringComparer.Ordinal);

    /// <param name="account">Endpoint and credentials.</param>
    /// <param name="containerPrefix">Prepended (lower-cased) to every container name, as <c>Storage:TablePrefix</c> is to table names.</param>
    /// <param name="clientOptions">Retry and timeout settings.</param>
    public AzureBlobStore(StorageAccount account, string? containerPrefix = null, StorageClientOptions? clientOptions = null)
    {
        ArgumentNullException.ThrowIfNull(account);
        _service = account.CreateBlobService(clientOptions);
        _containerPrefix = (containerPrefix ?? "").ToLowerInvariant();
    }

    /// <summary>Prepended to every container name (tests scanning every blob of one run list them by it).</summary>
    public string ContainerPrefix => _containerPrefix;

    public async Task UploadAsync(string container, string name, ReadOnlyMemory<byte> content, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        var client = Container(container, out var full);
        var options = new BlobUploadOptions { Metadata = metadata?.ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase) };
        try
        {
            if (!_created.ContainsKey(full))
            {
                await client.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                _created[full] = true;
            }

            // Without conditions the upload overwrites: writers choose names that make that safe.
            await client.GetBlobClient(name).UploadAsync(BinaryData.FromBytes(content), options, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (StorageFailures.Translate(ex, Service, $"upload '{name}' to '{full}'", cancellationToken) is { } mapped)
        {
            _created.TryRemove(full, out _);
            throw mapped;
        }
    }

    public async Task<byte[]?> DownloadAsync(string container, string name, CancellationToken cancellationToken)
    {
        var client = Container(container, out var full);
        try
        {
            var result = await client.GetBlobClient(name).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return result.Value.Content.ToArray();
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
        catch (Exception ex) when (StorageFailures.Translate(ex, Service, $"download '{name}' from '{full}'", cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    public async Task<bool> DeleteAsync(string container, string name, CancellationToken cancellationToken)
    {
        var client = Container(container, out var full);
        try
        {
            return (await client.GetBlobClient(name).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return false; // the container is gone too
        }
        catch (Exception ex) when (StorageFailures.Translate(ex, Service, $"delete '{name}' from '{full}'", cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    public async IAsyncEnumerable<StoredBlob> ListAsync(string container, string? prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var client = Container(container, out var full);
        var pages = client.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, prefix, cancellationToken).AsPages();
        await using var enumerator = pages.GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            Page<BlobItem> page;
            try
            {
                if (!await enumerator.MoveNextAsync().ConfigureAwait(false))
                {
                    yield break;
                }

                page = enumerator.Current;
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                yield break; // no container yet: nothing stored
            }
            catch (Exception ex) when (StorageFailures.Translate(ex, Service, $"list '{full}'", cancellationToken) is { } mapped)
            {
                throw mapped;
            }

            foreach (var item in page.Values)
            {
                yield return new StoredBlob(
                    item.Name,
                    item.Properties.ContentLength ?? 0,
                    (IReadOnlyDictionary<string, string>?)item.Metadata ?? new Dictionary<string, string>());
            }
        }
    }

    private BlobContainerClient Container(string container, out string full)
    {
        ArgumentException.ThrowIfNullOrEmpty(container);
        full = _containerPrefix + container;
        if (!ContainerNameRegex().IsMatch(full) || full.Contains("--", StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{full}' is not a valid container name (3–63 lower-case letters, digits and single hyphens).", nameof(container));
        }

        return _service.GetBlobContainerClient(full);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")]
    private static partial Regex ContainerNameRegex();
}
