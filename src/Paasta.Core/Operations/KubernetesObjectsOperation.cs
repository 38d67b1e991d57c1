using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Paasta.Config;
using Paasta.Errors;
using Paasta.Kubernetes;
using Paasta.Sync;

namespace Paasta.Operations;

/// <summary>
/// ConvertTo-PaastaKubernetesObject: every object Sync-PaastaInstance would apply for the instances — per namespace
/// the Namespace (and the LimitRange of a paastasvc- namespace), per instance its Deployment or StatefulSet, its
/// PodDisruptionBudget and, when autoscaled, its HorizontalPodAutoscaler — as typed KubernetesClient objects.
/// The inputs are Sync's (<see cref="SyncInputs"/>) and the objects come from the same builder call
/// (<see cref="KubernetesReconciler.Desire"/>). Offline, the cluster is taken to be empty, which is the path PaaSTA
/// takes for an object that does not exist yet: autoscaled instances start at max_instances, referenced Secrets
/// have no signature, and the API versions are the newest PaaSTA writes (policy/v1, autoscaling/v2). With a
/// cluster, its live replica counts, Secret signatures and served API versions are read as Sync reads them.
/// </summary>
public static class KubernetesObjectsOperation
{
    /// <summary>The objects, in apply order (typed KubernetesClient objects, returned as object so that callers need not load KubernetesClient).</summary>
    public static IReadOnlyList<object> Render(OperationContext context, IReadOnlyList<InstanceConfig> instances, bool live)
    {
        var requests = new SyncInputs(context).Requests(instances);
        foreach (var r in requests.Where(r => r.Branch is null))
            context.Sink.Warning($"{r.Instance.Service}.{r.Instance.Instance} on {r.Instance.Cluster}: {KubernetesReconciler.NoDeployment(r.Instance).Message}.");
        var building = requests.Where(r => r.Branch is not null).ToList();
        if (building.Count == 0) return Array.Empty<object>();

        var states = new Dictionary<string, ClusterState>(StringComparer.Ordinal);
        if (live)
        {
            foreach (var group in ClusterConnections.Group(context, building.Select(r => r.Instance.Cluster)))
            {
                var reconciler = new KubernetesReconciler(group.Connect(context));
                var state = reconciler.ObserveAsync(building.Where(r => group.Contains(r.Instance.Cluster)).ToList(), context.Cancellation)
                    .WaitAsync(context.Cancellation).GetAwaiter().GetResult();
                foreach (var c in group.Clusters) states[c] = state;
            }
        }
        else if (building.Select(r => r.Instance.Cluster).Distinct(StringComparer.Ordinal).Count() > 1)
            context.Sink.Warning("The instances belong to several clusters: the objects of each are rendered together; apply them cluster by cluster (filter on the label paasta.yelp.com/cluster).");

        var objects = new List<object>();
        var namespaces = new HashSet<string>(StringComparer.Ordinal);
        foreach (var request in building)
        {
            var state = live ? states[request.Instance.Cluster] : ClusterState.Empty(new[] { request.Instance.Namespace });
            DesiredApp desired;
            try { desired = KubernetesReconciler.Desire(request, state); }
            catch (PaastaException e)
            {
                context.Sink.Error(e);
                continue;
            }
            if (namespaces.Add(desired.Namespace))
            {
                objects.Add(NamespaceObjects.Namespace(desired.Namespace));
                if (NamespaceObjects.LimitRange(desired.Namespace) is { } limits) objects.Add(limits);
            }
            objects.Add(desired.Controller);
            if (desired.PodDisruptionBudget is { } pdb)
                objects.Add(Typed<V1PodDisruptionBudget>(pdb, state.PdbApiVersion));
            // Sync writes an HPA for Deployments only (docs/BEHAVIOUR.md §5.7).
            if (desired.StatefulSet is null && desired.HorizontalPodAutoscaler is { } hpa)
                objects.Add(Typed<V2HorizontalPodAutoscaler>(hpa, state.HpaApiVersion ?? "autoscaling/v2"));
        }
        return objects;
    }

    private static T Typed<T>(JsonObject body, string apiVersion)
    {
        var obj = new JsonObject { ["apiVersion"] = apiVersion };
        foreach (var (k, v) in body) obj[k] = v?.DeepClone();
        return KubernetesJson.Deserialize<T>(obj.ToJsonString());
    }

    /// <summary>One YAML stream of the objects, documents separated by <c>---</c>, as <c>kubectl apply -f</c> reads it.</summary>
    public static string ToYaml(IEnumerable<object> objects)
    {
        var text = new StringBuilder();
        foreach (var o in objects)
        {
            if (text.Length > 0) text.Append("---\n");
            var yaml = KubernetesYaml.Serialize(o).Replace("\r\n", "\n");
            text.Append(yaml);
            if (!yaml.EndsWith('\n')) text.Append('\n');
        }
        return text.ToString();
    }
}
