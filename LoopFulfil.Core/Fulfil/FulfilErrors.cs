using LoopFulfil.Core.Errors;

namespace LoopFulfil.Core.Fulfil;

/// <summary>
/// Fulfil's 400 <c>UserError</c>: a business rule said no (wrong state, closed period, missing stock, unknown product).
/// Surface as-is; never retry around it.
/// </summary>
public sealed class FulfilUserErrorException : PermanentIntegrationException
{
    public FulfilUserErrorException(string type, string? code, string userMessage, string? description, string path)
        : base($"Fulfil rejected {path}: {type} {code}: {userMessage}".Replace("  ", " ", StringComparison.Ordinal))
    {
        Type = type;
        Code = code;
        UserMessage = userMessage;
        Description = description;
        Path = path;
    }

    public FulfilUserErrorException() : this("UserError", null, "", null, "") { }

    public FulfilUserErrorException(string message) : this("UserError", null, message, null, "") { }

    public FulfilUserErrorException(string message, Exception innerException) : base(message, innerException)
    {
        Type = "UserError";
        UserMessage = message;
        Path = "";
    }

    /// <summary>The body's <c>type</c> (normally <c>UserError</c>).</summary>
    public string Type { get; }

    /// <summary>The body's <c>code</c>, when Fulfil sent one.</summary>
    public string? Code { get; }

    /// <summary>The body's <c>message</c>.</summary>
    public string UserMessage { get; }

    /// <summary>The body's <c>description</c>.</summary>
    public string? Description { get; }

    /// <summary>Request path (model and method), for the exception record.</summary>
    public string Path { get; }
}

/// <summary>401/403: the API key or token is wrong, expired or lacks rights. Never contains the key.</summary>
public sealed class FulfilAuthenticationException : PermanentIntegrationException
{
    public FulfilAuthenticationException(int statusCode, string path)
        : base($"Fulfil refused the credentials (HTTP {statusCode}) for {path}. Check Fulfil__ApiKey and Fulfil__AuthMode; the token may be expired or lack access.")
        => StatusCode = statusCode;

    public FulfilAuthenticationException() : this(401, "") { }

    public FulfilAuthenticationException(string message) : base(message) { }

    public FulfilAuthenticationException(string message, Exception innerException) : base(message, innerException) { }

    public int StatusCode { get; }
}

/// <summary>404: the model, record or method does not exist.</summary>
public sealed class FulfilNotFoundException : PermanentIntegrationException
{
    public FulfilNotFoundException() { }

    public FulfilNotFoundException(string message) : base(message) { }

    public FulfilNotFoundException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>Any other 4xx, or a request this client refuses to send (e.g. an unbalanced journal entry).</summary>
public sealed class FulfilRequestException : PermanentIntegrationException
{
    public FulfilRequestException() { }

    public FulfilRequestException(string message) : base(message) { }

    public FulfilRequestException(string message, Exception innerException) : base(message, innerException) { }

    public FulfilRequestException(int statusCode, string message) : base(message) => StatusCode = statusCode;

    /// <summary>HTTP status, or null when the client refused before sending.</summary>
    public int? StatusCode { get; }
}

/// <summary>The source location cannot cover an internal shipment's moves (<c>assign_try</c> returned false).</summary>
public sealed class FulfilStockUnavailableException : PermanentIntegrationException
{
    public FulfilStockUnavailableException() { }

    public FulfilStockUnavailableException(string message) : base(message) { }

    public FulfilStockUnavailableException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>429 or 5xx from Fulfil after the resilience pipeline gave up; <see cref="TransientIntegrationException.RetryAfter"/> when sent.</summary>
public sealed class FulfilUnavailableException : TransientIntegrationException
{
    public FulfilUnavailableException(int statusCode, string path, TimeSpan? retryAfter)
        : base($"Fulfil answered HTTP {statusCode} for {path}.", null, retryAfter) => StatusCode = statusCode;

    public FulfilUnavailableException() { }

    public FulfilUnavailableException(string message) : base(message) { }

    public FulfilUnavailableException(string message, Exception innerException) : base(message, innerException) { }

    public int StatusCode { get; }
}
