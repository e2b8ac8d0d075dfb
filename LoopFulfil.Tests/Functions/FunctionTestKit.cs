using System.Collections.Concurrent;
using System.Collections.Immutable;
using LoopFulfil.Functions.Messaging;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace LoopFulfil.Tests.Functions;

/// <summary>
/// What the Functions host hands a function, built by hand: a <see cref="FunctionContext"/> carrying Service Bus
/// trigger binding data, and HTTP requests/responses on <see cref="DefaultHttpContext"/>.
/// </summary>
internal static class FunctionTestKit
{
    public static HttpRequest Post(byte[] body, string? signature, bool declareLength = true)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Post;
        context.Request.Body = new MemoryStream(body, writable: false);
        context.Request.ContentLength = declareLength ? body.Length : null;
        if (signature is not null)
        {
            context.Request.Headers["X-Loop-Signature"] = signature;
        }

        context.Response.Body = new MemoryStream();
        return context.Request;
    }

    public static HttpRequest Request(string method, string queryString = "")
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.QueryString = new QueryString(queryString);
        context.Response.Body = new MemoryStream();
        return context.Request;
    }

    /// <summary>Runs <paramref name="result"/> the way MVC would and returns what went on the wire.</summary>
    public static async Task<(int Status, IHeaderDictionary Headers, string? ContentType, string Body)> ExecuteAsync(IActionResult result, HttpRequest request)
    {
        var http = request.HttpContext;
        await result.ExecuteResultAsync(new ActionContext(http, new RouteData(), new ActionDescriptor()));
        var body = (MemoryStream)http.Response.Body;
        return (http.Response.StatusCode, http.Response.Headers, http.Response.ContentType, System.Text.Encoding.UTF8.GetString(body.ToArray()));
    }
}

/// <summary>A function invocation's context; only the binding data and cancellation are real.</summary>
internal sealed class TestFunctionContext(IReadOnlyDictionary<string, object?> bindingData, CancellationToken cancellationToken = default) : FunctionContext
{
    public override string InvocationId { get; } = Guid.NewGuid().ToString("N");

    public override string FunctionId => "test";

    public override TraceContext TraceContext => throw new NotSupportedException("Not used by LoopFulfil functions.");

    public override BindingContext BindingContext { get; } = new TestBindingContext(bindingData);

    public override RetryContext RetryContext => throw new NotSupportedException("Not used by LoopFulfil functions.");

    public override IServiceProvider InstanceServices { get; set; } = EmptyServiceProvider.Instance;

    public override FunctionDefinition FunctionDefinition => throw new NotSupportedException("Not used by LoopFulfil functions.");

    public override IDictionary<object, object> Items { get; set; } = new Dictionary<object, object>();

    public override IInvocationFeatures Features => throw new NotSupportedException("Not used by LoopFulfil functions.");

    public override CancellationToken CancellationToken { get; } = cancellationToken;

    /// <summary>Binding data as the Service Bus trigger supplies it for one message.</summary>
    public static TestFunctionContext ForServiceBus(string messageId, string? sessionId, object deliveryCount, object? applicationProperties)
    {
        var data = new Dictionary<string, object?>
        {
            [ServiceBusBindingData.MessageIdKey] = messageId,
            [ServiceBusBindingData.DeliveryCountKey] = deliveryCount,
            [ServiceBusBindingData.ApplicationPropertiesKey] = applicationProperties,
            ["EnqueuedTimeUtc"] = "2026-11-21T10:00:00Z",
        };
        if (sessionId is not null)
        {
            data[ServiceBusBindingData.SessionIdKey] = sessionId;
        }

        return new TestFunctionContext(data);
    }

    private sealed class TestBindingContext(IReadOnlyDictionary<string, object?> data) : BindingContext
    {
        public override IReadOnlyDictionary<string, object?> BindingData => data;
    }

    private sealed class EmptyServiceProvider : IServiceProvider
    {
        public static readonly EmptyServiceProvider Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}

/// <summary>Keeps each log entry with its structured properties (what Application Insights gets as custom dimensions).</summary>
internal sealed class StructuredLogger<T> : ILogger<T>
{
    public ConcurrentQueue<(LogLevel Level, string Message, IReadOnlyDictionary<string, object?> Properties)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var properties = state is IEnumerable<KeyValuePair<string, object?>> pairs
            ? pairs.ToImmutableDictionary(p => p.Key, p => p.Value)
            : ImmutableDictionary<string, object?>.Empty;
        Entries.Enqueue((logLevel, formatter(state, exception), properties));
    }
}

/// <summary>An implementation of <typeparamref name="T"/> that fails the test on any call.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1852:Seal internal types", Justification = "DispatchProxy derives a type from it at run time.")]
internal class NotCalled<T> : System.Reflection.DispatchProxy
    where T : class
{
    public static T Create() => Create<T, NotCalled<T>>();

    protected override object? Invoke(System.Reflection.MethodInfo? targetMethod, object?[]? args) =>
        throw new InvalidOperationException($"{typeof(T).Name}.{targetMethod?.Name} must not be called here.");
}
