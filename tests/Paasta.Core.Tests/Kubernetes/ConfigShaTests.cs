using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using Paasta.Kubernetes;
using Paasta.Tests.Golden;
using Xunit;

namespace Paasta.Tests.Kubernetes;

public sealed class ConfigShaTests
{
    // Keys that JSON escaping treats specially: quotes and backslashes, control characters, HTML-sensitive characters,
    // non-ASCII letters and a character outside the BMP.
    private static readonly string[] Keys = { "plain", "quote\"and\\slash", "line\nbreak\ttab", "<tag>&'+", "é-ü", "emoji😀", "" };

    [Fact]
    public void Object_keys_are_written_exactly_as_JsonSerializer_writes_a_string_so_config_shas_do_not_change()
    {
        var node = new JsonObject();
        foreach (var k in Keys) node[k] = 1;
        var expected = "{" + string.Join(", ", Keys.Order(StringComparer.Ordinal).Select(k => JsonSerializer.Serialize(k) + ": 1")) + "}";
        Assert.Equal(expected, ConfigSha.Canonical(node));
    }

    [Fact]
    public void The_hash_of_a_controller_with_such_keys_is_stable()
    {
        var labels = new JsonObject();
        foreach (var k in Keys) labels[k] = "v";
        var controller = new JsonObject { ["metadata"] = new JsonObject { ["labels"] = labels }, ["spec"] = new JsonObject { ["replicas"] = 3 } };
        // What the hash was when keys were written with JsonSerializer.Serialize: a change would bounce every instance.
        Assert.Equal(Expected(controller), ConfigSha.Compute(controller, null));
    }

    /// <summary>
    /// Every golden instance's config_sha is the hash of the canonical text as it was first written (a string per
    /// value, joined): the hash is compared with what earlier Syncs wrote, so any change to it would bounce every
    /// instance of every user.
    /// </summary>
    [Theory]
    [MemberData(nameof(KubernetesGoldenTests.Goldens), MemberType = typeof(KubernetesGoldenTests))]
    public void Every_golden_instance_hashes_as_the_canonical_text_it_was_first_defined_by(string golden)
    {
        var (service, type, cluster, instance) = KubernetesGoldenTests.Parse(golden);
        var config = GoldenData.Instance(GoldenData.Soa, service, type, cluster, instance);
        var branch = GoldenData.Branch(config);
        var app = KubernetesObjectBuilder.Build(config, branch, KubernetesGoldenTests.Context);
        var controller = JsonNode.Parse(KubernetesJson.Serialize(app.Controller))!.AsObject();
        Assert.Equal(Expected(controller, branch.ForceBounce), app.ConfigSha);
        Assert.Equal(Expected(controller, "token"), ConfigSha.Compute(controller, "token"));
    }

    // The definition: what must not bounce taken out of a copy, then each key and value written on its own.
    private static string Expected(JsonObject controller, string? forceBounce = null)
    {
        var node = controller.DeepClone().AsObject();
        (node["spec"] as JsonObject)?.Remove("replicas");
        (node["metadata"] as JsonObject)?.Remove("namespace");
        foreach (var labels in new[] { node["metadata"]?["labels"], node["spec"]?["template"]?["metadata"]?["labels"] })
            if (labels is JsonObject l) { l.Remove(ConfigSha.Label); l.Remove(ConfigSha.LegacyLabel); }
        foreach (var listName in new[] { "containers", "initContainers" })
            if (node["spec"]?["template"]?["spec"]?[listName] is JsonArray containers)
                foreach (var c in containers)
                    if (c?["env"] is JsonArray env)
                        foreach (var e in env.Where(e => e?["name"]?.GetValue<string>() == "PAASTA_SOA_CONFIGS_SHA").ToList()) env.Remove(e);
        static string Canonical(JsonNode? n) => n switch
        {
            null => "null",
            JsonObject o => "{" + string.Join(", ", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => JsonSerializer.Serialize(p.Key) + ": " + Canonical(p.Value))) + "}",
            JsonArray a => "[" + string.Join(", ", a.Select(Canonical)) + "]",
            _ => n.ToJsonString(),
        };
        var text = Canonical(node) + (forceBounce ?? "");
        return ConfigSha.Prefix + Convert.ToHexString(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes(text))).ToLowerInvariant()[..8];
    }
}
