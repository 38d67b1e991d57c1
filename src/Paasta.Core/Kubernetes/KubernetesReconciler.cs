using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Paasta.Kubernetes;

/// <summary>A decided change: the result to report, and the objects needed to carry it out.</summary>
public sealed record SyncPlanItem(SyncResult Result, V1Deployment? Desired, V1Deployment? Current, bool NeedsNamespace);

/// <summary>One instance to sync: its config and what deployments.json says it should run (null: nothing yet).</summary>
public sealed record SyncRequest(InstanceConfig Instance, DeploymentBranch? Branch, KubernetesBuildContext Context);

/// <summary>
/// setup_kubernetes_job: makes the cluster run what soa-configs and deployments.json ask for. Level-triggered
/// and idempotent: it reads the cluster with two LISTs (namespaces; Paasta-managed Deployments by label), then
/// writes only what differs — a replica-only change is a scale, anything that changes the config_sha or the
/// version is a full replace. A pass interrupted anywhere converges on the next one.
/// </summary>
public sealed class KubernetesReconciler
{
    private readonly KubeConnection _kube;

    public KubernetesReconciler(KubeConnection kube) => _kube = kube;

    /// <summary>Reads the cluster (two LISTs) and decides, per instance, what must change. Writes nothing.</summary>
    public async Task<List<SyncPlanItem>> PlanAsync(IReadOnlyList<SyncRequest> requests, CancellationToken cancellation)
    {
        var plan = new List<SyncPlanItem>();
        if (requests.Count == 0) return plan;
        var namespaces = await _kube.Call(() => _kube.Client.CoreV1.ListNamespaceAsync(cancellationToken: cancellation), "list namespaces").ConfigureAwait(false);
        var existingNamespaces = namespaces.Items.Select(n => n.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        var deployments = await _kube.Call(() => _kube.Client.AppsV1.ListDeploymentForAllNamespacesAsync(
            labelSelector: "paasta.yelp.com/managed=true", cancellationToken: cancellation), "list Paasta-managed Deployments").ConfigureAwait(false);
        var live = deployments.Items.ToDictionary(d => (d.Metadata.NamespaceProperty, d.Metadata.Name));
        foreach (var request in requests)
            plan.Add(PlanOne(request, existingNamespaces, live));
        return plan;
    }

    private static SyncPlanItem PlanOne(SyncRequest request, HashSet<string> namespaces, Dictionary<(string, string), V1Deployment> live)
    {
        var (instance, branch, context) = request;
        var baseResult = new SyncResult { Service = instance.Service, Cluster = instance.Cluster, Instance = instance.Instance, Namespace = instance.Namespace };
        if (branch is null)
            return new SyncPlanItem(baseResult with
            {
                Action = SyncAction.NoDeployment,
                Message = $"deploy group '{instance.DeployGroup}' has no deployment in deployments.json yet (mark a version for deployment, then run New-PaastaDeployments)",
            }, null, null, false);
        live.TryGetValue((instance.Namespace, KubernetesObjectBuilder.AppName(instance.Service, instance.Instance)), out var current);
        V1Deployment desired;
        try
        {
            desired = KubernetesObjectBuilder.BuildDeployment(instance, branch, context, current?.Spec?.Replicas);
        }
        catch (PaastaException e)
        {
            return new SyncPlanItem(baseResult with { Action = SyncAction.Failed, Message = e.Message }, null, null, false);
        }
        var result = baseResult with
        {
            Name = desired.Metadata.Name,
            NewConfigSha = desired.Metadata.Labels[KubernetesObjectBuilder.ConfigShaLabel],
            NewGitSha = branch.GitSha,
            NewReplicas = desired.Spec.Replicas,
        };
        if (current is null)
            return new SyncPlanItem(result with
            {
                Action = SyncAction.Created,
                Changes = new[] { $"create Deployment {instance.Namespace}/{desired.Metadata.Name} with {desired.Spec.Replicas} replica(s)" },
            }, desired, null, !namespaces.Contains(instance.Namespace));

        var currentLabels = current.Metadata.Labels ?? new Dictionary<string, string>();
        result = result with
        {
            OldConfigSha = currentLabels.TryGetValue(KubernetesObjectBuilder.ConfigShaLabel, out var oc) ? oc : null,
            OldGitSha = currentLabels.TryGetValue("paasta.yelp.com/git_sha", out var og) ? og : null,
            OldReplicas = current.Spec?.Replicas,
        };
        var changes = new List<string>();
        if (result.OldGitSha != result.NewGitSha) changes.Add($"version {Short(result.OldGitSha)} -> {Short(result.NewGitSha)}");
        if (result.OldConfigSha != result.NewConfigSha) changes.Add($"config_sha {result.OldConfigSha} -> {result.NewConfigSha}");
        if (result.OldReplicas != result.NewReplicas) changes.Add($"replicas {result.OldReplicas} -> {result.NewReplicas}");
        if (changes.Count == 0) return new SyncPlanItem(result with { Action = SyncAction.Unchanged }, desired, current, false);
        var replace = result.OldGitSha != result.NewGitSha || result.OldConfigSha != result.NewConfigSha;
        return new SyncPlanItem(result with { Action = replace ? SyncAction.Updated : SyncAction.Scaled, Changes = changes }, desired, current, false);
    }

    /// <summary>Carries out one planned change (nothing for Unchanged, NoDeployment and Failed items).</summary>
    public async Task ApplyAsync(SyncPlanItem item, CancellationToken cancellation)
    {
        var (result, desired, current, needsNamespace) = item;
        if (desired is null) return;
        var ns = result.Namespace!;
        switch (result.Action)
        {
            case SyncAction.Created:
                if (needsNamespace) await EnsureNamespaceAsync(ns, cancellation).ConfigureAwait(false);
                await _kube.Call(() => _kube.Client.AppsV1.CreateNamespacedDeploymentAsync(desired, ns, cancellationToken: cancellation),
                    $"create Deployment {ns}/{desired.Metadata.Name}").ConfigureAwait(false);
                break;
            case SyncAction.Updated:
                // A full replace, as PaaSTA does: the new template rolls out under the Deployment's strategy.
                desired.Metadata.ResourceVersion = current!.Metadata.ResourceVersion;
                await _kube.Call(() => _kube.Client.AppsV1.ReplaceNamespacedDeploymentAsync(desired, desired.Metadata.Name, ns, cancellationToken: cancellation),
                    $"replace Deployment {ns}/{desired.Metadata.Name}").ConfigureAwait(false);
                break;
            case SyncAction.Scaled:
                // Replicas only: scale without touching the template, so no pod is replaced.
                var patch = new V1Patch($"{{\"spec\":{{\"replicas\":{result.NewReplicas}}}}}", V1Patch.PatchType.MergePatch);
                await _kube.Call(() => _kube.Client.AppsV1.PatchNamespacedDeploymentAsync(patch, desired.Metadata.Name, ns, cancellationToken: cancellation),
                    $"scale Deployment {ns}/{desired.Metadata.Name}").ConfigureAwait(false);
                break;
        }
    }

    /// <summary>Creates a Paasta namespace with PaaSTA's labels (spec §5.3); one that appeared meanwhile is fine.</summary>
    private async Task EnsureNamespaceAsync(string name, CancellationToken cancellation)
    {
        var ns = new V1Namespace
        {
            Metadata = new V1ObjectMeta
            {
                Name = name,
                Labels = new Dictionary<string, string>
                {
                    ["name"] = name,
                    ["paasta.yelp.com/owner"] = KubernetesObjectBuilder.Owner,
                    ["paasta.yelp.com/managed"] = "true",
                },
            },
        };
        try
        {
            await _kube.Client.CoreV1.CreateNamespaceAsync(ns, cancellationToken: cancellation).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response?.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
        }
        catch (HttpOperationException e)
        {
            throw KubeConnection.Translate(e, $"create namespace {name}");
        }
    }

    private static string? Short(string? sha) => sha is { Length: > 8 } ? sha[..8] : sha;
}
