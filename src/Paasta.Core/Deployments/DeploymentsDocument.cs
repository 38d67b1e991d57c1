using System.Collections;
using System.Text;
using System.Text.Json;

namespace Paasta.Deployments;

/// <summary>v2.deployments[deploy_group]: the image and commit a deploy group runs.</summary>
public sealed record DeploymentEntry(string? DockerImage, string? GitSha, string? ImageVersion);

/// <summary>v2.controls["service:cluster.instance"]: desired state and force_bounce token.</summary>
public sealed record ControlEntry(string? DesiredState, string? ForceBounce);

/// <summary>v1["service:paasta-cluster.instance"]: the legacy per-instance view.</summary>
public sealed record V1Entry(string? DockerImage, string? DesiredState, string? ForceBounce);

/// <summary>A string-keyed dictionary that keeps insertion order (Python dict semantics: re-assigning keeps the position).</summary>
public sealed class OrderedMap<T> : IReadOnlyDictionary<string, T>
{
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly List<KeyValuePair<string, T>> _entries = new();

    public T this[string key]
    {
        get => _entries[_index[key]].Value;
        set
        {
            if (_index.TryGetValue(key, out var i)) _entries[i] = new(key, value);
            else
            {
                _index[key] = _entries.Count;
                _entries.Add(new(key, value));
            }
        }
    }

    public int Count => _entries.Count;
    public IEnumerable<string> Keys => _entries.Select(e => e.Key);
    public IEnumerable<T> Values => _entries.Select(e => e.Value);
    public bool ContainsKey(string key) => _index.ContainsKey(key);

    public bool TryGetValue(string key, out T value)
    {
        if (_index.TryGetValue(key, out var i))
        {
            value = _entries[i].Value;
            return true;
        }
        value = default!;
        return false;
    }

    public IEnumerator<KeyValuePair<string, T>> GetEnumerator() => _entries.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// The content of <c>&lt;soa_dir&gt;/&lt;service&gt;/deployments.json</c> (docs/BEHAVIOUR.md §3.3): the v1 section for old
/// consumers and the v2 section (deployments per deploy group, controls per instance) every loader reads.
/// </summary>
public sealed class DeploymentsDocument
{
    public OrderedMap<V1Entry> V1 { get; } = new();
    public OrderedMap<DeploymentEntry> Deployments { get; } = new();
    public OrderedMap<ControlEntry> Controls { get; } = new();

    public bool IsEmpty => V1.Count == 0 && Deployments.Count == 0 && Controls.Count == 0;

    /// <summary>The file's exact bytes (as text): what Python's json.dump writes for the same dict.</summary>
    public string ToJson()
    {
        var sb = new StringBuilder(256 + 200 * (V1.Count + Controls.Count + Deployments.Count));
        sb.Append("{\"v1\": ");
        PythonJson.WriteObject(sb, V1, (b, e) => PythonJson.WriteFields(b,
            ("docker_image", e.DockerImage), ("desired_state", e.DesiredState), ("force_bounce", e.ForceBounce)));
        sb.Append(", \"v2\": {\"deployments\": ");
        PythonJson.WriteObject(sb, Deployments, (b, e) => PythonJson.WriteFields(b,
            ("docker_image", e.DockerImage), ("git_sha", e.GitSha), ("image_version", e.ImageVersion)));
        sb.Append(", \"controls\": ");
        PythonJson.WriteObject(sb, Controls, (b, e) => PythonJson.WriteFields(b,
            ("desired_state", e.DesiredState), ("force_bounce", e.ForceBounce)));
        sb.Append("}}");
        return sb.ToString();
    }

    public override string ToString() => ToJson();

    /// <summary>
    /// Reads a deployments.json text. Sections or fields that are missing read as empty/null; text that is
    /// not a JSON object throws <see cref="JsonException"/>.
    /// </summary>
    public static DeploymentsDocument Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException("deployments.json is not a JSON object.");
        var result = new DeploymentsDocument();
        if (Child(doc.RootElement, "v1") is { } v1)
            foreach (var p in v1.EnumerateObject())
                result.V1[p.Name] = new V1Entry(Text(p.Value, "docker_image"), Text(p.Value, "desired_state"), Text(p.Value, "force_bounce"));
        if (Child(doc.RootElement, "v2") is { } v2)
        {
            if (Child(v2, "deployments") is { } deployments)
                foreach (var p in deployments.EnumerateObject())
                    result.Deployments[p.Name] = new DeploymentEntry(Text(p.Value, "docker_image"), Text(p.Value, "git_sha"), Text(p.Value, "image_version"));
            if (Child(v2, "controls") is { } controls)
                foreach (var p in controls.EnumerateObject())
                    result.Controls[p.Name] = new ControlEntry(Text(p.Value, "desired_state"), Text(p.Value, "force_bounce"));
        }
        return result;
    }

    private static JsonElement? Child(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var c) && c.ValueKind == JsonValueKind.Object ? c : null;

    private static string? Text(JsonElement e, string name) =>
        e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(name, out var v) ? null
        : v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Null => null,
            _ => v.GetRawText(),
        };
}
