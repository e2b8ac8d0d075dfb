using System.Net;
using LoopFulfil.Core.Errors;

namespace LoopFulfil.Core.Loop;

/// <summary>Loop refused the API key (401/403): missing, revoked, or lacking the scope this call needs.</summary>
public sealed class LoopAuthenticationException : PermanentIntegrationException
{
    public LoopAuthenticationException(HttpStatusCode statusCode, string operation)
        : base($"Loop rejected the API key with HTTP {(int)statusCode} on {operation}. Check Loop:ApiKey and that the key has the scope this call needs (Returns, Developer Tools, Commerce Data).")
    {
        StatusCode = statusCode;
        Operation = operation;
    }

    public LoopAuthenticationException() { }

    public LoopAuthenticationException(string message) : base(message) { }

    public LoopAuthenticationException(string message, Exception innerException) : base(message, innerException) { }

    public HttpStatusCode StatusCode { get; }

    /// <summary>Method and path, without query string or credentials.</summary>
    public string? Operation { get; }
}

/// <summary>Loop answered 404: the return, product or other resource does not exist for this key's shop.</summary>
public sealed class LoopNotFoundException : PermanentIntegrationException
{
    public LoopNotFoundException(string operation, string? loopMessage)
        : base($"Loop has no such resource ({operation}): {loopMessage ?? "404 Not Found"}") => Operation = operation;

    public LoopNotFoundException() { }

    public LoopNotFoundException(string message) : base(message) { }

    public LoopNotFoundException(string message, Exception innerException) : base(message, innerException) { }

    public string? Operation { get; }
}

/// <summary>Loop rejected the request itself (422 or another 4xx): validation, an out-of-range list window, a bad body.</summary>
public class LoopRequestRejectedException : PermanentIntegrationException
{
    public LoopRequestRejectedException(HttpStatusCode statusCode, string operation, string? code, string? loopMessage)
        : base($"Loop rejected {operation} with HTTP {(int)statusCode}{(code is null ? "" : $" ({code})")}: {loopMessage ?? "no message"}")
    {
        StatusCode = statusCode;
        Operation = operation;
        Code = code;
        LoopMessage = loopMessage;
    }

    public LoopRequestRejectedException() { }

    public LoopRequestRejectedException(string message) : base(message) { }

    public LoopRequestRejectedException(string message, Exception innerException) : base(message, innerException) { }

    public HttpStatusCode StatusCode { get; }

    public string? Operation { get; }

    /// <summary>Loop's error code when it sent one, e.g. <c>UNPROCESSABLE_FLAGGED_RETURN</c>.</summary>
    public string? Code { get; }

    /// <summary>Loop's human-readable message (business text, no personal data).</summary>
    public string? LoopMessage { get; }
}

/// <summary>
/// A return action (process, flag, cancel, close, note, remove) answered with an <c>errors</c> object instead of
/// <c>true</c> — the return is in a state that forbids it. Loop sends this with HTTP 200 on some endpoints and 422
/// on others; either way it is permanent.
/// </summary>
public sealed class LoopActionRejectedException : LoopRequestRejectedException
{
    public LoopActionRejectedException(HttpStatusCode statusCode, string action, string returnId, string? code, string? loopMessage)
        : base(statusCode, $"{action} return {returnId}", code, loopMessage)
    {
        Action = action;
        ReturnId = returnId;
    }

    public LoopActionRejectedException() { }

    public LoopActionRejectedException(string message) : base(message) { }

    public LoopActionRejectedException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary><c>process</c>, <c>flag</c>, <c>cancel</c>, <c>close</c>, <c>note</c> or <c>remove</c>.</summary>
    public string? Action { get; }

    public string? ReturnId { get; }
}

/// <summary>429, 5xx, a timeout or a dropped connection talking to Loop: retry later.</summary>
public sealed class LoopUnavailableException : TransientIntegrationException
{
    public LoopUnavailableException(string message, HttpStatusCode? statusCode, TimeSpan? retryAfter, Exception? inner = null)
        : base(message, inner, retryAfter) => StatusCode = statusCode;

    public LoopUnavailableException() { }

    public LoopUnavailableException(string message) : base(message) { }

    public LoopUnavailableException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Null for timeouts and connection failures.</summary>
    public HttpStatusCode? StatusCode { get; }
}
