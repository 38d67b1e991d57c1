using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;

namespace Paasta.Kubernetes;

/// <summary>
/// Compares a live Kubernetes object with the one Paasta wants, field by field, as readable lines
/// (<c>spec.template.spec.containers[main].env[GREETING].value: 'a' -> 'b'</c>). Only fields the desired object
/// sets are compared, so values the API server fills in by default never count as differences; lists of
/// named items (containers, env, ports, volumes) are matched by name, and items or map keys (labels,
/// annotations, resources, node selectors) that are live but no longer wanted are reported as removed.
/// </summary>
public static class ObjectDiff
{
    private static readonly HashSet<string> OwnedMaps = new(StringComparer.Ordinal)
        { "labels", "annotations", "nodeSelector", "matchLabels", "requests", "limits" };

    /// <summary>Label keys whose changes a caller reports separately (config_sha, git_sha); skipped here.</summary>
    public static readonly IReadOnlySet<string> VersionLabels = new HashSet<string>(StringComparer.Ordinal)
        { ConfigSha.Label, ConfigSha.LegacyLabel, KubernetesObjectBuilder.GitShaLabel, "yelp.com/paasta_git_sha" };

    public static JsonNode? ToJson(object? kubernetesObject) =>
        kubernetesObject switch
        {
            null => null,
            JsonNode n => n,
            JsonElement e => JsonNode.Parse(e.GetRawText()),
            _ => JsonNode.Parse(KubernetesJson.Serialize(kubernetesObject)),
        };

    /// <summary>The differences, at most <paramref name="max"/> lines (then one "… and N more").</summary>
    public static List<string> Describe(JsonNode? live, JsonNode? desired, string root = "", int max = 25, IReadOnlySet<string>? skipKeys = null)
    {
        var lines = new List<string>();
        Walk(root, live, desired, lines, skipKeys ?? new HashSet<string>());
        if (lines.Count > max)
        {
            var more = lines.Count - max;
            lines.RemoveRange(max, more);
            lines.Add($"… and {more} more");
        }
        return lines;
    }

    /// <summary>True when the live object has every value the desired one sets (and nothing it removed).</summary>
    public static bool Matches(JsonNode? live, JsonNode? desired, string root = "")
    {
        var lines = new List<string>();
        Walk(root, live, desired, lines, new HashSet<string>());
        return lines.Count == 0;
    }

    private static void Walk(string path, JsonNode? live, JsonNode? desired, List<string> lines, IReadOnlySet<string> skip)
    {
        switch (desired)
        {
            case null:
                return;
            case JsonObject d:
                if (live is not JsonObject l)
                {
                    lines.Add($"{Label(path)}: {Show(live)} -> {Show(desired)}");
                    return;
                }
                foreach (var (key, value) in d)
                {
                    if (skip.Contains(key)) continue;
                    var childPath = Join(path, key);
                    if (!l.TryGetPropertyValue(key, out var liveValue) || liveValue is null)
                    {
                        // The API server leaves zero values out (Go's omitempty): 0, "", false, [] and {} are "not set" too.
                        if (value is not null && !IsZero(value)) lines.Add($"{childPath}: + {Show(value)}");
                        continue;
                    }
                    Walk(childPath, liveValue, value, lines, skip);
                }
                if (OwnedMaps.Contains(LastSegment(path)))
                    foreach (var (key, value) in l)
                        if (!d.ContainsKey(key) && !skip.Contains(key)) lines.Add($"{Join(path, key)}: - {Show(value)}");
                return;
            case JsonArray da:
                if (live is not JsonArray la)
                {
                    lines.Add($"{Label(path)}: {Show(live)} -> {Show(desired)}");
                    return;
                }
                if (IsNamedList(da) && IsNamedList(la))
                {
                    var liveByName = la.ToDictionary(i => Name(i)!, i => i, StringComparer.Ordinal);
                    var wanted = new HashSet<string>(StringComparer.Ordinal);
                    foreach (var item in da)
                    {
                        var name = Name(item)!;
                        wanted.Add(name);
                        var itemPath = $"{path}[{name}]";
                        if (liveByName.TryGetValue(name, out var liveItem)) Walk(itemPath, liveItem, item, lines, skip);
                        else lines.Add($"{itemPath}: + {Show(item)}");
                    }
                    foreach (var item in la)
                        if (!wanted.Contains(Name(item)!)) lines.Add($"{path}[{Name(item)}]: - {Show(item)}");
                    return;
                }
                if (da.Count != la.Count)
                {
                    lines.Add($"{Label(path)}: {Show(live)} -> {Show(desired)}");
                    return;
                }
                for (var i = 0; i < da.Count; i++) Walk($"{path}[{i}]", la[i], da[i], lines, skip);
                return;
            default:
                if (!ScalarEquals(live, desired)) lines.Add($"{Label(path)}: {Show(live)} -> {Show(desired)}");
                return;
        }
    }

    private static bool IsZero(JsonNode value) => value switch
    {
        JsonArray a => a.Count == 0,
        JsonObject o => o.Count == 0,
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>().Length == 0,
            JsonValueKind.Number => decimal.Parse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture) == 0,
            JsonValueKind.False => true,
            _ => false,
        },
        _ => false,
    };

    private static bool IsNamedList(JsonArray a) => a.Count > 0 && a.All(i => Name(i) is not null);

    private static string? Name(JsonNode? item) =>
        item is JsonObject o && o.TryGetPropertyValue("name", out var n) && n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static bool ScalarEquals(JsonNode? live, JsonNode desired)
    {
        if (live is not JsonValue lv || desired is not JsonValue dv) return false;
        if (lv.GetValueKind() == JsonValueKind.Number && dv.GetValueKind() == JsonValueKind.Number)
            return decimal.Parse(lv.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture) == decimal.Parse(dv.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
        return lv.ToJsonString() == dv.ToJsonString();
    }

    private static string Join(string path, string key) =>
        path.Length == 0 ? key
        : key.Contains('.') || key.Contains('/') ? $"{path}[{key}]"
        : $"{path}.{key}";

    private static string LastSegment(string path)
    {
        var dot = path.LastIndexOf('.');
        return dot < 0 ? path : path[(dot + 1)..];
    }

    private static string Label(string path) => path.Length == 0 ? "(object)" : path;

    /// <summary>A value for a diff line: strings quoted, anything else compact JSON, long values cut.</summary>
    public static string Show(JsonNode? value)
    {
        var text = value switch
        {
            null => "(none)",
            JsonValue v when v.GetValueKind() == JsonValueKind.String => "'" + v.GetValue<string>() + "'",
            _ => value.ToJsonString(),
        };
        return text.Length > 90 ? text[..87] + "…" : text;
    }
}
