// Package: Microsoft.Azure.Functions.Worker.Core 2.52.0 (Azure/azure-functions-dotnet-worker, tag 2.52.0, src/DotNetWorker.Core/).
// Only the invocation context and builder seams the app touches. All abstract, as in the real package, so tests
// can subclass FunctionContext/BindingContext exactly as they would against the real SDK.
using System.Collections.Immutable;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Microsoft.Azure.Functions.Worker
{
    // Source: src/DotNetWorker.Core/Context/FunctionContext.cs
    public abstract class FunctionContext
    {
        public abstract string InvocationId { get; }

        public abstract string FunctionId { get; }

        public abstract TraceContext TraceContext { get; }

        public abstract BindingContext BindingContext { get; }

        public abstract RetryContext RetryContext { get; }

        public abstract IServiceProvider InstanceServices { get; set; }

        public abstract FunctionDefinition FunctionDefinition { get; }

        public abstract IDictionary<object, object> Items { get; set; }

        public abstract IInvocationFeatures Features { get; }

        public virtual CancellationToken CancellationToken { get; } = CancellationToken.None;
    }

    // Source: src/DotNetWorker.Core/Context/BindingContext.cs
    // The real worker fills BindingData with trigger metadata; for Service Bus: MessageId, DeliveryCount, SessionId,
    // ApplicationProperties, EnqueuedTimeUtc, ...
    public abstract class BindingContext
    {
        public abstract IReadOnlyDictionary<string, object?> BindingData { get; }
    }

    // Source: src/DotNetWorker.Core/Context/RetryContext.cs
    public abstract class RetryContext
    {
        public abstract int RetryCount { get; }

        public abstract int MaxRetryCount { get; }
    }

    // Source: src/DotNetWorker.Core/Context/TraceContext.cs
    public abstract class TraceContext
    {
        public abstract string TraceParent { get; }

        public abstract string TraceState { get; }

        public virtual IReadOnlyDictionary<string, string> Attributes => ImmutableDictionary<string, string>.Empty;

        public virtual IReadOnlyDictionary<string, string> Baggage => ImmutableDictionary<string, string>.Empty;
    }

    // Source: src/DotNetWorker.Core/Context/Features/IInvocationFeatures.cs
    public interface IInvocationFeatures : IEnumerable<KeyValuePair<Type, object>>
    {
        void Set<T>(T instance);

        T? Get<T>();
    }

    // Source: src/DotNetWorker.Core/Definition/FunctionDefinition.cs
    public abstract class FunctionDefinition
    {
        public abstract ImmutableArray<FunctionParameter> Parameters { get; }

        public abstract string PathToAssembly { get; }

        public abstract string EntryPoint { get; }

        public abstract string Id { get; }

        public abstract string Name { get; }

        public abstract IImmutableDictionary<string, BindingMetadata> InputBindings { get; }

        public abstract IImmutableDictionary<string, BindingMetadata> OutputBindings { get; }
    }

    // Source: src/DotNetWorker.Core/Definition/BindingMetadata.cs
    public abstract class BindingMetadata
    {
        public abstract string Name { get; }

        public abstract string Type { get; }

        public abstract BindingDirection Direction { get; }
    }

    // Source: src/DotNetWorker.Core/Definition/BindingDirection.cs
    public enum BindingDirection
    {
        In,
        Out,
    }

    // Source: src/DotNetWorker.Core/Definition/FunctionParameter.cs
    public class FunctionParameter
    {
        public FunctionParameter(string name, Type type) => throw Surface.NotRunnable();

        public FunctionParameter(string name, Type type, bool hasDefaultValue, object? defaultValue) => throw Surface.NotRunnable();

        public FunctionParameter(string name, Type type, IReadOnlyDictionary<string, object> properties) => throw Surface.NotRunnable();

        public FunctionParameter(string name, Type type, bool hasDefaultValue, object? defaultValue, IReadOnlyDictionary<string, object> properties) => throw Surface.NotRunnable();

        public string Name => throw Surface.NotRunnable();

        public Type Type => throw Surface.NotRunnable();

        public bool HasDefaultValue => throw Surface.NotRunnable();

        public bool IsReferenceOrNullableType => throw Surface.NotRunnable();

        public object? DefaultValue => throw Surface.NotRunnable();

        public IReadOnlyDictionary<string, object> Properties => throw Surface.NotRunnable();
    }

    // Source: src/DotNetWorker.Core/Context/FunctionContextLoggerExtensions.cs
    public static class FunctionContextLoggerExtensions
    {
        public static ILogger<T> GetLogger<T>(this FunctionContext context) => throw Surface.NotRunnable();

        public static ILogger GetLogger(this FunctionContext context, string categoryName) => throw Surface.NotRunnable();
    }

    // Source: src/DotNetWorker.Core/Hosting/IFunctionsWorkerApplicationBuilder.cs
    public interface IFunctionsWorkerApplicationBuilder
    {
        IServiceCollection Services { get; }

        IFunctionsWorkerApplicationBuilder Use(Func<FunctionExecutionDelegate, FunctionExecutionDelegate> middleware);
    }

    // Not part of the real API: the single place the surface's "cannot run" failure is built.
    internal static class Surface
    {
        internal static NotSupportedException NotRunnable() =>
            new("eng/FunctionsWorkerSurface is compile-only; build with the real Microsoft.Azure.Functions.Worker packages to run.");
    }
}

namespace Microsoft.Azure.Functions.Worker.Middleware
{
    // Source: src/DotNetWorker.Core/Pipeline/FunctionExecutionDelegate.cs
    public delegate Task FunctionExecutionDelegate(FunctionContext context);

    // Source: src/DotNetWorker.Core/Pipeline/IFunctionsWorkerMiddleware.cs
    public interface IFunctionsWorkerMiddleware
    {
        Task Invoke(FunctionContext context, FunctionExecutionDelegate next);
    }
}

namespace Microsoft.Extensions.Hosting
{
    using Microsoft.Azure.Functions.Worker;

    // Source: src/DotNetWorker.Core/Hosting/WorkerMiddlewareWorkerApplicationBuilderExtensions.cs
    // (only the generic registrations; the app has no inline middleware)
    public static class MiddlewareWorkerApplicationBuilderExtensions
    {
        public static IFunctionsWorkerApplicationBuilder UseMiddleware<T>(this IFunctionsWorkerApplicationBuilder builder)
            where T : class, IFunctionsWorkerMiddleware => throw Surface.NotRunnable();

        public static IFunctionsWorkerApplicationBuilder UseWhen<T>(this IFunctionsWorkerApplicationBuilder builder, Func<FunctionContext, bool> predicate)
            where T : class, IFunctionsWorkerMiddleware => throw Surface.NotRunnable();
    }
}
