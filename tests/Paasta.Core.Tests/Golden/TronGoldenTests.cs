using System.Text.Json;
using System.Text.Json.Nodes;
using Paasta.Config;
using Paasta.Tron;
using Paasta.Yaml;

namespace Paasta.Tests.Golden;

/// <summary>
/// The Tron namespace config Paasta generates for each tron-CLUSTER.yaml of the fixtures, against PaaSTA's
/// create_complete_config for the same file (tests/golden/tron). Both YAML texts are read back and compared
/// value by value (Tron's master compares them so too); the one byte-level difference (PyYAML's anchors for
/// lists PaaSTA shares between jobs) is checked on its own.
/// </summary>
public class TronGoldenTests
{
    public static TheoryData<string> Goldens => GoldenData.Files("tron", "*.yaml", f => !f.EndsWith(".unshared.yaml", StringComparison.Ordinal));

    /// <summary>PaaSTA's namespaces of the valid fixtures, re-dumped by PyYAML without anchors.</summary>
    public static TheoryData<string> Unshared => GoldenData.Files(Path.Combine("tron", "soa"), "*.unshared.yaml");

    internal static (string SoaDir, string Service, string Cluster) Parse(string golden)
    {
        var parts = golden.Split('/');
        var soa = parts[^2] == "soa-invalid" ? GoldenData.SoaInvalid : GoldenData.Soa;
        var name = parts[^1][..^".yaml".Length];
        var dot = name.IndexOf('.');
        return (soa, name[..dot], name[(dot + 1)..]);
    }

    internal static TronNamespaceConfig PaastaNamespace(string soaDir, string service, string cluster)
    {
        var reader = new SoaConfigReader(soaDir);
        var images = new TronImageResolver(reader, null, GoldenData.Registry);
        return TronConfigBuilder.BuildServiceNamespace(reader, reader.LoadService(service), cluster, images);
    }

    internal static JsonNode? Plain(string yaml, string file) =>
        JsonSerializer.SerializeToNode(YamlLoader.Parse(yaml, file)?.ToPlain());

    internal static string Id(string golden)
    {
        var (soa, service, cluster) = Parse(golden);
        return $"{Path.GetFileName(soa)}/{service}.{cluster}";
    }

    /// <summary>Every path where Paasta's namespace differs from PaaSTA's, both read back from YAML.</summary>
    internal static List<(string Path, string Expected, string Actual)> Differences(string golden)
    {
        var (soa, service, cluster) = Parse(golden);
        var expected = Plain(File.ReadAllText(GoldenData.Dir(golden)), golden);
        var actual = Plain(PaastaNamespace(soa, service, cluster).Yaml, "paasta");
        return JsonPaths.Differences(JsonPaths.Flatten(expected), JsonPaths.Flatten(actual));
    }

    [Theory]
    [MemberData(nameof(Goldens))]
    public void Namespace_matches_PaaSTAs(string golden)
    {
        var id = Id(golden);
        var diffs = Differences(golden);
        var undocumented = diffs.Where(d => !GoldenDifferences.Tron.Any(k => k.Covers(id, d.Path, d.Expected, d.Actual))).ToList();
        Assert.True(undocumented.Count == 0,
            $"{id}: {undocumented.Count} difference(s) from PaaSTA's namespace that docs/DIFFERENCES.md does not explain:\n" +
            string.Join("\n", undocumented.Select(d => $"  {d.Path}\n    PaaSTA: {d.Expected}\n    Paasta: {d.Actual}")));
    }

    /// <summary>
    /// Byte for byte, Paasta's YAML is what PyYAML's safe dumper writes for PaaSTA's config, except that PaaSTA's
    /// text names a list its jobs share once (&amp;id001) and refers back to it (*id001): the golden it is compared
    /// with is PaaSTA's config dumped without those anchors (docs/DIFFERENCES.md#tron-yaml-anchors).
    /// </summary>
    [Theory]
    [MemberData(nameof(Unshared))]
    public void Yaml_text_is_PyYAMLs_byte_for_byte(string golden)
    {
        var (soa, service, cluster) = Parse(golden.Replace(".unshared.yaml", ".yaml"));
        Assert.Equal(File.ReadAllText(GoldenData.Dir(golden)), PaastaNamespace(soa, service, cluster).Yaml);
    }
}
