using System.Text.RegularExpressions;
using LoopFulfil.Sandbox.Azurite;

namespace LoopFulfil.Tests.Architecture;

/// <summary>
/// Fulfil is reached through one layer, <c>LoopFulfil.Core/Fulfil</c>: its role interfaces (<c>IFulfilClient</c>,
/// <c>IFulfilOutcomesClient</c>, <c>IFulfilReceivables</c>, <c>IFulfilReconciliationReader</c>,
/// <c>FulfilCommerceQueries</c>) speak of documents, products and orders, and only it names Tryton models or builds
/// search domains, so a change of model or field is made once. Every other folder of Core is scanned.
/// </summary>
public partial class FulfilLayerSourceTests
{
    private const string FulfilLayer = "Fulfil";

    [Fact]
    public void No_tryton_model_name_or_search_domain_appears_in_core_outside_the_fulfil_layer()
    {
        var core = CoreRoot();
        var files = SourceFiles(core).Where(f => FolderOf(core, f) != FulfilLayer).ToList();
        // Guards against a vacuous pass: the scan covers the use-case folders that once held Tryton names.
        Assert.Contains(files, f => FolderOf(core, f) == "CommerceSync");
        Assert.Contains(files, f => FolderOf(core, f) == "Reconciliation");

        var findings = files
            .SelectMany(file => File.ReadLines(file).Select((line, i) => (File: Path.GetRelativePath(core, file), Line: i + 1, Text: line)))
            .Where(l => TrytonModel().IsMatch(l.Text) || DomainArray().IsMatch(l.Text))
            .Select(l => $"{l.File}:{l.Line}: {l.Text.Trim()}")
            .ToList();

        Assert.Empty(findings);
    }

    [Fact]
    public void The_source_scan_recognises_model_names_and_domains()
    {
        // The patterns themselves must catch what they are meant to catch, or the scan above proves nothing.
        Assert.Matches(TrytonModel(), "WalkAsync(\"sale.sale\", domain)");
        Assert.Matches(TrytonModel(), "\"stock.location\"");
        Assert.Matches(TrytonModel(), "'party.party'");
        Assert.Matches(TrytonModel(), "SearchAsync(domain, \"account.invoice\", ct)");
        Assert.Matches(TrytonModel(), "\"stock.shipment.internal\" => null,");
        Assert.Matches(DomainArray(), "new object[] { \"state\", \"in\", states }");
        Assert.Matches(DomainArray(), "[\"active\", \"in\", new[] { true, false }]");
        Assert.DoesNotMatch(TrytonModel(), "CommerceSyncJob.Run.cs");
        Assert.DoesNotMatch(TrytonModel(), "\"return.created\"");
        Assert.DoesNotMatch(DomainArray(), "var created = name + \".created\";");
    }

    [Fact]
    public void The_fulfil_layer_itself_is_found_and_holds_the_model_names()
    {
        var core = CoreRoot();

        // The exclusion is the Fulfil folder and nothing else: it exists and it is where the names are.
        Assert.Contains(SourceFiles(core), f => FolderOf(core, f) == FulfilLayer && File.ReadLines(f).Any(l => TrytonModel().IsMatch(l)));
    }

    private static string CoreRoot()
    {
        var root = AzuriteProcess.FindRepositoryRoot() ?? throw new InvalidOperationException("Repository root not found.");
        return Path.Combine(root, "LoopFulfil.Core");
    }

    private static IEnumerable<string> SourceFiles(string core) =>
        Directory.EnumerateFiles(core, "*.cs", SearchOption.AllDirectories)
            .Where(f => FolderOf(core, f) is not ("bin" or "obj"));

    /// <summary>The first folder under Core (<c>Reconciliation</c> for <c>Core/Reconciliation/X.cs</c>); "" for a file at the root.</summary>
    private static string FolderOf(string core, string file)
    {
        var parts = Path.GetRelativePath(core, file).Split(Path.DirectorySeparatorChar);
        return parts.Length > 1 ? parts[0] : "";
    }

    // A quoted dotted lower-case name of a Tryton module's model (product.template, sale.sale, stock.move, …).
    [GeneratedRegex("""["'](product|sale|party|stock|account|company|currency|ir|res|purchase|carrier|country|gift_card)\.[a-z_.]+["']""")]
    private static partial Regex TrytonModel();

    // A domain clause: an object array, or a field compared with a Tryton operator inside brackets.
    [GeneratedRegex("""object\[\]|\[\s*"[a-z_.]+"\s*,\s*"(=|!=|<|<=|>|>=|in|not in|like|ilike|child_of)"\s*,""")]
    private static partial Regex DomainArray();
}
