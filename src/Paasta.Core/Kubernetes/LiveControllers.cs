using System.Globalization;
using System.Text.Json;
using k8s.Models;

namespace Paasta.Kubernetes;

/// <summary>
/// Deployments and StatefulSets read from a LIST as JSON (<see cref="KubeConnection.GetJsonAsync"/>) rather than
/// through KubernetesClient's V1DeploymentList: a new process is spared the deserializer's set-up of the whole
/// controller type graph (pod spec, containers, probes, volumes…), which is most of a cold no-op Sync's cluster read.
/// Each controller comes back as a summary model — metadata (names, uid, resourceVersion, generation, labels,
/// annotations, timestamps), spec.replicas and status' counts, all that planning, bouncing and pruning read — with
/// the whole object as the server sent it beside it, for the field diff of an update.
/// </summary>
public static class LiveControllers
{
    /// <summary>The LIST path of Paasta-managed <paramref name="plural"/> ("deployments", "statefulsets") in every namespace.</summary>
    public static string ListUri(string plural, string labelSelector) =>
        $"apis/apps/v1/{plural}?labelSelector={Uri.EscapeDataString(labelSelector)}";

    /// <summary>The items of a LIST response (none when it has no items array).</summary>
    public static IEnumerable<JsonElement> Items(JsonElement list) =>
        list.ValueKind == JsonValueKind.Object && list.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array
            ? items.EnumerateArray()
            : Enumerable.Empty<JsonElement>();

    public static V1Deployment Deployment(JsonElement item)
    {
        var spec = Child(item, "spec");
        var status = Child(item, "status");
        return new V1Deployment
        {
            ApiVersion = String(item, "apiVersion"),
            Kind = String(item, "kind"),
            Metadata = Metadata(Child(item, "metadata")),
            Spec = spec is { } s ? new V1DeploymentSpec { Replicas = Int(s, "replicas") } : null,
            Status = status is { } t
                ? new V1DeploymentStatus
                {
                    Replicas = Int(t, "replicas"),
                    ReadyReplicas = Int(t, "readyReplicas"),
                    AvailableReplicas = Int(t, "availableReplicas"),
                    UpdatedReplicas = Int(t, "updatedReplicas"),
                    UnavailableReplicas = Int(t, "unavailableReplicas"),
                    ObservedGeneration = Long(t, "observedGeneration"),
                }
                : null,
        };
    }

    public static V1StatefulSet StatefulSet(JsonElement item)
    {
        var spec = Child(item, "spec");
        var status = Child(item, "status");
        return new V1StatefulSet
        {
            ApiVersion = String(item, "apiVersion"),
            Kind = String(item, "kind"),
            Metadata = Metadata(Child(item, "metadata")),
            Spec = spec is { } s ? new V1StatefulSetSpec { Replicas = Int(s, "replicas") } : null,
            Status = status is { } t
                ? new V1StatefulSetStatus
                {
                    Replicas = Int(t, "replicas") ?? 0,
                    ReadyReplicas = Int(t, "readyReplicas"),
                    AvailableReplicas = Int(t, "availableReplicas"),
                    UpdatedReplicas = Int(t, "updatedReplicas"),
                    CurrentReplicas = Int(t, "currentReplicas"),
                    ObservedGeneration = Long(t, "observedGeneration"),
                }
                : null,
        };
    }

    public static V1ObjectMeta Metadata(JsonElement? metadata)
    {
        if (metadata is not { } m) return new V1ObjectMeta();
        return new V1ObjectMeta
        {
            Name = String(m, "name"),
            NamespaceProperty = String(m, "namespace"),
            Uid = String(m, "uid"),
            ResourceVersion = String(m, "resourceVersion"),
            Generation = Long(m, "generation"),
            CreationTimestamp = Time(m, "creationTimestamp"),
            DeletionTimestamp = Time(m, "deletionTimestamp"),
            Labels = StringMap(m, "labels"),
            Annotations = StringMap(m, "annotations"),
        };
    }

    private static JsonElement? Child(JsonElement o, string name) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object ? v : null;

    private static string? String(JsonElement o, string name) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static int? Int(JsonElement o, string name) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : null;

    private static long? Long(JsonElement o, string name) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var i) ? i : null;

    // RFC 3339 as the API server writes it ("2024-05-01T10:00:00Z"), in UTC as KubernetesClient reads it.
    private static DateTime? Time(JsonElement o, string name) =>
        String(o, name) is { } text && DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    private static IDictionary<string, string>? StringMap(JsonElement o, string name)
    {
        if (o.ValueKind != JsonValueKind.Object || !o.TryGetProperty(name, out var map) || map.ValueKind != JsonValueKind.Object) return null;
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in map.EnumerateObject())
            if (p.Value.ValueKind == JsonValueKind.String) result[p.Name] = p.Value.GetString()!;
        return result;
    }
}
