using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using k8s;

namespace Paasta.Kubernetes;

/// <summary>
/// config_sha (docs/BEHAVIOUR.md §5.8): <c>config</c> + the first 8 hex digits of MD5 over the desired controller object
/// (Deployment or StatefulSet) without what must not bounce — its replica count, its namespace, the config_sha
/// labels themselves and every container's PAASTA_SOA_CONFIGS_SHA — serialised canonically (keys sorted at every
/// level, Python's default separators), plus the secrets' signatures, followed by the force_bounce token.
/// The same input gives the same hash in any process on any machine; any change of the pod-relevant config,
/// of the version or of force_bounce gives a new one. (It is not Python PaaSTA's hash, and need not be: it is
/// only ever compared with what Paasta itself wrote.)
/// </summary>
public static class ConfigSha
{
    public const string Label = "paasta.yelp.com/config_sha";
    public const string LegacyLabel = "yelp.com/paasta_config_sha";
    public const string Prefix = "config";

    /// <summary>The hash of a controller object (any KubernetesClient model).</summary>
    public static string Compute(object controller, string? forceBounce, IReadOnlyDictionary<string, string>? secretSignatures = null) =>
        Compute(JsonNode.Parse(KubernetesJson.Serialize(controller))!.AsObject(), forceBounce, secretSignatures);

    /// <summary>The hash of a controller object given as JSON (not modified).</summary>
    public static string Compute(JsonObject controller, string? forceBounce, IReadOnlyDictionary<string, string>? secretSignatures = null)
    {
        var node = controller.DeepClone().AsObject();
        (node["spec"] as JsonObject)?.Remove("replicas");
        (node["metadata"] as JsonObject)?.Remove("namespace");
        foreach (var labels in new[] { node["metadata"]?["labels"], node["spec"]?["template"]?["metadata"]?["labels"] })
        {
            if (labels is not JsonObject l) continue;
            l.Remove(Label);
            l.Remove(LegacyLabel);
        }
        var podSpec = node["spec"]?["template"]?["spec"];
        foreach (var listName in new[] { "containers", "initContainers" })
        {
            if (podSpec?[listName] is not JsonArray containers) continue;
            foreach (var c in containers)
            {
                if (c?["env"] is not JsonArray env) continue;
                foreach (var e in env.Where(e => e?["name"]?.GetValue<string>() == "PAASTA_SOA_CONFIGS_SHA").ToList()) env.Remove(e);
            }
        }
        if (secretSignatures is { Count: > 0 })
            node["paasta_secrets"] = new JsonObject(secretSignatures.OrderBy(s => s.Key, StringComparer.Ordinal)
                .Select(s => KeyValuePair.Create(s.Key, (JsonNode?)JsonValue.Create(s.Value))));
        var canonical = Canonical(node) + (forceBounce ?? "");
        return Prefix + Convert.ToHexString(MD5.HashData(Encoding.UTF8.GetBytes(canonical))).ToLowerInvariant()[..8];
    }

    /// <summary>Sorted keys, <c>", "</c> and <c>": "</c> separators, nulls kept: one text per value.</summary>
    internal static string Canonical(JsonNode? node)
    {
        var sb = new StringBuilder(4096);
        Write(sb, node);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, JsonNode? node)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject o:
                sb.Append('{');
                var first = true;
                foreach (var (k, v) in o.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    // Written as JsonSerializer.Serialize(k) writes it, without asking its reflection-based
                    // resolver for the type (which a new process pays for: every default converter is built).
                    sb.Append(JsonValue.Create(k).ToJsonString()).Append(": ");
                    Write(sb, v);
                }
                sb.Append('}');
                break;
            case JsonArray a:
                sb.Append('[');
                for (var i = 0; i < a.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    Write(sb, a[i]);
                }
                sb.Append(']');
                break;
            default:
                sb.Append(node.ToJsonString());
                break;
        }
    }
}
