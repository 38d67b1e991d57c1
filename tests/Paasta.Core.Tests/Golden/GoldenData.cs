using System.Text.Json.Nodes;
using Paasta.Config;
using Paasta.Deployments;

namespace Paasta.Tests.Golden;

/// <summary>
/// The golden files of tests/golden: PaaSTA's own outputs for our fixtures, written by
/// tools/golden/Update-Golden.sh with the oracle. The tests read them; CI never runs the oracle.
/// </summary>
internal static class GoldenData
{
    /// <summary>The registry and sidecar image tests/golden/system/paasta gives the oracle.</summary>
    public const string Registry = "registry.golden.example:443";
    public const string HacheckSidecarImage = "registry.golden.example:443/hacheck-sidecar:golden";

    private static readonly Lazy<string> RootPath = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "golden");
            if (Directory.Exists(Path.Combine(candidate, "fixtures"))) return candidate;
        }
        throw new DirectoryNotFoundException("tests/golden not found above " + AppContext.BaseDirectory);
    });

    public static string Root => RootPath.Value;
    public static string Soa => Path.Combine(Root, "fixtures", "soa");
    public static string SoaInvalid => Path.Combine(Root, "fixtures", "soa-invalid");
    public static string Dir(params string[] parts) => Path.Combine(new[] { Root }.Concat(parts).ToArray());

    /// <summary>Golden files under a folder (paths relative to tests/golden, '/'-separated, sorted).</summary>
    public static List<string> Paths(string folder, string pattern, Func<string, bool>? keep = null)
    {
        var dir = Dir(folder);
        if (!Directory.Exists(dir)) return new List<string>();
        return Directory.EnumerateFiles(dir, pattern, SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Root, f).Replace('\\', '/'))
            .Where(f => keep?.Invoke(f) ?? true)
            .Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Golden files under a folder, as test data.</summary>
    public static TheoryData<string> Files(string folder, string pattern, Func<string, bool>? keep = null)
    {
        var data = new TheoryData<string>();
        foreach (var f in Paths(folder, pattern, keep)) data.Add(f);
        return data;
    }

    public static InstanceConfig Instance(string soaDir, string service, string instanceType, string cluster, string instance)
    {
        var reader = new SoaConfigReader(soaDir);
        var result = reader.LoadInstances(reader.LoadService(service),
            new InstanceFilter(c => c == cluster, i => i == instance, t => t == instanceType)).Single();
        return result.Value ?? throw result.Error!;
    }

    public static DeploymentBranch Branch(InstanceConfig instance)
    {
        var doc = DeploymentsFileStore.Load(DeploymentsFileStore.PathFor(Path.Combine(instance.SoaDir, instance.Service)), instance.Service);
        return DeploymentBranches.For(instance, doc) ?? throw new InvalidOperationException($"{instance}: no deployment in the fixture's deployments.json");
    }

    public static JsonNode Json(string relativePath) => JsonNode.Parse(File.ReadAllText(Path.Combine(Root, relativePath)))!;
}
