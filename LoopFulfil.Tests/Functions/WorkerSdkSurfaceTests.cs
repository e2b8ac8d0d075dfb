using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

namespace LoopFulfil.Tests.Functions;

/// <summary>
/// The compile-only surface is one type, the Service Bus trigger attribute (ADR 0007): every other Worker type comes
/// from the real packages on every machine, and the hand-declared attribute has the documented signature of
/// Worker.Extensions.ServiceBus 5.24.0 (ServiceBusTriggerAttribute.cs at tag servicebus-extension-5.24.0), so the
/// SDK's generators treat it exactly as the real one. On a full feed the same signature check runs against the package.
/// </summary>
public class WorkerSdkSurfaceTests
{
    private const string SurfaceAssembly = "LoopFulfil.FunctionsWorkerSurface";
    private const string Abs = "Microsoft.Azure.Functions.Worker.Extensions.Abstractions";
    private const string W = "Microsoft.Azure.Functions.Worker";

    private static readonly ExpectedType DocumentedServiceBusTrigger = new(
        $"sealed class {W}.ServiceBusTriggerAttribute : {Abs}.TriggerBindingAttribute [usage: Parameter]",
        [
            ".ctor(String queueName)", ".ctor(String topicName, String subscriptionName)",
            "String? Connection { get; set; }", "String? QueueName { get; }", "String? TopicName { get; }", "String? SubscriptionName { get; }",
            "Boolean IsSessionsEnabled { get; set; }", "Boolean IsBatched { get; set; }", "Boolean AutoCompleteMessages { get; set; }",
        ],
        Interfaces: [$"{Abs}.ISupportCardinality"]);

    [Theory]
    [InlineData(typeof(FunctionAttribute), "Microsoft.Azure.Functions.Worker.Extensions.Abstractions")]
    [InlineData(typeof(TriggerBindingAttribute), "Microsoft.Azure.Functions.Worker.Extensions.Abstractions")]
    [InlineData(typeof(HttpTriggerAttribute), "Microsoft.Azure.Functions.Worker.Extensions.Http")]
    [InlineData(typeof(TimerTriggerAttribute), "Microsoft.Azure.Functions.Worker.Extensions.Timer")]
    [InlineData(typeof(FunctionContext), "Microsoft.Azure.Functions.Worker.Core")]
    [InlineData(typeof(FunctionsApplication), "Microsoft.Azure.Functions.Worker")]
    [InlineData(typeof(Azure.Messaging.ServiceBus.ServiceBusClient), "Azure.Messaging.ServiceBus")]
    public void Worker_types_other_than_the_service_bus_trigger_come_from_the_real_packages(Type type, string packageAssembly)
    {
        Assert.Equal(packageAssembly, type.Assembly.GetName().Name);
    }

    [Fact]
    public void Service_bus_trigger_comes_from_the_extension_package_or_is_the_surfaces_only_type()
    {
        var assembly = typeof(ServiceBusTriggerAttribute).Assembly;

        if (assembly.GetName().Name == SurfaceAssembly)
        {
            Assert.Equal([typeof(ServiceBusTriggerAttribute)], assembly.GetExportedTypes());

            // No ExtensionInformation: the surface must not pretend to bring the host extension (that is what
            // makes LoopFulfil.Functions refuse to publish such a build).
            Assert.DoesNotContain(assembly.GetCustomAttributesData(), a => a.AttributeType.Name == "ExtensionInformationAttribute");
        }
        else
        {
            Assert.Equal("Microsoft.Azure.Functions.Worker.Extensions.ServiceBus", assembly.GetName().Name);
        }
    }

    [Fact]
    public void Service_bus_trigger_has_the_documented_kind_base_usage_interfaces_and_members()
    {
        var type = typeof(ServiceBusTriggerAttribute);

        Assert.Equal(DocumentedServiceBusTrigger.Header, WorkerSdkShape.Header(type));
        Assert.All(DocumentedServiceBusTrigger.Interfaces!, i => Assert.Contains(WorkerSdkShape.Interfaces(type), actual => actual.StartsWith(i, StringComparison.Ordinal)));
        var members = WorkerSdkShape.Members(type);
        Assert.Empty(DocumentedServiceBusTrigger.Members.Except(members, StringComparer.Ordinal));
        if (type.Assembly.GetName().Name == SurfaceAssembly)
        {
            // Nothing invented beyond the real attribute's public API.
            Assert.Empty(members.Except(DocumentedServiceBusTrigger.Members, StringComparer.Ordinal));
        }
    }

    [Fact]
    public void Service_bus_trigger_cardinality_follows_is_batched_as_in_the_real_extension()
    {
        var trigger = new ServiceBusTriggerAttribute("loop-returns") { IsBatched = true };
        var cardinality = (ISupportCardinality)trigger;

        Assert.Equal(Cardinality.Many, cardinality.Cardinality);
        cardinality.Cardinality = Cardinality.One;
        Assert.False(trigger.IsBatched);
        Assert.Equal("loop-returns", trigger.QueueName);
        Assert.Null(trigger.TopicName);
    }

    [Fact]
    public void Is_batched_declares_its_default_for_the_metadata_generator()
    {
        var isBatched = typeof(ServiceBusTriggerAttribute).GetProperty(nameof(ServiceBusTriggerAttribute.IsBatched))!;

        var declared = Assert.Single(isBatched.GetCustomAttributesData(), a => a.AttributeType == typeof(DefaultValueAttribute));
        Assert.Equal(false, declared.ConstructorArguments.Single().Value);
    }
}

/// <param name="Header">Kind, full name, base type and attribute usage, as <see cref="WorkerSdkShape.Header"/> renders them.</param>
/// <param name="Members">Public constructors, properties and methods declared on the type.</param>
/// <param name="Interfaces">Interfaces the type must implement (prefix of the full name).</param>
public sealed record ExpectedType(string Header, IReadOnlyList<string> Members, IReadOnlyList<string>? Interfaces = null);
