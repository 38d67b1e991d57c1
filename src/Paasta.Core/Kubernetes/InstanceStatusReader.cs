using k8s;
using k8s.Models;

namespace Paasta.Kubernetes;

/// <summary>Reads the status of instances with one LIST of Deployments and one of pods per namespace.</summary>
public sealed class InstanceStatusReader
{
    private readonly KubeConnection _kube;

    public InstanceStatusReader(KubeConnection kube) => _kube = kube;

    public async Task<List<InstanceStatus>> ReadAsync(IReadOnlyList<(InstanceConfig Instance, DeploymentBranch? Branch)> instances, CancellationToken cancellation)
    {
        var results = new List<InstanceStatus>();
        foreach (var group in instances.GroupBy(i => i.Instance.Namespace))
        {
            var ns = group.Key;
            var deployments = await _kube.Call(() => _kube.Client.AppsV1.ListNamespacedDeploymentAsync(ns, labelSelector: "paasta.yelp.com/managed=true", cancellationToken: cancellation),
                $"list Deployments in {ns}").ConfigureAwait(false);
            var pods = await _kube.Call(() => _kube.Client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: "paasta.yelp.com/managed=true", cancellationToken: cancellation),
                $"list pods in {ns}").ConfigureAwait(false);
            foreach (var (instance, branch) in group)
                results.Add(Status(instance, branch, deployments.Items, pods.Items));
        }
        return results;
    }

    private static InstanceStatus Status(InstanceConfig instance, DeploymentBranch? branch, IList<V1Deployment> deployments, IList<V1Pod> pods)
    {
        string? Label(IDictionary<string, string>? labels, string key) => labels is not null && labels.TryGetValue(key, out var v) ? v : null;
        bool Mine(IDictionary<string, string>? labels) =>
            Label(labels, "paasta.yelp.com/service") == instance.Service && Label(labels, "paasta.yelp.com/instance") == instance.Instance;

        var deployment = deployments.FirstOrDefault(d => Mine(d.Metadata.Labels));
        var configSha = Label(deployment?.Metadata.Labels, KubernetesObjectBuilder.ConfigShaLabel);
        var podStatuses = pods.Where(p => Mine(p.Metadata.Labels) && p.Metadata.DeletionTimestamp is null).Select(p => new PodStatus(
            p.Metadata.Name,
            p.Spec?.NodeName,
            p.Status?.PodIP,
            p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true,
            p.Status?.ContainerStatuses?.Sum(c => c.RestartCount) ?? 0,
            p.Status?.StartTime,
            Label(p.Metadata.Labels, "paasta.yelp.com/git_sha"),
            Label(p.Metadata.Labels, KubernetesObjectBuilder.ConfigShaLabel),
            p.Status?.Phase ?? "Unknown")).OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
        var desired = deployment?.Spec?.Replicas ?? 0;
        var upToDate = podStatuses.Count(p => p.ConfigSha == configSha && p.Ready);
        return new InstanceStatus
        {
            Service = instance.Service,
            Cluster = instance.Cluster,
            Instance = instance.Instance,
            Namespace = instance.Namespace,
            DesiredState = branch?.DesiredState ?? "start",
            GitSha = branch?.GitSha,
            Image = branch?.DockerImage,
            RunningGitSha = Label(deployment?.Metadata.Labels, "paasta.yelp.com/git_sha"),
            ConfigSha = configSha,
            DeploymentExists = deployment is not null,
            DesiredReplicas = desired,
            ReadyReplicas = podStatuses.Count(p => p.Ready),
            UpToDateReplicas = upToDate,
            BounceInProgress = deployment is not null && (podStatuses.Any(p => p.ConfigSha != configSha) || upToDate < desired),
            Pods = podStatuses,
        };
    }
}
