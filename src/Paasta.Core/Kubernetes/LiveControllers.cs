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

    public static V1Deployment Deployment(JsonElement item)
    {
        var spec = KubeJson.Object(item, "spec");
        var status = KubeJson.Object(item, "status");
        return new V1Deployment
        {
            ApiVersion = KubeJson.String(item, "apiVersion"),
            Kind = KubeJson.String(item, "kind"),
            Metadata = Metadata(KubeJson.Object(item, "metadata")),
            Spec = spec is { } s ? new V1DeploymentSpec { Replicas = KubeJson.Int(s, "replicas") } : null,
            Status = status is { } t
                ? new V1DeploymentStatus
                {
                    Replicas = KubeJson.Int(t, "replicas"),
                    ReadyReplicas = KubeJson.Int(t, "readyReplicas"),
                    AvailableReplicas = KubeJson.Int(t, "availableReplicas"),
                    UpdatedReplicas = KubeJson.Int(t, "updatedReplicas"),
                    UnavailableReplicas = KubeJson.Int(t, "unavailableReplicas"),
                    ObservedGeneration = KubeJson.Long(t, "observedGeneration"),
                }
                : null,
        };
    }

    public static V1StatefulSet StatefulSet(JsonElement item)
    {
        var spec = KubeJson.Object(item, "spec");
        var status = KubeJson.Object(item, "status");
        return new V1StatefulSet
        {
            ApiVersion = KubeJson.String(item, "apiVersion"),
            Kind = KubeJson.String(item, "kind"),
            Metadata = Metadata(KubeJson.Object(item, "metadata")),
            Spec = spec is { } s ? new V1StatefulSetSpec { Replicas = KubeJson.Int(s, "replicas") } : null,
            Status = status is { } t
                ? new V1StatefulSetStatus
                {
                    Replicas = KubeJson.Int(t, "replicas") ?? 0,
                    ReadyReplicas = KubeJson.Int(t, "readyReplicas"),
                    AvailableReplicas = KubeJson.Int(t, "availableReplicas"),
                    UpdatedReplicas = KubeJson.Int(t, "updatedReplicas"),
                    CurrentReplicas = KubeJson.Int(t, "currentReplicas"),
                    ObservedGeneration = KubeJson.Long(t, "observedGeneration"),
                }
                : null,
        };
    }

    public static V1ObjectMeta Metadata(JsonElement? metadata)
    {
        if (metadata is not { } m) return new V1ObjectMeta();
        return new V1ObjectMeta
        {
            Name = KubeJson.String(m, "name"),
            NamespaceProperty = KubeJson.String(m, "namespace"),
            Uid = KubeJson.String(m, "uid"),
            ResourceVersion = KubeJson.String(m, "resourceVersion"),
            Generation = KubeJson.Long(m, "generation"),
            CreationTimestamp = KubeJson.Time(m, "creationTimestamp"),
            DeletionTimestamp = KubeJson.Time(m, "deletionTimestamp"),
            Labels = KubeJson.StringMap(m, "labels"),
            Annotations = KubeJson.StringMap(m, "annotations"),
        };
    }
}
