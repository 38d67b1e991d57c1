using System.Globalization;
using System.Text.Json;

namespace Paasta.Kubernetes;

/// <summary>
/// Typed reads of Kubernetes objects held as JSON (<see cref="KubeConnection.GetJsonAsync"/>): each gives null when
/// the member is missing or of another kind, so a reader never throws on what a server left out.
/// </summary>
public static class KubeJson
{
    /// <summary>The items of a LIST response (none when it has no items array).</summary>
    public static IEnumerable<JsonElement> Items(JsonElement list) =>
        Property(list, "items") is { ValueKind: JsonValueKind.Array } items ? items.EnumerateArray() : Enumerable.Empty<JsonElement>();

    /// <summary>A member of an object, of any kind.</summary>
    public static JsonElement? Property(JsonElement? element, string name) =>
        element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var value) ? value : null;

    /// <summary>A member that is itself an object.</summary>
    public static JsonElement? Object(JsonElement? element, string name) =>
        Property(element, name) is { ValueKind: JsonValueKind.Object } value ? value : null;

    public static string? String(JsonElement? element, string name) =>
        Property(element, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    public static int? Int(JsonElement? element, string name) =>
        Property(element, name) is { ValueKind: JsonValueKind.Number } value && value.TryGetInt32(out var i) ? i : null;

    public static long? Long(JsonElement? element, string name) =>
        Property(element, name) is { ValueKind: JsonValueKind.Number } value && value.TryGetInt64(out var l) ? l : null;

    /// <summary>An RFC 3339 time as the API server writes it ("2024-05-01T10:00:00Z"), in UTC as KubernetesClient reads it.</summary>
    public static DateTime? Time(JsonElement? element, string name) =>
        String(element, name) is { } text && DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    /// <summary>A map of strings (labels, annotations); members that are not strings are left out.</summary>
    public static IDictionary<string, string>? StringMap(JsonElement? element, string name)
    {
        if (Object(element, name) is not { } map) return null;
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in map.EnumerateObject())
            if (p.Value.ValueKind == JsonValueKind.String) result[p.Name] = p.Value.GetString()!;
        return result;
    }
}
