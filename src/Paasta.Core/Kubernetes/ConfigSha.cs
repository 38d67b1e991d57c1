using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
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
        HashOf(JsonNode.Parse(KubernetesJson.Serialize(controller))!.AsObject(), forceBounce, secretSignatures);

    /// <summary>The hash of a controller object given as JSON (not modified).</summary>
    public static string Compute(JsonObject controller, string? forceBounce, IReadOnlyDictionary<string, string>? secretSignatures = null) =>
        HashOf(controller.DeepClone().AsObject(), forceBounce, secretSignatures);

    // Takes the node over: what must not bounce is removed from it in place.
    private static string HashOf(JsonObject node, string? forceBounce, IReadOnlyDictionary<string, string>? secretSignatures)
    {
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
                for (var i = env.Count - 1; i >= 0; i--)
                    if (env[i]?["name"] is JsonValue name && name.TryGetValue<string>(out var n) && n == "PAASTA_SOA_CONFIGS_SHA") env.RemoveAt(i);
            }
        }
        if (secretSignatures is { Count: > 0 })
            node["paasta_secrets"] = new JsonObject(secretSignatures.OrderBy(s => s.Key, StringComparer.Ordinal)
                .Select(s => KeyValuePair.Create(s.Key, (JsonNode?)JsonValue.Create(s.Value))));
        var text = new ArrayBufferWriter<byte>(8192);
        WriteCanonical(text, node);
        if (forceBounce is { Length: > 0 }) Encoding.UTF8.GetBytes(forceBounce, text);
        return Prefix + Convert.ToHexString(MD5.HashData(text.WrittenSpan)).ToLowerInvariant()[..8];
    }

    /// <summary>Sorted keys, <c>", "</c> and <c>": "</c> separators, nulls kept: one text per value.</summary>
    internal static string Canonical(JsonNode? node)
    {
        var text = new ArrayBufferWriter<byte>(4096);
        WriteCanonical(text, node);
        return Encoding.UTF8.GetString(text.WrittenSpan);
    }

    // The canonical text as UTF-8, straight into one buffer: keys and values through one Utf8JsonWriter with the
    // default options (so each is written exactly as JsonSerializer and JsonNode.ToJsonString write it), the
    // separators between them by hand. A hash is computed for each of a Sync's desired objects, so no value gets a
    // writer, a string or a sorted copy of its own (docs/ARCHITECTURE.md, "Performance: one-shot commands").
    private static void WriteCanonical(ArrayBufferWriter<byte> text, JsonNode? node)
    {
        using var json = new Utf8JsonWriter(text);
        Write(node);

        void Write(JsonNode? value)
        {
            switch (value)
            {
                case null:
                    Raw("null"u8);
                    break;
                case JsonObject o:
                    Raw("{"u8);
                    var keys = new string[o.Count];
                    var k = 0;
                    foreach (var (key, _) in o) keys[k++] = key;
                    // A static method, not StringComparer.Ordinal: sorting with a comparer object builds a delegate to
                    // its Compare on every call, which a new process resolves the slow way (60 ms over a Sync's objects).
                    Array.Sort(keys, string.CompareOrdinal);
                    for (var i = 0; i < keys.Length; i++)
                    {
                        if (i > 0) Raw(", "u8);
                        json.WriteStringValue(keys[i]);
                        Flush();
                        Raw(": "u8);
                        Write(o[keys[i]]);
                    }
                    Raw("}"u8);
                    break;
                case JsonArray a:
                    Raw("["u8);
                    for (var i = 0; i < a.Count; i++)
                    {
                        if (i > 0) Raw(", "u8);
                        Write(a[i]);
                    }
                    Raw("]"u8);
                    break;
                default:
                    value.WriteTo(json);
                    Flush();
                    break;
            }
        }

        // Each key or value is a whole JSON text to the writer: flushed into the buffer, then the writer starts afresh.
        void Flush()
        {
            json.Flush();
            json.Reset();
        }

        void Raw(ReadOnlySpan<byte> bytes) => text.Write(bytes);
    }
}
