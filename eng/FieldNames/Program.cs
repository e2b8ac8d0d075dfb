using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.FindSymbols;
using Microsoft.CodeAnalysis.MSBuild;
using Microsoft.CodeAnalysis.Text;

// Usage: FieldNames <solution.sln> [--check]
// Renames every private/internal field that breaks the naming rules in .editorconfig, with all its references
// (found by Roslyn, so parameters and locals of the same name are left alone):
//   const and static readonly fields PascalCase; other static fields s_camelCase; instance fields _camelCase.
// Keep these rules in step with the dotnet_naming_* entries in .editorconfig; the build (IDE1006) checks the result.
// Edits are collected for the whole solution first and written once per file, so a file linked into several
// projects is edited once. --check lists what would change and exits 1 if anything would; a name that is already
// taken is reported and exits 1 too.
if (args.Length < 1)
{
    Console.Error.WriteLine("usage: FieldNames <solution.sln> [--check]");
    return 2;
}

var solutionPath = Path.GetFullPath(args[0]);
var check = args.Contains("--check");
var root = Path.GetDirectoryName(solutionPath)! + Path.DirectorySeparatorChar;

using var workspace = MSBuildWorkspace.Create();
var solution = await workspace.OpenSolutionAsync(solutionPath);
foreach (var failure in workspace.Diagnostics.Where(d => d.Kind == WorkspaceDiagnosticKind.Failure))
{
    Console.Error.WriteLine($"workspace: {failure.Message}");
}

if (!solution.Projects.Any(p => p.Language == LanguageNames.CSharp))
{
    Console.Error.WriteLine($"no C# project loaded from {solutionPath}");
    return 2;
}

// Per project: a file linked into two projects declares a field in each compilation; both are renamed, and their
// identical edits collapse below.
var renames = new List<(IFieldSymbol Field, string NewName)>();
foreach (var project in solution.Projects.Where(p => p.Language == LanguageNames.CSharp))
{
    foreach (var document in project.Documents)
    {
        if (document.FilePath is null || !document.FilePath.StartsWith(root, StringComparison.Ordinal))
        {
            continue;
        }

        var syntax = await document.GetSyntaxRootAsync();
        var model = await document.GetSemanticModelAsync();
        foreach (var declarator in syntax!.DescendantNodes().OfType<FieldDeclarationSyntax>().SelectMany(f => f.Declaration.Variables))
        {
            if (model!.GetDeclaredSymbol(declarator) is not IFieldSymbol field || field.IsImplicitlyDeclared)
            {
                continue;
            }

            var wanted = WantedName(field);
            if (wanted is not null && wanted != field.Name)
            {
                renames.Add((field, wanted));
            }
        }
    }
}

// (file, span) -> new text; a linked file yields the same span from each project, which the set collapses.
var edits = new Dictionary<string, HashSet<(TextSpan Span, string OldName, string NewName)>>(StringComparer.Ordinal);
var names = new SortedSet<string>(StringComparer.Ordinal);
var conflicts = 0;
foreach (var (field, newName) in renames)
{
    // The new name must not be taken: not by another member of the type, nor by a local or parameter in scope at a
    // reference (which would then silently bind to it). Such a field is left for a hand fix; the build reports it.
    var references = (await SymbolFinder.FindReferencesAsync(field, solution))
        .SelectMany(r => r.Locations).Where(l => !l.IsImplicit).ToList();
    var taken = field.ContainingType.GetMembers(newName).Length > 0;
    foreach (var reference in references)
    {
        var model = await reference.Document.GetSemanticModelAsync();
        taken |= model!.LookupSymbols(reference.Location.SourceSpan.Start, name: newName)
            .Any(s => s.Kind is SymbolKind.Local or SymbolKind.Parameter or SymbolKind.RangeVariable);
    }

    if (taken)
    {
        Console.Error.WriteLine($"{Key(field)}: '{newName}' is already taken where the field is used; rename it by hand");
        conflicts++;
        continue;
    }

    foreach (var location in field.Locations.Where(l => l.IsInSource))
    {
        Add(location, field.Name, newName);
    }

    foreach (var reference in references)
    {
        Add(reference.Location, field.Name, newName);
    }

    names.Add($"{Key(field)} -> {newName}");
}

foreach (var name in names)
{
    Console.WriteLine(name);
}

var changedFiles = 0;
foreach (var (path, fileEdits) in edits.OrderBy(e => e.Key, StringComparer.Ordinal))
{
    var bytes = File.ReadAllBytes(path);
    var bom = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF;
    var text = SourceText.From(new UTF8Encoding(false).GetString(bytes, bom ? 3 : 0, bytes.Length - (bom ? 3 : 0)));
    var changes = new List<TextChange>();
    foreach (var (span, oldName, newName) in fileEdits.OrderBy(e => e.Span.Start))
    {
        var current = text.ToString(span);
        if (current != oldName && current != "@" + oldName)
        {
            Console.Error.WriteLine($"{path}: expected '{oldName}' at {span}, found '{current}'; file left unchanged");
            return 3;
        }

        changes.Add(new TextChange(span, newName));
    }

    changedFiles++;
    if (!check)
    {
        var output = text.WithChanges(changes).ToString();
        File.WriteAllBytes(path, [.. (bom ? Encoding.UTF8.GetPreamble() : []), .. new UTF8Encoding(false).GetBytes(output)]);
    }
}

Console.WriteLine($"{names.Count} fields renamed in {changedFiles} files{(check ? " (check only; nothing written)" : "")}");
return conflicts > 0 || (check && names.Count > 0) ? 1 : 0;

void Add(Location location, string oldName, string newName)
{
    var path = location.SourceTree?.FilePath;
    if (path is null || !path.StartsWith(root, StringComparison.Ordinal) || !File.Exists(path))
    {
        return;
    }

    if (!edits.TryGetValue(path, out var set))
    {
        set = [];
        edits[path] = set;
    }

    set.Add((location.SourceSpan, oldName, newName));
}

static string Key(IFieldSymbol field) => field.ContainingType.ToDisplayString() + "." + field.Name;

static string? WantedName(IFieldSymbol field)
{
    if (field.DeclaredAccessibility is not (Accessibility.Private or Accessibility.Internal or Accessibility.ProtectedAndInternal))
    {
        return null;
    }

    var bare = field.Name.StartsWith("s_", StringComparison.Ordinal) || field.Name.StartsWith("m_", StringComparison.Ordinal) || field.Name.StartsWith("t_", StringComparison.Ordinal)
        ? field.Name[2..]
        : field.Name.TrimStart('_');
    if (bare.Length == 0)
    {
        return null;
    }

    if (field.IsConst || (field.IsStatic && field.IsReadOnly))
    {
        return char.ToUpperInvariant(bare[0]) + bare[1..];
    }

    var camel = char.ToLowerInvariant(bare[0]) + bare[1..];
    return field.IsStatic ? "s_" + camel : "_" + camel;
}
