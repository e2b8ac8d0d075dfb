using System.Reflection;
using LoopFulfil.Core.DependencyInjection;
using LoopFulfil.Core.Inspection;
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
/// Each extension runs on an empty collection with empty configuration. A registration counts by its implementation
/// type (or instance type), the options type it binds (the <c>T</c> of <c>IConfigureOptions&lt;T&gt;</c> and the
/// like), or for a factory of a class by that class; a factory registered under an interface cannot be seen (typed
/// <c>HttpClient</c>s).
/// </remarks>
public sealed class FolderRegistrationTests
{
    private const string CompositionRoot = "DependencyInjection";

    private static readonly Assembly Core = typeof(ITableStore).Assembly;

    // Cross-folder registrations older than the rule, as (extension's folder, registered type's folder). Each is a
    // debt: move the registration to its own folder's extension and remove the entry. A stale entry fails the test,
    // so the list only shrinks.
    private static readonly HashSet<(string From, string To)> KnownDebts =
    [
        ("CatchUp", "Returns"), // ReturnLedger
        ("Fulfil", "Http"), // the shared resilience pipeline, through AddLoopFulfilResilientHttpClient
        ("Loop", "Http"), // the same
        ("Privacy", "Messaging"), // ClaimCheck
        ("Reconciliation", "Diagnostics"), // LoopFulfilMetrics
        ("Reconciliation", "Refunds"), // PostingStore
        ("Redelivery", "Messaging"), // ClaimCheck
        ("Returns", "Skus"), // FulfilProductCache, FulfilSkuCatalog
        ("Webhooks", "Exceptions"), // AddLoopFulfilExceptions
    ];

    [Fact]
    public void Every_core_folder_extension_registers_only_its_own_folder_types()
    {
        var crossings = Crossings();

        var found = crossings.Select(c => (c.From, c.To)).ToHashSet();
        var unexpected = crossings.Where(c => !KnownDebts.Contains((c.From, c.To))).Select(c => $"{c.Method} ({c.From}) registers {c.Type.FullName} ({c.To})").Distinct().ToList();
        var stale = KnownDebts.Where(d => !found.Contains(d)).Select(d => $"{d.From} → {d.To}").ToList();
        Assert.True(unexpected.Count == 0, "Register these in their own folder's extension (the composition root calls it):\n" + string.Join("\n", unexpected));
        Assert.True(stale.Count == 0, "Fixed; remove from KnownDebts: " + string.Join(", ", stale));
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
        IEnumerable<Type> types = judged is null ? [] : Expand(judged);
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
