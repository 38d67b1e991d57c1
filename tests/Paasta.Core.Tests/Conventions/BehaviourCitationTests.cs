using System.Text.RegularExpressions;
using Xunit;

namespace Paasta.Core.Tests.Conventions;

/// <summary>
/// The code explains itself by citing docs/BEHAVIOUR.md by section ("docs/BEHAVIOUR.md §5.8"): every section
/// cited must exist there, and nothing may cite a document outside the repository.
/// </summary>
public sealed class BehaviourCitationTests
{
    private static readonly string Root = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Paasta.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No Paasta.sln above {AppContext.BaseDirectory}.");
    }

    private static IEnumerable<(string File, int Line, string Text)> SourceLines()
    {
        foreach (var top in new[] { "src", "tests" })
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Root, top), "*.*", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")) continue;
            if (!(file.EndsWith(".cs") || file.EndsWith(".ps1") || file.EndsWith(".psm1"))) continue;
            var n = 0;
            foreach (var line in File.ReadLines(file)) yield return (Path.GetRelativePath(Root, file), ++n, line);
        }
    }

    private static HashSet<string> Sections() =>
        File.ReadLines(Path.Combine(Root, "docs", "BEHAVIOUR.md"))
            .Select(l => Regex.Match(l, @"^## (\d+(?:\.\d+)?) "))
            .Where(m => m.Success).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

    [Fact]
    public void BEHAVIOUR_md_has_numbered_sections()
    {
        var sections = Sections();
        Assert.Contains("5.8", sections);
        Assert.Contains("1", sections);
        Assert.True(sections.Count > 60);
    }

    [Fact]
    public void Every_cited_section_exists()
    {
        var sections = Sections();
        var missing = new List<string>();
        var cited = 0;
        foreach (var (file, line, text) in SourceLines())
        {
            var at = text.IndexOf("docs/BEHAVIOUR.md §", StringComparison.Ordinal);
            if (at < 0) continue;
            // The first section after the document's name, and any further ones in the same citation (§2.6, §2.7; §10.2–10.3).
            foreach (Match m in Regex.Matches(text[at..], @"§(\d+(?:\.\d+)?)(?:[–-](\d+\.\d+))?"))
            foreach (var group in m.Groups.Values.Skip(1).Where(g => g.Success))
            {
                cited++;
                if (!sections.Contains(group.Value)) missing.Add($"{file}:{line} cites §{group.Value}");
            }
        }
        Assert.True(cited > 90, $"only {cited} citations found: the scan itself is broken");
        Assert.True(missing.Count == 0, "docs/BEHAVIOUR.md has no such section: " + string.Join("; ", missing));
    }

    [Fact]
    public void Nothing_cites_the_specification_outside_the_repository()
    {
        var outside = "spec " + "§";
        var found = SourceLines().Where(l => l.Text.Contains(outside, StringComparison.Ordinal)).Select(l => $"{l.File}:{l.Line}").ToList();
        Assert.True(found.Count == 0, $"cite docs/BEHAVIOUR.md §N.N instead of the outside specification at: {string.Join(", ", found)}");
    }
}
