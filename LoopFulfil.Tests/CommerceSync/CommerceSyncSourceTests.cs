using System.Text.RegularExpressions;
using LoopFulfil.Sandbox.Azurite;

namespace LoopFulfil.Tests.CommerceSync;

/// <summary>
/// The commerce sync asks Fulfil for what it wants through the Fulfil layer (FulfilCommerceQueries and the typed
/// reads of IFulfilClient): Tryton models and search domains stay there, so a change of model or field is made once.
/// </summary>
public partial class CommerceSyncSourceTests
{
    [Fact]
    public void No_tryton_model_name_or_search_domain_appears_in_the_commerce_sync_source()
    {
        var root = AzuriteProcess.FindRepositoryRoot() ?? throw new InvalidOperationException("Repository root not found.");
        var files = Directory.GetFiles(Path.Combine(root, "LoopFulfil.Core", "CommerceSync"), "*.cs");
        Assert.NotEmpty(files);

        var findings = files
            .SelectMany(file => File.ReadLines(file).Select((line, i) => (File: Path.GetFileName(file), Line: i + 1, Text: line)))
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
        Assert.Matches(DomainArray(), "new object[] { \"state\", \"in\", states }");
        Assert.Matches(DomainArray(), "[\"active\", \"in\", new[] { true, false }]");
        Assert.DoesNotMatch(TrytonModel(), "CommerceSyncJob.Run.cs");
        Assert.DoesNotMatch(DomainArray(), "var created = name + \".created\";");
    }

    // A quoted dotted lower-case name of a Tryton module's model (product.template, sale.sale, stock.move, …).
    [GeneratedRegex("""["'](product|sale|party|stock|account|company|currency|ir|res|purchase|carrier|country)\.[a-z_.]+["']""")]
    private static partial Regex TrytonModel();

    // A domain clause: an object array, or a field compared with a Tryton operator inside brackets.
    [GeneratedRegex("""object\[\]|\[\s*"[a-z_.]+"\s*,\s*"(=|!=|<|<=|>|>=|in|not in|like|ilike|child_of)"\s*,""")]
    private static partial Regex DomainArray();
}
