using System.Text.Json;
using k8s;
using k8s.Models;
using Paasta.Config;
using Paasta.Kubernetes;
using Paasta.Sync;
using Paasta.Tests.Kubernetes;

namespace Paasta.Tests.Sync;

/// <summary>
/// Sync reads the Deployment LIST as JSON into summaries (ClusterState.AddDeployments, LiveControllers) instead of
/// KubernetesClient's V1DeploymentList. On a LIST recorded from the v1.20 platform (Recorded/README.md), the plan must
/// be the one the typed models gave: a no-op stays a no-op, and a change is the same change with the same diff.
/// </summary>
public sealed class LiveControllerReadingTests : IDisposable
{
    private const string Sha = "895fa92ee050cc305dd95825d45ef93bbb65e795";
    private const string Namespace = "paastasvc-listrecord";
    private static readonly DeploymentBranch Stopped = new($"services-benchsync:paasta-{Sha}", Sha, null, "stop", null);
    private static readonly KubernetesBuildContext Context = new("127.0.0.1:5000");

    // The soa-configs the recording was made from (tools/benchmark/Kubernetes.Bench.ps1's instances, two of them).
    private const string Defaults = "_defaults: &defaults\n  deploy_group: bench.everything\n  cpus: 0.1\n  mem: 64\n  disk: 128\n  instances: 2\n" +
        "  healthcheck_mode: http\n  healthcheck_uri: /status\n  healthcheck_grace_period_seconds: 5\n";

    private readonly TempSoaDir _soa = new();
    private readonly OfflineKubeConnection _offline = new();
    private readonly KubernetesReconciler _reconciler;

    public LiveControllerReadingTests() => _reconciler = new KubernetesReconciler(_offline.Kube);

    public void Dispose()
    {
        _offline.Dispose();
        _soa.Dispose();
    }

    private static string Recorded => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Sync", "Recorded", "deployments-list-v1.20.json"));

    private SyncRequest Request(string instance, string greeting, DeploymentBranch? branch = null)
    {
        _soa.Write("listrecord/service.yaml", "description: Sync benchmark\nexternal_link: http://example\ngit_url: null\ndocker_registry: 127.0.0.1:5000\n");
        _soa.Write("listrecord/monitoring.yaml", "team: bench\n");
        _soa.Write("listrecord/deploy.yaml", "pipeline:\n- step: bench.everything\n");
        _soa.Write("listrecord/kubernetes-bench.yaml", Defaults + $"{instance}:\n  <<: *defaults\n  env:\n    GREETING: {greeting}\n");
        var reader = new SoaConfigReader(_soa.Root);
        var loaded = reader.LoadInstances(reader.LoadService("listrecord"), new InstanceFilter(Instance: n => n == instance)).Single();
        return new SyncRequest(loaded.Value ?? throw loaded.Error!, branch ?? Stopped, Context);
    }

    private static ClusterState ReadAsJson()
    {
        var state = new ClusterState { PdbApiVersion = "policy/v1beta1" };
        using var list = JsonDocument.Parse(Recorded);
        state.AddDeployments(list.RootElement.Clone());
        return state;
    }

    private static ClusterState ReadTyped()
    {
        var state = new ClusterState { PdbApiVersion = "policy/v1beta1" };
        foreach (var d in KubernetesJson.Deserialize<V1DeploymentList>(Recorded).Items) state.Deployments[(d.Metadata.NamespaceProperty, d.Metadata.Name)] = d;
        return state;
    }

    // The recording has no PDBs: both states get the ones the instances want, so only the Deployments decide.
    private static ClusterState WithBudgets(ClusterState state, SyncRequest request)
    {
        var desired = KubernetesReconciler.Desire(request, state);
        var pdb = desired.PodDisruptionBudget!.DeepClone().AsObject();
        pdb["apiVersion"] = "policy/v1beta1";
        state.PodDisruptionBudgets[(desired.Namespace, desired.Name)] = pdb;
        state.Namespaces.Add(Namespace);
        return state;
    }

    private static string Shape(SyncPlanItem item)
    {
        var r = item.Result;
        return string.Join("\n", r.Action, r.Kind, r.OldConfigSha, r.NewConfigSha, r.OldGitSha, r.NewGitSha, r.OldImageVersion, r.OldReplicas, r.NewReplicas,
            r.ReadyReplicas, string.Join("|", r.Changes), r.Diff, r.Message, string.Join("|", item.Operations.Select(o => o.Describe())));
    }

    private (SyncPlanItem Json, SyncPlanItem Typed) PlanBoth(SyncRequest request, SyncRequest? budgetsFor = null) =>
        (Assert.Single(_reconciler.Plan(new[] { request }, WithBudgets(ReadAsJson(), budgetsFor ?? request))),
         Assert.Single(_reconciler.Plan(new[] { request }, WithBudgets(ReadTyped(), budgetsFor ?? request))));

    [Fact]
    public void TheRecordedInstanceInSyncIsANoOpEitherWay()
    {
        var (json, typed) = PlanBoth(Request("inst0", "hello from 0"));
        Assert.Equal(SyncAction.Unchanged, json.Result.Action);
        Assert.Empty(json.Operations);
        Assert.Equal("config4fefc97c", json.Result.OldConfigSha);
        Assert.Equal(json.Result.OldConfigSha, json.Result.NewConfigSha);
        Assert.Equal(Shape(typed), Shape(json));
    }

    [Fact]
    public void AChangedFieldIsTheSameUpdateWithTheSameDiff()
    {
        var unchanged = Request("inst1", "hello from 1");
        var (json, typed) = PlanBoth(Request("inst1", "changed"), unchanged);
        Assert.Equal(SyncAction.Updated, json.Result.Action);
        Assert.Contains("replace Deployment paastasvc-listrecord/listrecord-inst1", json.Operations.Select(o => o.Summary));
        Assert.Contains("spec.template.spec.containers[inst1].env[GREETING].value: 'hello from 1' -> 'changed'", json.Result.Diff);
        Assert.Equal(Shape(typed), Shape(json));
    }

    [Fact]
    public void AStartedInstanceIsTheSameScale()
    {
        var started = Stopped with { DesiredState = "start" };
        var (json, typed) = PlanBoth(Request("inst0", "hello from 0", started));
        Assert.Equal(SyncAction.Scaled, json.Result.Action);
        Assert.Equal((0, 2), (json.Result.OldReplicas, json.Result.NewReplicas));
        Assert.Equal(Shape(typed), Shape(json));
    }

    [Fact]
    public void TheSummaryKeepsWhatBouncesAndPrunesRead()
    {
        var json = ReadAsJson().Deployments[(Namespace, "listrecord-inst0")];
        var typed = ReadTyped().Deployments[(Namespace, "listrecord-inst0")];
        Assert.Equal(
            (typed.Metadata.Name, typed.Metadata.NamespaceProperty, typed.Metadata.Uid, typed.Metadata.ResourceVersion, typed.Metadata.Generation, typed.Metadata.CreationTimestamp),
            (json.Metadata.Name, json.Metadata.NamespaceProperty, json.Metadata.Uid, json.Metadata.ResourceVersion, json.Metadata.Generation, json.Metadata.CreationTimestamp));
        Assert.Equal(typed.Metadata.Labels.OrderBy(l => l.Key), json.Metadata.Labels.OrderBy(l => l.Key));
        Assert.Equal(typed.Metadata.Annotations.OrderBy(l => l.Key), json.Metadata.Annotations.OrderBy(l => l.Key));
        Assert.Equal(typed.Spec.Replicas, json.Spec.Replicas);
        Assert.Equal((typed.Status.Replicas, typed.Status.ReadyReplicas, typed.Status.UpdatedReplicas, typed.Status.AvailableReplicas, typed.Status.ObservedGeneration),
            (json.Status.Replicas, json.Status.ReadyReplicas, json.Status.UpdatedReplicas, json.Status.AvailableReplicas, json.Status.ObservedGeneration));
    }

    [Fact]
    public void AStatefulSetListIsReadTheSameWay()
    {
        var state = new ClusterState();
        using var list = JsonDocument.Parse("""
            {"kind":"StatefulSetList","apiVersion":"apps/v1","items":[{"metadata":{"name":"svc-db","namespace":"ns","uid":"u1","resourceVersion":"7",
             "labels":{"paasta.yelp.com/managed":"true"}},"spec":{"replicas":3,"serviceName":"svc-db"},"status":{"replicas":3,"readyReplicas":2}}]}
            """);
        state.AddStatefulSets(list.RootElement.Clone());
        Assert.True(state.StatefulSetsListed);
        var set = state.StatefulSets[("ns", "svc-db")];
        Assert.Equal((3, 2, "7", "true"), (set.Spec.Replicas, set.Status.ReadyReplicas, set.Metadata.ResourceVersion, set.Metadata.Labels["paasta.yelp.com/managed"]));
        Assert.Equal("svc-db", state.ControllerAsJson(set)!["spec"]!["serviceName"]!.GetValue<string>());
    }
}
