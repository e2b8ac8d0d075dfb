using Azure;

namespace LoopFulfil.Core.Storage;

/// <summary>
/// The one place an SDK failure becomes <see cref="TransientStorageException"/> or <see cref="PermanentStorageException"/>:
/// the Azure SDKs retry first (see <see cref="StorageClientOptions"/>), so what arrives here has outlasted the retries.
/// </summary>
internal static class StorageFailures
{
    /// <summary>The error code the service sent (x-ms-error-code), if any.</summary>
    public static string? CodeOf(Response response) =>
        response.Headers.TryGetValue("x-ms-error-code", out var code) && !string.IsNullOrEmpty(code) ? code : null;

    /// <summary>
    /// The storage exception for <paramref name="ex"/>, or null when <paramref name="ex"/> is not a storage failure
    /// (argument errors, or the caller's own cancellation, which must surface as itself).
    /// </summary>
    public static Exception? Translate(Exception ex, string service, string what, CancellationToken cancellationToken) => ex switch
    {
        RequestFailedException { Status: 0 } rfe => new TransientStorageException($"{service} did not answer to {what} after retries: {rfe.Message}", null, rfe.ErrorCode, rfe),
        RequestFailedException rfe => FromStatus(rfe.Status, rfe.ErrorCode, $"{service} could not {what}: {rfe.Status} {rfe.ErrorCode} {FirstLine(rfe.Message)}", rfe),
        OperationCanceledException when !cancellationToken.IsCancellationRequested =>
            new TransientStorageException($"{service} timed out trying to {what} (after retries).", null, null, ex),
        AggregateException agg when agg.InnerExceptions.All(e => IsTransport(e, cancellationToken)) =>
            new TransientStorageException($"{service} did not answer to {what} after retries: {agg.InnerExceptions[^1].Message}", null, null, ex),
        HttpRequestException or IOException => new TransientStorageException($"{service} did not answer to {what}: {ex.Message}", null, null, ex),
        _ => null,
    };

    public static Exception FromStatus(int status, string? code, string message, Exception? inner = null) => status is 408 or 429 or >= 500
        ? new TransientStorageException(message + " (after retries)", status, code, inner)
        : new PermanentStorageException(message, status, code, inner);

    private static bool IsTransport(Exception ex, CancellationToken cancellationToken) => ex switch
    {
        RequestFailedException { Status: 0 or 408 or 429 or >= 500 } => true,
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        HttpRequestException or IOException => true,
        AggregateException agg => agg.InnerExceptions.All(e => IsTransport(e, cancellationToken)),
        _ => false,
    };

    // SDK messages carry the status, headers and content after the first line; the first line is what people read.
    private static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
