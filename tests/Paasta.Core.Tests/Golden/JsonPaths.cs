using System.Text.Json.Nodes;

namespace Paasta.Tests.Golden;

/// <summary>
/// A JSON document as leaf path → value, so two documents can be compared key by key and every difference
/// named by where it is. Lists of objects are keyed by a member that tells the items apart (name, then
/// mountPath, then key) so one inserted item does not shift every path after it; other lists by index.
/// </summary>
internal static class JsonPaths
{
    private static readonly string[] ItemKeys = { "name", "mountPath", "key" };

    public static SortedDictionary<string, string> Flatten(JsonNode? node)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        Walk(node, "", result);
        return result;
    }

    private static void Walk(JsonNode? node, string path, SortedDictionary<string, string> into)
    {
        switch (node)
        {
            case JsonObject obj when obj.Count > 0:
                foreach (var (k, v) in obj) Walk(v, path.Length == 0 ? k : $"{path}.{k}", into);
                break;
            case JsonArray arr when arr.Count > 0:
                var key = ItemKeys.FirstOrDefault(k => arr.All(i => i is JsonObject o && o[k] is JsonValue)
                    && arr.Select(i => i![k]!.ToJsonString()).Distinct().Count() == arr.Count);
                for (var i = 0; i < arr.Count; i++)
                    Walk(arr[i], key is null ? $"{path}[{i}]" : $"{path}[{key}={arr[i]![key]!.GetValue<object>()}]", into);
                break;
            case JsonObject:
                into[path] = "{}";
                break;
            case JsonArray:
                into[path] = "[]";
                break;
            default:
                into[path] = node?.ToJsonString() ?? "null";
                break;
        }
    }

    /// <summary>Every path whose value differs, with both values ("(absent)" where one side lacks it).</summary>
    public static List<(string Path, string Expected, string Actual)> Differences(SortedDictionary<string, string> expected, SortedDictionary<string, string> actual)
    {
        var diffs = new List<(string, string, string)>();
        foreach (var path in expected.Keys.Union(actual.Keys).Order(StringComparer.Ordinal))
        {
            var e = expected.GetValueOrDefault(path, "(absent)");
            var a = actual.GetValueOrDefault(path, "(absent)");
            if (e != a) diffs.Add((path, e, a));
        }
        return diffs;
    }
}
