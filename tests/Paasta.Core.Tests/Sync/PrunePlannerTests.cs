using System.Text.Json.Nodes;
using k8s.Models;
using Paasta.Config;
using Paasta.Kubernetes;
using Paasta.Sync;
using Paasta.Tests.Kubernetes;

namespace Paasta.Tests.Sync;

/// <summary>Which live objects a prune removes, from a cluster state built in memory (pure).</summary>
public sealed class PrunePlannerTests
{
    private static readonly InstanceConfig Ghost = KubernetesObjectsTests.Load("main: {}\n");

    private static Dictionary<string, string> Labels(string service, string instance, string? cluster = "prod") => new()
    {
        [KubernetesObjectBuilder.ManagedLabel] = "true",
        [KubernetesObjectBuilder.ServiceLabel] = service,
        [KubernetesObjectBuilder.InstanceLabel] = instance,
        [KubernetesObjectBuilder.ClusterLabel] = cluster!,
    };

    private static V1Deployment Deployment(string name, Dictionary<string, string> labels) =>
        new() { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "paastasvc-svc", Labels = labels, Uid = name + "-uid" } };

    private static JsonObject Budget(string name, Dictionary<string, string> labels) => new()
    {
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["namespace"] = "paastasvc-svc",
            ["labels"] = new JsonObject(labels.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
        },
    };

    private static PruneRequest Request(bool force = false, params string[] known) =>
        new(new[] { new PruneScope("svc", "prod", known.ToDictionary(k => k, _ => "paastasvc-svc"), _ => Ghost) }, force);

    [Fact]
    public void OnlyControllersWithPaastasLabelsForThatServiceAndClusterAreCandidates()
    {
        var state = new ClusterState();
        state.Deployments[("paastasvc-svc", "svc-gone")] = Deployment("svc-gone", Labels("svc", "gone"));
        state.Deployments[("paastasvc-svc", "svc-main")] = Deployment("svc-main", Labels("svc", "main"));
        state.Deployments[("paastasvc-svc", "svc-canary")] = Deployment("svc-canary", Labels("svc", "canary", cluster: "other"));
        state.Deployments[("paastasvc-svc", "other-x")] = Deployment("other-x", Labels("other", "x"));
        var unmanaged = Labels("svc", "old");
        unmanaged.Remove(KubernetesObjectBuilder.ManagedLabel);
        state.Deployments[("paastasvc-svc", "svc-old")] = Deployment("svc-old", unmanaged);
        state.StatefulSets[("paastasvc-svc", "svc-db")] = new V1StatefulSet { Metadata = new V1ObjectMeta { Name = "svc-db", NamespaceProperty = "paastasvc-svc", Labels = Labels("svc", "db") } };

        var candidates = PrunePlanner.Candidates(Request(false, "main"), state);
        Assert.Empty(candidates.Refusals);
        Assert.Equal(new[] { ("db", "StatefulSet"), ("gone", "Deployment") }, candidates.Remove.Select(c => (c.Instance, c.Kind)));
        Assert.Equal("svc-gone-uid", candidates.Remove[1].Uid);
    }

    [Fact]
    public void ABudgetIsRemovedWithItsControllerOnlyWhenItsLabelsNameThatInstance()
    {
        var state = new ClusterState { PdbApiVersion = "policy/v1beta1" };
        state.Deployments[("paastasvc-svc", "svc-gone")] = Deployment("svc-gone", Labels("svc", "gone"));
        state.Deployments[("paastasvc-svc", "svc-left")] = Deployment("svc-left", Labels("svc", "left"));
        state.PodDisruptionBudgets[("paastasvc-svc", "svc-gone")] = Budget("svc-gone", Labels("svc", "gone"));
        state.PodDisruptionBudgets[("paastasvc-svc", "svc-left")] = Budget("svc-left", new Dictionary<string, string>()); // someone else's
        var candidates = PrunePlanner.Candidates(Request(false, "main"), state).Remove;
        Assert.Equal("policy/v1beta1", candidates.Single(c => c.Instance == "gone").PdbApiVersion);
        Assert.Null(candidates.Single(c => c.Instance == "left").PdbApiVersion);
        Assert.All(candidates, c => Assert.Null(c.HpaApiVersion));
    }

    [Fact]
    public void NoInstanceLeftInSoaConfigsIsARefusalUnlessForced()
    {
        var state = new ClusterState();
        state.Deployments[("paastasvc-svc", "svc-main")] = Deployment("svc-main", Labels("svc", "main"));
        var refused = PrunePlanner.Candidates(Request(false), state);
        Assert.Empty(refused.Remove);
        Assert.Equal("PruneWouldRemoveAllInstances", Assert.Single(refused.Refusals).ErrorId);
        Assert.Single(PrunePlanner.Candidates(Request(true), state).Remove);
        Assert.Empty(PrunePlanner.Candidates(Request(false), new ClusterState()).Refusals); // nothing runs: nothing to refuse
    }

    [Fact]
    public void TheRemovalDeletesAutoscalerAndBudgetBeforeTheControllerAndListsEachChange()
    {
        var state = new ClusterState { PdbApiVersion = "policy/v1", HpaApiVersion = "autoscaling/v2", HorizontalPodAutoscalersListed = true };
        state.Deployments[("paastasvc-svc", "svc-gone")] = Deployment("svc-gone", Labels("svc", "gone"));
        state.PodDisruptionBudgets[("paastasvc-svc", "svc-gone")] = Budget("svc-gone", Labels("svc", "gone"));
        state.HorizontalPodAutoscalers[("paastasvc-svc", "svc-gone")] = Budget("svc-gone", Labels("svc", "gone"));
        using var offline = new OfflineKubeConnection();
        var item = PrunePlanner.WithoutDrain(PrunePlanner.Candidates(Request(false, "main"), state).Remove.Single(), new KubeWriter(offline.Kube));
        Assert.Equal(SyncAction.Removed, item.Result.Action);
        Assert.Equal(new[]
        {
            "delete HorizontalPodAutoscaler paastasvc-svc/svc-gone",
            "delete PodDisruptionBudget paastasvc-svc/svc-gone",
            "delete Deployment paastasvc-svc/svc-gone",
        }, item.Result.Changes);
    }
}
