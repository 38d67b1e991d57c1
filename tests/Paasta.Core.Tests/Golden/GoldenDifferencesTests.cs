using System.Text.RegularExpressions;

namespace Paasta.Tests.Golden;

/// <summary>
/// The list of accepted differences stays honest: each names a section of docs/DIFFERENCES.md that exists, and
/// each still shows in some golden (a difference that went away must leave the list and the document).
/// </summary>
public class GoldenDifferencesTests
{
    private static string DifferencesDoc => File.ReadAllText(Path.Combine(GoldenData.Root, "..", "..", "docs", "DIFFERENCES.md"));

    public static TheoryData<string> Sections
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var s in GoldenDifferences.Sections) data.Add(s);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Sections))]
    public void Each_difference_is_written_up_in_DIFFERENCES_md(string section)
    {
        // Sections are headings with an explicit anchor: "### Title {#section}" or a <a id="section"> before them.
        Assert.Matches(new Regex($@"(\{{#{Regex.Escape(section)}\}}|<a id=""{Regex.Escape(section)}"">)"), DifferencesDoc);
    }

    [Fact]
    public void Every_listed_difference_still_occurs()
    {
        var used = new HashSet<GoldenDifference>();
        foreach (var golden in GoldenData.Paths("kubernetes", "*.json").Where(g => !g.EndsWith(".error.json", StringComparison.Ordinal)))
            foreach (var d in KubernetesGoldenTests.Differences(golden))
                used.UnionWith(GoldenDifferences.Kubernetes.Where(k => k.Covers(KubernetesGoldenTests.Id(golden), d.Path, d.Expected, d.Actual)));
        foreach (var golden in GoldenData.Paths("tron", "*.yaml", f => !f.EndsWith(".unshared.yaml", StringComparison.Ordinal)))
            foreach (var d in TronGoldenTests.Differences(golden))
                used.UnionWith(GoldenDifferences.Tron.Where(k => k.Covers(TronGoldenTests.Id(golden), d.Path, d.Expected, d.Actual)));
        foreach (var golden in GoldenData.Paths("validate", "*.json"))
            foreach (var d in ValidationGoldenTests.Differences(golden).Differences)
                used.UnionWith(GoldenDifferences.Validation.Where(k => k.Covers(ValidationGoldenTests.Id(golden), d.Check, d.PaaSTA, d.Paasta)));
        var stale = GoldenDifferences.Kubernetes.Concat(GoldenDifferences.Tron).Concat(GoldenDifferences.Validation).Where(d => !used.Contains(d)).ToList();
        Assert.True(stale.Count == 0, "listed differences no golden shows any more: " + string.Join("; ", stale));
        foreach (var (instance, _) in GoldenDifferences.OracleFailures)
            Assert.Contains(GoldenData.Paths("kubernetes", "*.error.json"), g => KubernetesGoldenTests.Id(g) == instance);
    }
}
