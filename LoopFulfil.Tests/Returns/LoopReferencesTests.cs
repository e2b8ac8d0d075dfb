using System.Reflection;
using LoopFulfil.Core.Returns;

namespace LoopFulfil.Tests.Returns;

/// <summary>One type builds and parses every Loop reference: whatever suffix it declares, it reads back.</summary>
public sealed class LoopReferencesTests
{
    [Fact]
    public void Every_declared_suffix_builds_a_reference_that_parses_back_to_its_return_and_suffix()
    {
        string[] suffixes = [.. typeof(LoopReferences).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f is { IsLiteral: true } && f.FieldType == typeof(string) && f.Name != nameof(LoopReferences.DefaultPrefix))
            .Select(f => (string)f.GetRawConstantValue()!)];
        var references = LoopReferences.From(new ReturnsOptions { ReturnOrderReferencePrefix = "RMA-" });

        // The documents of docs/accounting.md and of the stages; any suffix declared later must parse as well.
        Assert.Superset(new HashSet<string>(StringComparer.Ordinal) { "CN", "RF", "SC", "GC", "BONUS", "FEE", "UPSELL", "EXC", "RESTOCK", "SETTLE" }, suffixes.ToHashSet(StringComparer.Ordinal));
        Assert.All(suffixes, suffix =>
        {
            // A return id holding a dash still splits at the suffix.
            Assert.Equal(new LoopReferences.Parsed("A-7", suffix), references.Parse(references.Of("A-7", suffix)));
            Assert.Equal(new LoopReferences.Parsed("A-7", suffix + "-X1"), references.Parse(references.Of("A-7", suffix + "-X1")));
        });
    }
}
