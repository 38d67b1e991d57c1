using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Paasta.Bounce;
using Paasta.Config;
using Paasta.Errors;
using Paasta.Kubernetes;

namespace Paasta.Sync;

/// <summary>
/// One service on one PaaSTA cluster whose removed instances Sync -Prune may take away: the long-running instances
/// soa-configs still has there, and how to find the drain method of one it no longer has.
/// </summary>
/// <param name="Instances">Each long-running instance soa-configs has there, with the namespace it names.</param>
public sealed record PruneScope(string Service, string Cluster, IReadOnlyDictionary<string, string> Instances, Func<string, InstanceConfig> DrainConfig);

/// <summary>What -Prune covers, and whether -Force lets it remove every instance of a service.</summary>
public sealed record PruneRequest(IReadOnlyList<PruneScope> Scopes, bool Force);

/// <summary>A live controller of an instance gone from soa-configs, with the PDB and HPA Paasta made for it.</summary>
public sealed record PruneCandidate(string Service, string Cluster, string Instance, string Namespace, string Kind, string Name,
    IKubernetesObject<V1ObjectMeta> Live, InstanceConfig DrainConfig, string? PdbApiVersion, string? HpaApiVersion)
{
    public string? Uid => Live.Metadata?.Uid;
}

/// <summary>The controllers to remove, and the services whose removal was refused.</summary>
public sealed record PruneCandidates(List<PruneCandidate> Remove, IReadOnlyList<PaastaException> Refusals);

/// <summary>
/// PaaSTA's cleanup_kubernetes_jobs for the services a Sync covers: Paasta-managed Deployments and StatefulSets
/// (labels paasta.yelp.com/managed=true, service, instance, and cluster equal to the PaaSTA cluster synced) whose
/// instance is no longer in soa-configs, or runs in a namespace other than the one soa-configs names, are removed with their PDB and HPA, after their pods were drained as a stop
/// drains them. An object without those labels is never a candidate. When soa-configs has no instance of a service
/// on a cluster at all, removing what runs there is refused unless forced: that is what a soa dir mounted wrong
/// looks like. (PaaSTA refuses by a kill threshold over all apps and deletes without draining; docs/DIFFERENCES.md#prune.)
/// </summary>
public static class PrunePlanner
{
    /// <summary>Which live controllers go, from what the cluster holds. Pure.</summary>
    public static PruneCandidates Candidates(PruneRequest request, ClusterState state)
    {
        var remove = new List<PruneCandidate>();
        var refusals = new List<PaastaException>();
        var controllers = state.Deployments.Values.Select(d => (Kind: "Deployment", Object: (IKubernetesObject<V1ObjectMeta>)d))
            .Concat(state.StatefulSets.Values.Select(s => (Kind: "StatefulSet", Object: (IKubernetesObject<V1ObjectMeta>)s)))
            .Where(c => KubeLabels.IsPaastaManaged(c.Object.Metadata))
            .ToList();
        foreach (var scope in request.Scopes)
        {
            var gone = controllers
                .Where(c => KubeLabels.Of(c.Object.Metadata, KubernetesObjectBuilder.ServiceLabel) == scope.Service
                    && KubeLabels.Of(c.Object.Metadata, KubernetesObjectBuilder.ClusterLabel) == scope.Cluster
                    && !(scope.Instances.TryGetValue(KubeLabels.Of(c.Object.Metadata, KubernetesObjectBuilder.InstanceLabel)!, out var configured)
                        && configured == c.Object.Metadata.NamespaceProperty))
                .OrderBy(c => KubeLabels.Of(c.Object.Metadata, KubernetesObjectBuilder.InstanceLabel), StringComparer.Ordinal)
                .ThenBy(c => c.Kind, StringComparer.Ordinal)
                .ToList();
            if (gone.Count == 0) continue;
            if (scope.Instances.Count == 0 && !request.Force)
            {
                var names = gone.Select(c => KubeLabels.Of(c.Object.Metadata, KubernetesObjectBuilder.InstanceLabel)).Distinct().ToList();
                refusals.Add(new PaastaException("PruneWouldRemoveAllInstances", PaastaErrorKind.InvalidOperation,
                    $"{scope.Service} has no long-running instance on {scope.Cluster} in soa-configs, but the cluster runs {names.Count}: {string.Join(", ", names)}. " +
                    "-Prune would remove every one of them; nothing was removed. Check the soa dir (a folder mounted wrong looks like this), or pass -Force to remove them.")
                { Target = $"{scope.Service}:{scope.Cluster}" });
                continue;
            }
            foreach (var (kind, live) in gone)
            {
                var meta = live.Metadata;
                var instance = KubeLabels.Of(meta, KubernetesObjectBuilder.InstanceLabel)!;
                var key = (meta.NamespaceProperty, meta.Name);
                bool Ours(JsonObject o) => KubeLabels.IsPaastaManaged(o)
                    && KubeLabels.Of(o, KubernetesObjectBuilder.ServiceLabel) == scope.Service
                    && KubeLabels.Of(o, KubernetesObjectBuilder.InstanceLabel) == instance;
                var pdb = state.PodDisruptionBudgets.TryGetValue(key, out var p) && Ours(p) ? state.PdbApiVersion : null;
                var hpa = state.HorizontalPodAutoscalersListed && state.HorizontalPodAutoscalers.TryGetValue(key, out var h) && Ours(h) ? state.HpaApiVersion : null;
                remove.Add(new PruneCandidate(scope.Service, scope.Cluster, instance, meta.NamespaceProperty, kind, meta.Name, live, scope.DrainConfig(instance), pdb, hpa));
            }
        }
        return new PruneCandidates(remove, refusals);
    }

    /// <summary>Drain every pod of the instance through its drain method, then delete its objects.</summary>
    public static SyncPlanItem WithDrain(PruneCandidate c, BounceEngine bounce, KubeWriter writer, IReadOnlyList<V1Pod> pods)
    {
        var deletes = Deletes(c, writer, pods);
        BounceProgress progress;
        IReadOnlyList<KubeOperation> ops;
        try
        {
            (ops, progress) = bounce.PlanRemoval(c.DrainConfig, c.Kind, c.Namespace, c.Name, pods,
                "delete " + string.Join(", ", deletes.Select(d => d.Summary)), async ct =>
                {
                    foreach (var d in deletes) await d.Run(ct).ConfigureAwait(false);
                });
        }
        catch (PaastaException e) // the service's drain method cannot be built: nothing is removed
        {
            return new SyncPlanItem(Result(c) with { Action = SyncAction.Failed, Message = e.Message }, null, c.Live, Array.Empty<KubeOperation>()) { Error = e };
        }
        return Item(c, ops, deletes, progress);
    }

    /// <summary>Without a bounce engine (no drain step): delete at once.</summary>
    public static SyncPlanItem WithoutDrain(PruneCandidate c, KubeWriter writer)
    {
        var deletes = Deletes(c, writer, Array.Empty<V1Pod>());
        return Item(c, deletes, deletes, null);
    }

    private static SyncPlanItem Item(PruneCandidate c, IReadOnlyList<KubeOperation> ops, IReadOnlyList<KubeOperation> deletes, BounceProgress? progress)
    {
        var result = Result(c) with
        {
            Action = SyncAction.Removed,
            Changes = deletes.Select(d => d.Summary).ToList(),
            Diff = string.Join("\n", ops.Select(o => o.Describe())),
            Bounce = progress,
            Message = $"instance {c.Instance} is no longer in soa-configs for {c.Cluster}" + (progress is null ? "" : $"; {progress.Reason}"),
        };
        return new SyncPlanItem(result, null, c.Live, ops);
    }

    private static SyncResult Result(PruneCandidate c) => new()
    {
        Service = c.Service,
        Cluster = c.Cluster,
        Instance = c.Instance,
        Namespace = c.Namespace,
        Name = c.Name,
        Kind = c.Kind,
        OldConfigSha = KubeLabels.Of(c.Live.Metadata, ConfigSha.Label),
        OldGitSha = KubeLabels.Of(c.Live.Metadata, KubernetesObjectBuilder.GitShaLabel),
        OldImageVersion = KubeLabels.Of(c.Live.Metadata, KubernetesObjectBuilder.ImageVersionLabel),
        OldReplicas = c.Live switch { V1Deployment d => d.Spec?.Replicas, V1StatefulSet s => s.Spec?.Replicas, _ => null },
        NewReplicas = 0,
    };

    /// <summary>
    /// HPA first (it would scale the controller back up), then the PDB, then the controller with its pods, and
    /// last the pods a bounce had orphaned: an interrupted removal leaves the controller, so the next pass finds it.
    /// </summary>
    private static IReadOnlyList<KubeOperation> Deletes(PruneCandidate c, KubeWriter writer, IReadOnlyList<V1Pod> pods)
    {
        var ops = new List<KubeOperation>();
        if (c.HpaApiVersion is { } hpa)
            ops.Add(new KubeOperation("delete", "HorizontalPodAutoscaler", c.Namespace, c.Name, Array.Empty<string>(),
                ct => writer.DeleteCustomAsync(hpa, "horizontalpodautoscalers", c.Namespace, c.Name, ct)));
        if (c.PdbApiVersion is { } pdb)
            ops.Add(new KubeOperation("delete", "PodDisruptionBudget", c.Namespace, c.Name, Array.Empty<string>(),
                ct => writer.DeleteCustomAsync(pdb, "poddisruptionbudgets", c.Namespace, c.Name, ct)));
        ops.Add(new KubeOperation("delete", c.Kind, c.Namespace, c.Name, new[] { "with its pods" },
            ct => writer.DeleteControllerAsync(c.Kind, c.Namespace, c.Name, c.Uid, ct)));
        foreach (var orphan in pods.Where(p => p.Metadata.OwnerReferences is not { Count: > 0 } && KubeLabels.IsPaastaManaged(p.Metadata)))
            ops.Add(new KubeOperation("delete", "Pod", c.Namespace, orphan.Metadata.Name, new[] { "left by an earlier bounce" },
                ct => writer.DeletePodAsync(c.Namespace, orphan.Metadata.Name, ct)));
        return ops;
    }
}
