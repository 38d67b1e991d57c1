using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using Paasta.Kubernetes;

namespace Paasta.Tests.Golden;

/// <summary>
/// Every object Paasta builds for a kubernetes or eks instance of the fixtures, against what PaaSTA's
/// setup_kubernetes_job sends to the API server for it (tests/golden/kubernetes, API format). Differences
/// are allowed only where <see cref="GoldenDifferences"/> lists them, each written up in docs/DIFFERENCES.md.
/// </summary>
public class KubernetesGoldenTests
{
    public static TheoryData<string> Goldens => GoldenData.Files("kubernetes", "*.json");

    internal static KubernetesBuildContext Context => new(GoldenData.Registry, "")
    {
        HacheckSidecarImage = GoldenData.HacheckSidecarImage,
        PdbMaxUnavailable = 0,
    };

    /// <summary>(service, instance type, cluster, instance) of tests/golden/kubernetes/SERVICE/TYPE-CLUSTER.INSTANCE[.error].json.</summary>
    internal static (string Service, string Type, string Cluster, string Instance) Parse(string golden)
    {
        var parts = golden.Split('/');
        var name = parts[^1].EndsWith(".error.json", StringComparison.Ordinal) ? parts[^1][..^".error.json".Length] : parts[^1][..^".json".Length];
        var dot = name.IndexOf('.');
        var file = name[..dot];
        var dash = file.IndexOf('-');
        return (parts[^2], file[..dash], file[(dash + 1)..], name[(dot + 1)..]);
    }

    /// <summary>What Paasta builds, in the same shape as the golden.</summary>
    internal static JsonObject PaastaObjects(string service, string type, string cluster, string instance)
    {
        var config = GoldenData.Instance(GoldenData.Soa, service, type, cluster, instance);
        var app = KubernetesObjectBuilder.Build(config, GoldenData.Branch(config), Context);
        return new JsonObject
        {
            ["controller"] = JsonNode.Parse(KubernetesJson.Serialize(app.Controller)),
            ["podDisruptionBudget"] = app.PodDisruptionBudget?.DeepClone(),
            ["horizontalPodAutoscaler"] = app.HorizontalPodAutoscaler?.DeepClone(),
        };
    }

    [Theory]
    [MemberData(nameof(Goldens))]
    public void Objects_match_PaaSTAs(string golden)
    {
        var (service, type, cluster, instance) = Parse(golden);
        var id = $"{service}/{type}-{cluster}.{instance}";
        if (golden.EndsWith(".error.json", StringComparison.Ordinal))
        {
            // PaaSTA could not build this instance at all; Paasta must, and the difference must be written up.
            PaastaObjects(service, type, cluster, instance);
            Assert.True(GoldenDifferences.OracleFailureDocumented(id), $"{id}: PaaSTA fails on it ({GoldenData.Json(golden)["oracle_error"]}); document what Paasta does instead.");
            return;
        }
        var diffs = Differences(golden);
        var undocumented = diffs.Where(d => !GoldenDifferences.Kubernetes.Any(k => k.Covers(id, d.Path, d.Expected, d.Actual))).ToList();
        Assert.True(undocumented.Count == 0,
            $"{id}: {undocumented.Count} difference(s) from PaaSTA that docs/DIFFERENCES.md does not explain:\n" +
            string.Join("\n", undocumented.Select(d => $"  {d.Path}\n    PaaSTA: {d.Expected}\n    Paasta: {d.Actual}")));
    }

    /// <summary>Every path where Paasta's objects differ from the golden (after <see cref="Normalise"/>).</summary>
    internal static List<(string Path, string Expected, string Actual)> Differences(string golden)
    {
        var (service, type, cluster, instance) = Parse(golden);
        var expected = Normalise(GoldenData.Json(golden).AsObject());
        var actual = Normalise(PaastaObjects(service, type, cluster, instance));
        return JsonPaths.Differences(JsonPaths.Flatten(expected), JsonPaths.Flatten(actual));
    }

    internal static string Id(string golden)
    {
        var (service, type, cluster, instance) = Parse(golden);
        return $"{service}/{type}-{cluster}.{instance}";
    }

    /// <summary>
    /// Only what the spec's preface lets differ, or the API server cannot tell apart, is normalised:
    /// <list type="bullet">
    /// <item>the config_sha labels (the preface's Decision 2: stable and self-consistent, not PaaSTA's hash);</item>
    /// <item>quantities (resources, HPA targets), compared in the canonical form the API server stores them in
    /// (PaaSTA sends cpu 0.5 and an HPA target 0.6 as JSON numbers, Paasta as "500m" and "600m");</item>
    /// <item>empty lists and maps (PaaSTA sends <c>args: []</c>, <c>volumes: []</c>, <c>annotations: {}</c>): every such
    /// field of the Kubernetes API is optional and omitted when empty, so the server stores the same object;</item>
    /// <item>apiVersion and kind of the PDB and HPA, which PaaSTA's client leaves out of the body (the endpoint decides them).</item>
    /// </list>
    /// The oracle's bookkeeping (_oracle) is not an object.
    /// </summary>
    internal static JsonObject Normalise(JsonObject objects)
    {
        var copy = objects.DeepClone().AsObject();
        copy.Remove("_oracle");
        foreach (var key in new[] { "podDisruptionBudget", "horizontalPodAutoscaler" })
            if (copy[key] is JsonObject o) { o.Remove("apiVersion"); o.Remove("kind"); }
        Walk(copy, "");
        return copy;

        static void Walk(JsonNode? node, string path)
        {
            if (node is JsonObject obj)
            {
                foreach (var (k, v) in obj.ToList())
                {
                    var p = $"{path}.{k}";
                    if (v is JsonArray { Count: 0 } or JsonObject { Count: 0 }) obj.Remove(k);
                    else if (k is ConfigSha.Label or ConfigSha.LegacyLabel && v is JsonValue) obj[k] = "(config_sha)";
                    else if (IsQuantity(p) && v is JsonValue q) obj[k] = Canonical(q);
                    else Walk(v, p);
                }
            }
            else if (node is JsonArray arr)
                foreach (var item in arr) Walk(item, path + "[]");
        }
    }

    private static bool IsQuantity(string path) =>
        Regex.IsMatch(path, @"\.resources\.(limits|requests)\..+$|\.target\.(value|averageValue)$");

    private static string Canonical(JsonValue v)
    {
        var text = v.GetValueKind() == System.Text.Json.JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString();
        try { return new ResourceQuantity(text).CanonicalizeString(); }
        catch (Exception) { return text; }
    }
}
