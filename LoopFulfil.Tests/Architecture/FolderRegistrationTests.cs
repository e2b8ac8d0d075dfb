using System.Reflection;
using LoopFulfil.Core.DependencyInjection;
using LoopFulfil.Core.Diagnostics;
using LoopFulfil.Core.Exceptions;
using LoopFulfil.Core.Http;
using LoopFulfil.Core.Inspection;
using LoopFulfil.Core.Messaging;
using LoopFulfil.Core.Refunds;
using LoopFulfil.Core.Returns;
using LoopFulfil.Core.Skus;
using LoopFulfil.Core.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LoopFulfil.Tests.Architecture;

/// <summary>
/// One folder, one registration: a Core folder's <c>*ServiceCollectionExtensions</c> registers only types of its own
/// folder (namespace <c>LoopFulfil.Core.{Folder}</c>). It may register them as another folder's interface (a port it
/// implements, such as <c>IReturnStage</c>) and its services may need other folders' services, but those are
/// registered by the composition root (<see cref="LoopFulfilServiceCollectionExtensions"/>, folder
/// <c>DependencyInjection</c>), which calls every folder's extension and is the only place allowed to cross folders.
/// </summary>
/// <remarks>
/// <para>
/// Each extension runs on an empty collection with empty configuration. A registration counts by its implementation
/// type (or instance type), the options type it binds (the <c>T</c> of <c>IConfigureOptions&lt;T&gt;</c> and the
/// like), or for a factory of a class by that class; a factory registered under an interface cannot be seen (typed
/// <c>HttpClient</c>s).
/// </para>
/// <para>
/// What a folder may call: the scan judges what ends up in the collection, not whose method put it there, so calling
/// another folder's extension (as <c>Webhooks</c> once called <c>AddLoopFulfilExceptions</c>) is a crossing. A shared
/// helper that registers or configures the caller's own type is allowed, because all it adds is the caller's:
/// <c>AddLoopFulfilReturnStage&lt;T&gt;</c> registers the caller's stage, and the Http folder's
/// <c>AddLoopFulfilResilience</c> / <c>AddLoopFulfilResilientHttpClient</c> register the caller's typed client and put
/// the resilience handlers on that client's own named options. Those helpers register no Http service: the pipeline
/// provider and the bound <c>HttpResilience</c> settings the handlers resolve are the Http folder's registration
/// (<c>AddLoopFulfilHttpResilience</c>), made by the composition root. A helper that also registered its own folder's
/// services for the caller would show here as the caller's crossing, and so does a per-client override of
/// <c>HttpResilienceOptions</c> (see <see cref="The_scan_sees_a_shared_helper_registering_its_own_folder_services_as_the_callers"/>).
/// </para>
/// </remarks>
public sealed class FolderRegistrationTests
{
    private const string CompositionRoot = "DependencyInjection";

    private static readonly Assembly Core = typeof(ITableStore).Assembly;

    [Fact]
    public void Every_core_folder_extension_registers_only_its_own_folder_types()
    {
        var crossings = Crossings().Select(c => $"{c.Method} ({c.From}) registers {c.Type.FullName} ({c.To})").Distinct().ToList();

        Assert.True(crossings.Count == 0, "Register these in their own folder's extension (the composition root calls it):\n" + string.Join("\n", crossings));
    }

    [Fact]
    public void The_scan_sees_a_shared_helper_registering_its_own_folder_services_as_the_callers()
    {
        // The resilience helper on a client of the caller's adds nothing of Http's; a per-client override binds Http's
        // options type, which the scan sees (a caller outside Http doing that would be reported).
        var plain = new ServiceCollection();
        plain.AddHttpClient("Caller").AddLoopFulfilResilience();
        var overridden = new ServiceCollection();
        overridden.AddHttpClient("Caller").AddLoopFulfilResilience(o => o.MaxRetryAttempts = 1);

        Assert.DoesNotContain(plain.SelectMany(Types), t => t.Assembly == Core);
        Assert.Contains(typeof(HttpResilienceOptions), overridden.SelectMany(Types));
        Assert.Equal("Http", FolderOf(typeof(HttpResilienceOptions)));
    }

    [Fact]
    public void The_composition_root_registers_what_the_folder_extensions_need_from_shared_folders()
    {
        var services = new ServiceCollection();

        services.AddLoopFulfil(new ConfigurationBuilder().Build());

        // Each was registered by another folder's extension before the rule; now only the composition root brings them.
        Type[] shared = [typeof(HttpResiliencePipelineProvider), typeof(ClaimCheck), typeof(LoopFulfilMetrics), typeof(ReturnLedger), typeof(PostingStore), typeof(FulfilSkuCatalog), typeof(FulfilProductCache), typeof(ExceptionService)];
        Assert.All(shared, t => Assert.Contains(services, d => d.ImplementationType == t || d.ServiceType == t));
    }

    [Fact]
    public void The_scan_runs_every_folder_extension_and_sees_what_it_registers()
    {
        var extensions = Extensions().ToList();

        // Guards against a vacuous pass: the inspection family is found and its own types are seen.
        Assert.Contains(extensions, e => e.Method.DeclaringType == typeof(InspectionServiceCollectionExtensions));
        Assert.DoesNotContain(extensions, e => e.Folder == CompositionRoot);
        var inspection = Registered(extensions.Single(e => e.Method.Name == nameof(InspectionServiceCollectionExtensions.AddLoopFulfilInspection)).Method);
        Assert.Contains(typeof(InspectionService), inspection);
        Assert.Contains(typeof(InspectionOptions), inspection);
    }

    private static List<(string Method, string From, Type Type, string To)> Crossings() =>
    [
        .. from e in Extensions()
           from t in Registered(e.Method)
           let to = FolderOf(t)
           where to != e.Folder
           select ($"{e.Method.DeclaringType!.Name}.{e.Method.Name}", e.Folder, t, to),
    ];

    private static IEnumerable<(string Folder, MethodInfo Method)> Extensions() =>
        from t in Core.GetTypes()
        where t is { IsPublic: true, IsAbstract: true, IsSealed: true } && t.Name.EndsWith("ServiceCollectionExtensions", StringComparison.Ordinal)
        let folder = FolderOf(t)
        where folder != CompositionRoot
        from m in t.GetMethods(BindingFlags.Public | BindingFlags.Static)
        where !m.IsGenericMethodDefinition && m.ReturnType == typeof(IServiceCollection) && Runnable(m)
        select (Folder: folder, Method: m);

    private static bool Runnable(MethodInfo method)
    {
        var parameters = method.GetParameters();
        return parameters.Length is 1 or 2
            && parameters[0].ParameterType == typeof(IServiceCollection)
            && parameters.Skip(1).All(p => p.ParameterType == typeof(IConfiguration));
    }

    /// <summary>The Core types one extension registers, run alone on an empty collection.</summary>
    private static HashSet<Type> Registered(MethodInfo extension)
    {
        var services = new ServiceCollection();
        object[] arguments = extension.GetParameters().Length == 1 ? [services] : [services, new ConfigurationBuilder().Build()];
        extension.Invoke(null, arguments);
        return [.. services.SelectMany(Types).Where(t => t.Assembly == Core)];
    }

    private static IEnumerable<Type> Types(ServiceDescriptor d)
    {
        var implementation = d.IsKeyedService
            ? d.KeyedImplementationType ?? d.KeyedImplementationInstance?.GetType()
            : d.ImplementationType ?? d.ImplementationInstance?.GetType();
        var judged = implementation ?? (d.ServiceType.IsClass ? d.ServiceType : null);
        var types = judged is null ? [] : Expand(judged);
        return d.ServiceType.IsGenericType ? types.Concat(d.ServiceType.GetGenericArguments().SelectMany(Expand)) : types;
    }

    private static IEnumerable<Type> Expand(Type type) =>
        type.IsGenericType ? [type, .. type.GetGenericArguments().SelectMany(Expand)] : [type];

    /// <summary><c>LoopFulfil.Core.Refunds.X</c> → <c>Refunds</c>.</summary>
    private static string FolderOf(Type type)
    {
        var ns = type.Namespace ?? "";
        const string prefix = "LoopFulfil.Core.";
        return ns.StartsWith(prefix, StringComparison.Ordinal) ? ns[prefix.Length..].Split('.')[0] : ns;
    }
}
