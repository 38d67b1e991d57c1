using Paasta.Config;
using Paasta.Deployments;
using Paasta.Errors;
using Paasta.Kubernetes;
using Paasta.Sync;

namespace Paasta.Operations;

/// <summary>
/// Get-PaastaInstanceStatus (paasta status): for each instance, what should run (deployments.json, and the
/// config_sha Sync would build, Secrets signed as Sync signs them) against what its cluster runs. Each cluster is
/// read through its own connection, with one LIST of controllers and one of pods.
/// </summary>
public static class InstanceStatusOperation
{
    public static IReadOnlyList<InstanceStatus> Run(OperationContext context, IReadOnlyList<InstanceConfig> instances)
    {
        if (instances.Count == 0) return Array.Empty<InstanceStatus>();
        var inputs = new SyncInputs(context);
        var byInstance = new Dictionary<InstanceConfig, InstanceStatus>(ReferenceEqualityComparer.Instance);
        foreach (var group in ClusterConnections.Group(context, instances.Select(i => i.Cluster), readOnly: true))
        {
            var kube = group.Connect(context);
            var mine = instances.Where(i => group.Contains(i.Cluster)).ToList();
            var secrets = Wait(SecretSignatures.ReadAsync(kube, mine, context.Cancellation), context);
            var state = new ClusterState { Secrets = secrets };
            var requests = new List<StatusRequest>();
            foreach (var i in mine)
            {
                var doc = inputs.Deployments(i);
                var branch = doc is null ? null : DeploymentBranches.For(i, doc);
                DesiredApp? desired = null;
                if (branch is not null && inputs.BuildContext(i, reportMissingRegistry: false) is { } build)
                {
                    try { desired = KubernetesReconciler.Desire(new SyncRequest(i, branch, build), state); }
                    catch (PaastaException e) { context.Sink.Verbose($"{i}: cannot compute the desired config_sha: {e.Message}"); }
                }
                requests.Add(new StatusRequest(i, branch, desired));
            }
            var statuses = Wait(new KubernetesStatusReader(kube).ReadAsync(requests, context.Cancellation), context);
            foreach (var (request, status) in requests.Zip(statuses)) byInstance[request.Instance] = status;
        }
        return instances.Where(byInstance.ContainsKey).Select(i => byInstance[i]).ToList();
    }

    private static T Wait<T>(Task<T> task, OperationContext context) => task.WaitAsync(context.Cancellation).GetAwaiter().GetResult();
}
