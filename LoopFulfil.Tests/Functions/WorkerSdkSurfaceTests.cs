using System.Reflection;

namespace LoopFulfil.Tests.Functions;

/// <summary>
/// Pins the Worker SDK API the app compiles against to the documented signatures of the real packages
/// (Worker 2.52.0, Extensions.Abstractions 1.3.0, Http 3.3.0, Http.AspNetCore 2.1.1, ServiceBus 5.24.0, Timer 4.3.1),
/// plus the Azure.Messaging.ServiceBus 7.20.1 members the Service Bus sender uses.
/// Against eng/FunctionsWorkerSurface both directions are checked (nothing missing, nothing invented); against the
/// real packages only "nothing missing", since they have members the app does not use.
/// </summary>
public class WorkerSdkSurfaceTests
{
    private const string SurfaceAssembly = "LoopFulfil.FunctionsWorkerSurface";

    private static readonly string[] CandidateAssemblies =
    [
        SurfaceAssembly,
        "Microsoft.Azure.Functions.Worker",
        "Microsoft.Azure.Functions.Worker.Core",
        "Microsoft.Azure.Functions.Worker.Extensions.Abstractions",
        "Microsoft.Azure.Functions.Worker.Extensions.Http",
        "Microsoft.Azure.Functions.Worker.Extensions.Http.AspNetCore",
        "Microsoft.Azure.Functions.Worker.Extensions.ServiceBus",
        "Microsoft.Azure.Functions.Worker.Extensions.Timer",
        "Azure.Messaging.ServiceBus",
    ];

    private const string Abs = "Microsoft.Azure.Functions.Worker.Extensions.Abstractions";
    private const string W = "Microsoft.Azure.Functions.Worker";
    private const string Sb = "Azure.Messaging.ServiceBus";

    /// <summary>The documented API, type by type: header line, required interfaces, public members.</summary>
    public static readonly IReadOnlyDictionary<string, ExpectedType> Documented = new Dictionary<string, ExpectedType>
    {
        // Extensions.Abstractions 1.3.0
        [$"{W}.FunctionAttribute"] = new($"class {W}.FunctionAttribute : System.Attribute [usage: Method]",
            [".ctor(String name)", "String Name { get; }"]),
        [$"{Abs}.BindingAttribute"] = new($"abstract class {Abs}.BindingAttribute : System.Attribute [usage: Method]", [".ctor()"]),
        [$"{Abs}.InputBindingAttribute"] = new($"abstract class {Abs}.InputBindingAttribute : {Abs}.BindingAttribute [usage: Parameter]", [".ctor()"]),
        [$"{Abs}.OutputBindingAttribute"] = new($"abstract class {Abs}.OutputBindingAttribute : {Abs}.BindingAttribute [usage: Method, Property]", [".ctor()"]),
        [$"{Abs}.TriggerBindingAttribute"] = new($"abstract class {Abs}.TriggerBindingAttribute : {Abs}.BindingAttribute [usage: Parameter]", [".ctor()"]),
        [$"{Abs}.ISupportCardinality"] = new($"interface {Abs}.ISupportCardinality", ["Cardinality Cardinality { get; set; }"]),
        [$"{Abs}.Cardinality"] = new($"enum {Abs}.Cardinality", ["Many = 0", "One = 1"]),
        [$"{Abs}.DefaultValueAttribute"] = new($"class {Abs}.DefaultValueAttribute : System.Attribute [usage: Property]",
            [".ctor(String stringDefault)", ".ctor(Boolean boolDefault)", "String? DefaultStringValue { get; }", "Boolean? DefaultBoolValue { get; }"]),
        [$"{W}.RetryAttribute"] = new($"abstract class {W}.RetryAttribute : System.Attribute [usage: Method]",
            [".ctor()", "Int32 MaxRetryCount { get; set; }"]),
        [$"{W}.FixedDelayRetryAttribute"] = new($"sealed class {W}.FixedDelayRetryAttribute : {W}.RetryAttribute [usage: Method]",
            [".ctor(Int32 maxRetryCount, String delayInterval)", "String DelayInterval { get; }"]),
        [$"{W}.ExponentialBackoffRetryAttribute"] = new($"sealed class {W}.ExponentialBackoffRetryAttribute : {W}.RetryAttribute [usage: Method]",
            [".ctor(Int32 maxRetryCount, String minimumInterval, String maximumInterval)", "String MinimumInterval { get; }", "String MaximumInterval { get; }"]),

        // Worker.Core 2.52.0
        [$"{W}.FunctionContext"] = new($"abstract class {W}.FunctionContext",
        [
            "abstract String InvocationId { get; }", "abstract String FunctionId { get; }", "abstract TraceContext TraceContext { get; }",
            "abstract BindingContext BindingContext { get; }", "abstract RetryContext RetryContext { get; }",
            "abstract IServiceProvider InstanceServices { get; set; }", "abstract FunctionDefinition FunctionDefinition { get; }",
            "abstract IDictionary<Object, Object> Items { get; set; }", "abstract IInvocationFeatures Features { get; }",
            "virtual CancellationToken CancellationToken { get; }",
        ]),
        [$"{W}.BindingContext"] = new($"abstract class {W}.BindingContext", ["abstract IReadOnlyDictionary<String, Object?> BindingData { get; }"]),
        [$"{W}.RetryContext"] = new($"abstract class {W}.RetryContext", ["abstract Int32 RetryCount { get; }", "abstract Int32 MaxRetryCount { get; }"]),
        [$"{W}.TraceContext"] = new($"abstract class {W}.TraceContext",
        [
            "abstract String TraceParent { get; }", "abstract String TraceState { get; }",
            "virtual IReadOnlyDictionary<String, String> Attributes { get; }", "virtual IReadOnlyDictionary<String, String> Baggage { get; }",
        ]),
        [$"{W}.IInvocationFeatures"] = new($"interface {W}.IInvocationFeatures", ["void Set<T>(T instance)", "T Get<T>()"],
            Interfaces: ["System.Collections.Generic.IEnumerable`1[[System.Collections.Generic.KeyValuePair`2[[System.Type", "System.Collections.IEnumerable"]),
        [$"{W}.FunctionDefinition"] = new($"abstract class {W}.FunctionDefinition",
        [
            "abstract ImmutableArray<FunctionParameter> Parameters { get; }", "abstract String PathToAssembly { get; }",
            "abstract String EntryPoint { get; }", "abstract String Id { get; }", "abstract String Name { get; }",
            "abstract IImmutableDictionary<String, BindingMetadata> InputBindings { get; }",
            "abstract IImmutableDictionary<String, BindingMetadata> OutputBindings { get; }",
        ]),
        [$"{W}.BindingMetadata"] = new($"abstract class {W}.BindingMetadata",
            ["abstract String Name { get; }", "abstract String Type { get; }", "abstract BindingDirection Direction { get; }"]),
        [$"{W}.BindingDirection"] = new($"enum {W}.BindingDirection", ["In = 0", "Out = 1"]),
        [$"{W}.FunctionParameter"] = new($"class {W}.FunctionParameter",
        [
            ".ctor(String name, Type type)", ".ctor(String name, Type type, Boolean hasDefaultValue, Object? defaultValue)",
            ".ctor(String name, Type type, IReadOnlyDictionary<String, Object> properties)",
            ".ctor(String name, Type type, Boolean hasDefaultValue, Object? defaultValue, IReadOnlyDictionary<String, Object> properties)",
            "String Name { get; }", "Type Type { get; }", "Boolean HasDefaultValue { get; }", "Boolean IsReferenceOrNullableType { get; }",
            "Object? DefaultValue { get; }", "IReadOnlyDictionary<String, Object> Properties { get; }",
        ]),
        [$"{W}.FunctionContextLoggerExtensions"] = new($"static class {W}.FunctionContextLoggerExtensions",
            ["static ILogger<T> GetLogger<T>(FunctionContext context)", "static ILogger GetLogger(FunctionContext context, String categoryName)"]),
        [$"{W}.IFunctionsWorkerApplicationBuilder"] = new($"interface {W}.IFunctionsWorkerApplicationBuilder",
        [
            "IServiceCollection Services { get; }",
            "IFunctionsWorkerApplicationBuilder Use(Func<FunctionExecutionDelegate, FunctionExecutionDelegate> middleware)",
        ]),
        [$"{W}.Middleware.FunctionExecutionDelegate"] = new($"delegate {W}.Middleware.FunctionExecutionDelegate", ["Task Invoke(FunctionContext context)"]),
        [$"{W}.Middleware.IFunctionsWorkerMiddleware"] = new($"interface {W}.Middleware.IFunctionsWorkerMiddleware",
            ["Task Invoke(FunctionContext context, FunctionExecutionDelegate next)"]),
        ["Microsoft.Extensions.Hosting.MiddlewareWorkerApplicationBuilderExtensions"] = new(
            "static class Microsoft.Extensions.Hosting.MiddlewareWorkerApplicationBuilderExtensions",
        [
            "static IFunctionsWorkerApplicationBuilder UseMiddleware<T>(IFunctionsWorkerApplicationBuilder builder)",
            "static IFunctionsWorkerApplicationBuilder UseWhen<T>(IFunctionsWorkerApplicationBuilder builder, Func<FunctionContext, Boolean> predicate)",
        ]),

        // Worker 2.52.0 (hosting) and Http.AspNetCore 2.1.1
        [$"{W}.Builder.FunctionsApplication"] = new($"class {W}.Builder.FunctionsApplication",
            [".ctor()", "static FunctionsApplicationBuilder CreateBuilder(String[] args)"]),
        [$"{W}.Builder.FunctionsApplicationBuilder"] = new($"class {W}.Builder.FunctionsApplicationBuilder",
        [
            "IDictionary<Object, Object> Properties { get; }", "ConfigurationManager Configuration { get; }",
            "IHostEnvironment Environment { get; }", "ILoggingBuilder Logging { get; }", "IMetricsBuilder Metrics { get; }",
            "IServiceCollection Services { get; }", "IHost Build()",
            "void ConfigureContainer<TContainerBuilder>(IServiceProviderFactory<TContainerBuilder> factory, Action<TContainerBuilder>? configure = null)",
            "IFunctionsWorkerApplicationBuilder Use(Func<FunctionExecutionDelegate, FunctionExecutionDelegate> middleware)",
        ],
            Interfaces: ["Microsoft.Extensions.Hosting.IHostApplicationBuilder", $"{W}.IFunctionsWorkerApplicationBuilder"]),
        [$"{W}.Builder.FunctionsApplicationBuilderAspNetCoreExtensions"] = new($"static class {W}.Builder.FunctionsApplicationBuilderAspNetCoreExtensions",
            ["static FunctionsApplicationBuilder ConfigureFunctionsWebApplication(FunctionsApplicationBuilder builder)"]),
        [$"{W}.FunctionContextExtensions"] = new($"static class {W}.FunctionContextExtensions",
            ["static HttpContext? GetHttpContext(FunctionContext context)"]),

        // Extensions.Http 3.3.0
        [$"{W}.AuthorizationLevel"] = new($"enum {W}.AuthorizationLevel",
            ["Anonymous = 0", "User = 1", "Function = 2", "System = 3", "Admin = 4"]),
        [$"{W}.HttpTriggerAttribute"] = new($"sealed class {W}.HttpTriggerAttribute : {Abs}.TriggerBindingAttribute [usage: Parameter]",
        [
            ".ctor()", ".ctor(params String[] methods)", ".ctor(AuthorizationLevel authLevel)",
            ".ctor(AuthorizationLevel authLevel, params String[] methods)",
            "String? Route { get; set; }", "String[]? Methods { get; }", "AuthorizationLevel AuthLevel { get; }",
        ]),
        [$"{W}.HttpResultAttribute"] = new($"sealed class {W}.HttpResultAttribute : {Abs}.OutputBindingAttribute [usage: Property]", [".ctor()"]),

        // Extensions.ServiceBus 5.24.0
        [$"{W}.ServiceBusTriggerAttribute"] = new($"sealed class {W}.ServiceBusTriggerAttribute : {Abs}.TriggerBindingAttribute [usage: Parameter]",
        [
            ".ctor(String queueName)", ".ctor(String topicName, String subscriptionName)",
            "String? Connection { get; set; }", "String? QueueName { get; }", "String? TopicName { get; }", "String? SubscriptionName { get; }",
            "Boolean IsSessionsEnabled { get; set; }", "Boolean IsBatched { get; set; }", "Boolean AutoCompleteMessages { get; set; }",
        ],
            Interfaces: [$"{Abs}.ISupportCardinality"]),
        [$"{W}.ServiceBusOutputAttribute"] = new($"sealed class {W}.ServiceBusOutputAttribute : {Abs}.OutputBindingAttribute [usage: Method, Property]",
        [
            ".ctor(String queueOrTopicName, ServiceBusEntityType entityType = Queue)",
            "String QueueOrTopicName { get; }", "String? Connection { get; set; }", "ServiceBusEntityType EntityType { get; set; }",
        ]),
        [$"{W}.ServiceBusEntityType"] = new($"enum {W}.ServiceBusEntityType", ["Queue = 0", "Topic = 1"]),

        // Extensions.Timer 4.3.1
        [$"{W}.TimerTriggerAttribute"] = new($"sealed class {W}.TimerTriggerAttribute : {Abs}.TriggerBindingAttribute [usage: Parameter]",
            [".ctor(String schedule)", "String Schedule { get; }", "Boolean UseMonitor { get; set; }", "Boolean RunOnStartup { get; set; }"]),
        [$"{W}.TimerInfo"] = new($"class {W}.TimerInfo",
            [".ctor()", "ScheduleStatus? ScheduleStatus { get; set; }", "Boolean IsPastDue { get; set; }"]),
        [$"{W}.ScheduleStatus"] = new($"class {W}.ScheduleStatus",
            [".ctor()", "DateTime Last { get; set; }", "DateTime Next { get; set; }", "DateTime LastUpdated { get; set; }"]),

        // Azure.Messaging.ServiceBus 7.20.1 (api/Azure.Messaging.ServiceBus.netstandard2.0.cs): only what the sender uses (ADR 0003)
        [$"{Sb}.ServiceBusClient"] = new($"class {Sb}.ServiceBusClient",
        [
            ".ctor(String connectionString)", ".ctor(String fullyQualifiedNamespace, TokenCredential credential)",
            "virtual ServiceBusSender CreateSender(String queueOrTopicName)", "virtual ValueTask DisposeAsync()",
        ],
            Interfaces: ["System.IAsyncDisposable"]),
        [$"{Sb}.ServiceBusSender"] = new($"class {Sb}.ServiceBusSender",
            ["virtual Task SendMessageAsync(ServiceBusMessage message, CancellationToken cancellationToken = null)", "virtual ValueTask DisposeAsync()"],
            Interfaces: ["System.IAsyncDisposable"]),
        [$"{Sb}.ServiceBusMessage"] = new($"class {Sb}.ServiceBusMessage",
        [
            ".ctor(ReadOnlyMemory<Byte> body)", "String MessageId { get; set; }", "String SessionId { get; set; }",
            "String ContentType { get; set; }", "IDictionary<String, Object> ApplicationProperties { get; }",
            "DateTimeOffset ScheduledEnqueueTime { get; set; }",
        ]),
    };

    public static TheoryData<string> DocumentedTypes => [.. Documented.Keys];

    [Theory]
    [MemberData(nameof(DocumentedTypes))]
    public void Worker_type_has_the_documented_namespace_kind_base_and_attribute_usage(string fullName)
    {
        var type = Resolve(fullName);
        var expected = Documented[fullName];

        Assert.Equal(expected.Header, WorkerSdkShape.Header(type));
        var interfaces = WorkerSdkShape.Interfaces(type);
        foreach (var required in expected.Interfaces ?? [])
        {
            Assert.Contains(interfaces, i => i.StartsWith(required, StringComparison.Ordinal));
        }
    }

    [Theory]
    [MemberData(nameof(DocumentedTypes))]
    public void Worker_type_has_every_documented_constructor_and_member_signature(string fullName)
    {
        var actual = WorkerSdkShape.Members(Resolve(fullName));

        var missing = Documented[fullName].Members.Except(actual, StringComparer.Ordinal).ToList();

        Assert.True(missing.Count == 0, $"{fullName} lacks documented members:\n  {string.Join("\n  ", missing)}\nhas:\n  {string.Join("\n  ", actual)}");
    }

    [Fact]
    public void Compile_only_surface_declares_nothing_beyond_the_documented_api()
    {
        var surface = LoadedWorkerAssemblies().SingleOrDefault(a => a.GetName().Name == SurfaceAssembly);
        if (surface is null)
        {
            // Built against the real packages: they legitimately have more; the two theories above cover them.
            Assert.Contains(LoadedWorkerAssemblies(), a => a.GetName().Name == "Microsoft.Azure.Functions.Worker.Extensions.Abstractions");
            return;
        }

        var exported = surface.GetExportedTypes().Select(t => t.FullName!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(Documented.Keys.Order(StringComparer.Ordinal), exported);
        foreach (var type in surface.GetExportedTypes())
        {
            var extra = WorkerSdkShape.Members(type).Except(Documented[type.FullName!].Members, StringComparer.Ordinal).ToList();
            Assert.True(extra.Count == 0, $"{type.FullName} declares undocumented members:\n  {string.Join("\n  ", extra)}");
        }
    }

    [Fact]
    public void Compile_only_surface_refuses_to_run_and_says_why()
    {
        var builderType = Resolve($"{W}.Builder.FunctionsApplication");
        if (builderType.Assembly.GetName().Name != SurfaceAssembly)
        {
            Assert.StartsWith("Microsoft.Azure.Functions.Worker", builderType.Assembly.GetName().Name, StringComparison.Ordinal);
            return;
        }

        var create = builderType.GetMethod("CreateBuilder")!;
        var thrown = Assert.Throws<TargetInvocationException>(() => create.Invoke(null, [Array.Empty<string>()]));

        var notSupported = Assert.IsType<NotSupportedException>(thrown.InnerException);
        Assert.Contains("compile-only", notSupported.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Service_bus_trigger_cardinality_follows_is_batched_as_in_the_real_extension()
    {
        var trigger = new Microsoft.Azure.Functions.Worker.ServiceBusTriggerAttribute("loop-returns") { IsBatched = true };
        var cardinality = (Microsoft.Azure.Functions.Worker.Extensions.Abstractions.ISupportCardinality)trigger;

        Assert.Equal(Microsoft.Azure.Functions.Worker.Extensions.Abstractions.Cardinality.Many, cardinality.Cardinality);
        cardinality.Cardinality = Microsoft.Azure.Functions.Worker.Extensions.Abstractions.Cardinality.One;
        Assert.False(trigger.IsBatched);
        Assert.Equal("loop-returns", trigger.QueueName);
        Assert.Null(trigger.TopicName);
    }

    [Fact]
    public void Retry_attributes_reject_unparseable_or_inverted_intervals_like_the_real_ones()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Microsoft.Azure.Functions.Worker.FixedDelayRetryAttribute(3, "ten seconds"));
        Assert.ThrowsAny<ArgumentException>(() => new Microsoft.Azure.Functions.Worker.ExponentialBackoffRetryAttribute(3, "00:05:00", "00:00:10"));
        Assert.Equal("00:00:10", new Microsoft.Azure.Functions.Worker.FixedDelayRetryAttribute(5, "00:00:10").DelayInterval);
    }

    private static Type Resolve(string fullName)
    {
        var found = LoadedWorkerAssemblies().Select(a => a.GetType(fullName)).Where(t => t is not null).ToList();
        Assert.True(found.Count == 1, $"{fullName}: expected in exactly one Worker assembly, found in {found.Count}.");
        return found[0]!;
    }

    private static List<Assembly> LoadedWorkerAssemblies()
    {
        // Whichever build path this clone took, its assemblies sit next to the test assembly.
        var assemblies = new List<Assembly>();
        foreach (var name in CandidateAssemblies)
        {
            try
            {
                assemblies.Add(Assembly.Load(name));
            }
            catch (FileNotFoundException)
            {
                // Not part of this build path.
            }
        }

        Assert.NotEmpty(assemblies);
        return assemblies;
    }
}

/// <param name="Header">Kind, full name, base type and attribute usage, as <see cref="WorkerSdkShape.Header"/> renders them.</param>
/// <param name="Members">Public constructors, properties and methods declared on the type.</param>
/// <param name="Interfaces">Interfaces the type must implement (prefix of the full name).</param>
public sealed record ExpectedType(string Header, IReadOnlyList<string> Members, IReadOnlyList<string>? Interfaces = null);
