using System.Text;
using System.Text.RegularExpressions;

namespace Paasta.Tests.Conventions;

/// <summary>
/// The engine's layout rules (docs/ARCHITECTURE.md, "The rules"): one file-scoped namespace per folder
/// (src/Paasta.Core/X → <c>namespace Paasta.X;</c>), nothing in the root namespace Paasta, and no cycle among the
/// folders' dependencies (from <c>using Paasta.Y;</c> and qualified <c>Paasta.Y.</c> references in code). The rules
/// are checked for whatever folders exist, so a new folder is covered without changing this test.
/// </summary>
public sealed class LayoutTests
{
    private static readonly string CoreRoot = Path.Combine(RepoRoot(), "src", "Paasta.Core");

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Paasta.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No Paasta.sln above {AppContext.BaseDirectory}.");
    }

    private static IEnumerable<string> SourceFiles() =>
        Directory.EnumerateFiles(CoreRoot, "*.cs", SearchOption.AllDirectories)
            .Where(f => !Path.GetRelativePath(CoreRoot, f).Split(Path.DirectorySeparatorChar).Any(p => p is "bin" or "obj"));

    /// <summary>The engine's folder of a source file (its first path segment below src/Paasta.Core), or null at the root.</summary>
    private static string? FolderOf(string file)
    {
        var parts = Path.GetRelativePath(CoreRoot, file).Split(Path.DirectorySeparatorChar);
        return parts.Length > 1 ? parts[0] : null;
    }

    [Fact]
    public void EveryFileDeclaresTheFileScopedNamespaceOfItsFolder()
    {
        var wrong = new List<string>();
        foreach (var file in SourceFiles())
        {
            var folder = FolderOf(file);
            var declared = Namespaces(Code(File.ReadAllText(file)));
            var expected = folder is null ? null : $"Paasta.{folder}";
            if (expected is null || declared.Count != 1 || declared[0] != (expected, true))
                wrong.Add($"{Path.GetRelativePath(CoreRoot, file)}: declares {(declared.Count == 0 ? "no namespace" : string.Join(", ", declared.Select(d => $"{d.Name}{(d.FileScoped ? ";" : " { }")}")))}" +
                          (expected is null ? ", but files belong in a folder (the root namespace Paasta holds nothing)" : $", expected namespace {expected};"));
        }
        Assert.True(wrong.Count == 0, "Layout: " + string.Join("\n", wrong));
    }

    [Fact]
    public void TheFolderDependencyGraphHasNoCycle()
    {
        var graph = FolderGraph();
        Assert.Contains("Sync", graph.Keys); // the graph is really read: a folder this test knows is in it
        Assert.Contains("Kubernetes", graph["Sync"]);
        var cycle = FindCycle(graph);
        Assert.True(cycle is null, $"The engine's folders depend on each other in a cycle: {string.Join(" -> ", cycle ?? new List<string>())}. " +
            "A folder may use only folders above it in docs/ARCHITECTURE.md's table.");
    }

    [Fact]
    public void ACycleIsFoundAndNamed()
    {
        var graph = new Dictionary<string, IReadOnlySet<string>>
        {
            ["Config"] = new HashSet<string> { "Errors" },
            ["Errors"] = new HashSet<string>(),
            ["Kubernetes"] = new HashSet<string> { "Config", "Bounce" },
            ["Bounce"] = new HashSet<string> { "Kubernetes", "Config" },
        };
        Assert.Equal(new[] { "Bounce", "Kubernetes", "Bounce" }, FindCycle(graph));
        graph["Bounce"] = new HashSet<string> { "Config" };
        Assert.Null(FindCycle(graph));
    }

    [Fact]
    public void DependenciesComeFromUsingsAndQualifiedNamesButNotFromStringsOrComments()
    {
        const string source = """"
            using System.Text;
            using Paasta.Config;
            using static Paasta.Errors.ErrorCatalog;
            using Y = Paasta.Yaml.YamlLoader;
            namespace Paasta.Sync;
            // Paasta.Tron is only mentioned here
            /* and Paasta.Docker here */
            class C
            {
                string a = "Paasta.Git.Tags";
                string b = @"Paasta.Jobs ""quoted"" Paasta.Jobs";
                string c = $$"""Paasta.Monitoring""";
                char d = '"';
                object e = Paasta.Kubernetes.KubeLabels.Of(null, "x");
            }
            """";
        var folders = new HashSet<string> { "Config", "Errors", "Yaml", "Kubernetes", "Tron", "Docker", "Git", "Jobs", "Monitoring", "Sync" };
        Assert.Equal(new[] { "Config", "Errors", "Kubernetes", "Yaml" }, References(Code(source), folders, "Sync").Order());
        Assert.Equal(new[] { ("Paasta.Sync", true) }, Namespaces(Code(source)));
    }

    // ------------------------------------------------------------------ the scanner

    private static Dictionary<string, IReadOnlySet<string>> FolderGraph()
    {
        var files = SourceFiles().Where(f => FolderOf(f) is not null).ToList();
        var folders = files.Select(f => FolderOf(f)!).ToHashSet(StringComparer.Ordinal);
        var graph = folders.ToDictionary(f => f, _ => (IReadOnlySet<string>)new HashSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var file in files)
        {
            var folder = FolderOf(file)!;
            foreach (var used in References(Code(File.ReadAllText(file)), folders, folder))
                ((HashSet<string>)graph[folder]).Add(used);
        }
        return graph;
    }

    private static readonly Regex NamespaceDeclaration = new(@"\bnamespace\s+([A-Za-z_][\w.]*)\s*([;{])", RegexOptions.Compiled);
    private static readonly Regex PaastaName = new(@"(?<![\w.])(?:global::)?Paasta\.([A-Z]\w*)\b", RegexOptions.Compiled);

    private static List<(string Name, bool FileScoped)> Namespaces(string code) =>
        NamespaceDeclaration.Matches(code).Select(m => (m.Groups[1].Value, m.Groups[2].Value == ";")).ToList();

    /// <summary>The other folders a file's code names: <c>using Paasta.Y…</c> and qualified <c>Paasta.Y.</c> references.</summary>
    private static IEnumerable<string> References(string code, IReadOnlySet<string> folders, string self)
    {
        var withoutNamespace = NamespaceDeclaration.Replace(code, " ");
        return PaastaName.Matches(withoutNamespace).Select(m => m.Groups[1].Value)
            .Where(f => folders.Contains(f) && f != self).Distinct(StringComparer.Ordinal);
    }

    /// <summary>C# source with comments, string and char literals blanked out (line structure kept).</summary>
    private static string Code(string source)
    {
        var s = new StringBuilder(source.Length);
        var i = 0;
        while (i < source.Length)
        {
            var c = source[i];
            if (c == '/' && i + 1 < source.Length && source[i + 1] == '/')
            {
                while (i < source.Length && source[i] != '\n') i++;
                continue;
            }
            if (c == '/' && i + 1 < source.Length && source[i + 1] == '*')
            {
                var end = source.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? source.Length : end + 2;
                s.Append(' ');
                continue;
            }
            if (c == '\'')
            {
                i++;
                while (i < source.Length && source[i] != '\'') i += source[i] == '\\' ? 2 : 1;
                i++;
                s.Append("' '");
                continue;
            }
            if (c is '"' or '$' or '@')
            {
                var start = i;
                var verbatim = false;
                while (i < source.Length && source[i] is '$' or '@')
                {
                    verbatim |= source[i] == '@';
                    i++;
                }
                if (i >= source.Length || source[i] != '"')
                {
                    s.Append(source, start, i - start);
                    continue;
                }
                var quotes = 0;
                while (i < source.Length && source[i] == '"') { quotes++; i++; }
                if (quotes >= 3)
                {
                    // Raw string: ends at the same number of quotes.
                    var close = source.IndexOf(new string('"', quotes), i, StringComparison.Ordinal);
                    i = close < 0 ? source.Length : close + quotes;
                }
                else if (quotes == 2)
                {
                    // "" is an empty string.
                }
                else
                {
                    while (i < source.Length)
                    {
                        if (verbatim && source[i] == '"' && i + 1 < source.Length && source[i + 1] == '"') { i += 2; continue; }
                        if (!verbatim && source[i] == '\\') { i += 2; continue; }
                        if (source[i] == '"') { i++; break; }
                        i++;
                    }
                }
                s.Append("\"\"");
                continue;
            }
            s.Append(c);
            i++;
        }
        return s.ToString();
    }

    /// <summary>A cycle in the graph as the path that closes it (first node repeated at the end), or null.</summary>
    private static List<string>? FindCycle(IReadOnlyDictionary<string, IReadOnlySet<string>> graph)
    {
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1: on the path, 2: done
        var path = new List<string>();
        List<string>? Visit(string node)
        {
            state[node] = 1;
            path.Add(node);
            foreach (var next in (graph.TryGetValue(node, out var edges) ? edges : new HashSet<string>()).Order(StringComparer.Ordinal))
            {
                if (state.GetValueOrDefault(next) == 1) return path.Skip(path.IndexOf(next)).Append(next).ToList();
                if (state.GetValueOrDefault(next) == 0 && Visit(next) is { } found) return found;
            }
            path.RemoveAt(path.Count - 1);
            state[node] = 2;
            return null;
        }
        foreach (var node in graph.Keys.Order(StringComparer.Ordinal))
            if (state.GetValueOrDefault(node) == 0 && Visit(node) is { } cycle) return cycle;
        return null;
    }
}
