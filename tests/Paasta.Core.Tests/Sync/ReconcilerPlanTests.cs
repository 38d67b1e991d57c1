using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Paasta.Kubernetes;
using Paasta.Config;
using Paasta.Sync;
using Paasta.Tests.Kubernetes;

namespace Paasta.Tests.Sync;

/// <summary>The reconciler's decisions, from a cluster state built in memory (no cluster: Plan is pure).</summary>
public sealed class ReconcilerPlanTests : IDisposable
{
    private const string Sha = "4ef01b5a574b519ab546309e89f72972a33b6b75";
    private const string OtherSha = "9085fd67ed1bb5fadafa7f2afaf8dedee7342711";
    private static readonly DeploymentBranch Branch = new($"services-example_service:paasta-{Sha}", Sha, null, "start", null);
    private static readonly KubernetesBuildContext Context = new("registry.example:443");
    private readonly OfflineKubeConnection _offline = new();
    private readonly KubernetesReconciler _reconciler;
    private KubeConnection Kube => _offline.Kube;

    public ReconcilerPlanTests() => _reconciler = new KubernetesReconciler(Kube);

    public void Dispose() => _offline.Dispose();

    private static SyncRequest Request(string yaml, DeploymentBranch? branch = null, string instance = "main") =>
        new(KubernetesObjectsTests.Load(yaml, instance), branch ?? Branch, Context);

    /// <summary>What the cluster holds after a sync of <paramref name="yaml"/>: the controller as the server returns it, and its PDB.</summary>
    private static ClusterState Synced(string yaml, DeploymentBranch? branch = null)
    {
        var app = KubernetesObjectBuilder.Build(KubernetesObjectsTests.Load(yaml), branch ?? Branch, Context);
        var state = new ClusterState { PdbApiVersion = "policy/v1beta1" };
        var live = KubernetesJson.Deserialize<V1Deployment>(KubernetesJson.Serialize(app.Deployment));
        live.Metadata.ResourceVersion = "42";
        live.Spec.ProgressDeadlineSeconds = 600; // server defaults must not count as differences
        live.Spec.Template.Spec.DnsPolicy = "ClusterFirst";
        state.Deployments[(app.Namespace, app.Name)] = live;
        var pdb = app.PodDisruptionBudget!.DeepClone().AsObject();
        pdb["apiVersion"] = "policy/v1beta1";
        state.PodDisruptionBudgets[(app.Namespace, app.Name)] = pdb;
        state.Namespaces.Add(app.Namespace);
        return state;
    }

    [Fact]
    public void NothingLiveMeansCreateTheNamespaceTheControllerAndItsBudget()
    {
        var state = new ClusterState();
        state.MissingNamespaces.Add("paastasvc-example--service");
        var item = Assert.Single(_reconciler.Plan(new[] { Request("main: {instances: 3}\n") }, state));
        Assert.Equal(SyncAction.Created, item.Result.Action);
        Assert.Equal(new[]
        {
            "create Namespace paastasvc-example--service",
            "create Deployment paastasvc-example--service/example--service-main",
            "create PodDisruptionBudget paastasvc-example--service/example--service-main",
        }, item.Operations.Select(o => o.Summary));
        Assert.Equal(3, item.Result.NewReplicas);
        Assert.Null(item.Result.OldConfigSha);
        Assert.Contains("3 replica(s) of registry.example:443/services-example_service:paasta-" + Sha, item.Result.Diff);
    }

    [Theory]
    [InlineData("downthenup", false)]
    [InlineData("crossover", true)]
    public void AMovedDownthenupInstanceCreatesNothingWhileItsOldCopyRuns(string bounceMethod, bool creates)
    {
        var state = Synced("main: {}\n"); // the copy in the default namespace, paastasvc-example--service
        state.Namespaces.Add("elsewhere");
        var item = Assert.Single(_reconciler.Plan(new[] { Request($"main: {{namespace: elsewhere, bounce_method: {bounceMethod}}}\n") }, state));
        if (creates)
        {
            Assert.Equal(SyncAction.Created, item.Result.Action);
            return;
        }
        Assert.Equal(SyncAction.Bouncing, item.Result.Action);
        Assert.Empty(item.Operations);
        Assert.Contains("paastasvc-example--service must be gone", item.Result.Message);
    }

    [Fact]
    public void PruneTakesTheCopyOfAMovedInstanceFromTheNamespaceItLeft()
    {
        var state = Synced("main: {}\n");
        var moved = new PruneRequest(new[] { new PruneScope("example_service", "pnw-prod", new Dictionary<string, string> { ["main"] = "elsewhere" }, _ => KubernetesObjectsTests.Load("main: {}\n")) }, false);
        var stayed = moved with { Scopes = new[] { moved.Scopes[0] with { Instances = new Dictionary<string, string> { ["main"] = "paastasvc-example--service" } } } };
        Assert.Equal(new[] { ("main", "paastasvc-example--service") }, PrunePlanner.Candidates(moved, state).Remove.Select(c => (c.Instance, c.Namespace)));
        Assert.Empty(PrunePlanner.Candidates(stayed, state).Remove);
    }

    [Fact]
    public void TwoInstancesInOneMissingNamespaceCreateItOnce()
    {
        var state = new ClusterState();
        state.MissingNamespaces.Add("paastasvc-example--service");
        var yaml = "main: {}\ncanary: {}\n";
        var plan = _reconciler.Plan(new[] { Request(yaml), Request(yaml, instance: "canary") }, state);
        Assert.Equal(1, plan.SelectMany(p => p.Operations).Count(o => o.Kind == "Namespace"));
    }

    [Fact]
    public void InSyncMeansNoWrite()
    {
        const string yaml = "main: {instances: 3}\n";
        var item = Assert.Single(_reconciler.Plan(new[] { Request(yaml) }, Synced(yaml)));
        Assert.Equal(SyncAction.Unchanged, item.Result.Action);
        Assert.Empty(item.Operations);
        Assert.Equal(item.Result.OldConfigSha, item.Result.NewConfigSha);
    }

    [Fact]
    public void ReplicaOnlyChangeIsAScaleWithTheSameConfigSha()
    {
        var item = Assert.Single(_reconciler.Plan(new[] { Request("main: {instances: 5}\n") }, Synced("main: {instances: 3}\n")));
        Assert.Equal(SyncAction.Scaled, item.Result.Action);
        var op = Assert.Single(item.Operations);
        Assert.Equal("scale", op.Verb);
        Assert.Equal((3, 5), (item.Result.OldReplicas, item.Result.NewReplicas));
        Assert.Equal(item.Result.OldConfigSha, item.Result.NewConfigSha);
    }

    [Fact]
    public void StopScalesToZeroAndRollsTheConfigBecauseForceBounceChanged()
    {
        var stopped = Branch with { DesiredState = "stop", ForceBounce = "20240316T090000" };
        var item = Assert.Single(_reconciler.Plan(new[] { Request("main: {instances: 3}\n", stopped) }, Synced("main: {instances: 3}\n")));
        Assert.Equal(SyncAction.Updated, item.Result.Action);
        Assert.Equal(0, item.Result.NewReplicas);
        Assert.Equal("stop", item.Result.DesiredState);
    }

    [Fact]
    public void EnvChangeIsAReplaceAndTheDiffNamesTheField()
    {
        var item = Assert.Single(_reconciler.Plan(new[] { Request("main: {env: {GREETING: hello again}}\n") }, Synced("main: {env: {GREETING: hello}}\n")));
        Assert.Equal(SyncAction.Updated, item.Result.Action);
        Assert.NotEqual(item.Result.OldConfigSha, item.Result.NewConfigSha);
        var op = Assert.Single(item.Operations);
        Assert.Equal("replace", op.Verb);
        Assert.Contains(op.Details, d => d.StartsWith("config_sha ", StringComparison.Ordinal));
        Assert.Contains("spec.template.spec.containers[main].env[GREETING].value: 'hello' -> 'hello again'", op.Details);
        Assert.DoesNotContain(op.Details, d => d.Contains("progressDeadlineSeconds") || d.Contains("dnsPolicy") || d.Contains("resourceVersion"));
    }

    [Fact]
    public void NewVersionIsAReplaceAndComesFirst()
    {
        var newBranch = Branch with { GitSha = OtherSha, DockerImage = $"services-example_service:paasta-{OtherSha}" };
        var state = Synced("main: {}\n");
        var plan = _reconciler.Plan(new[] { Request("canary: {}\n", instance: "canary"), Request("main: {}\n", newBranch) }, state);
        // canary is not live: a create, also priority 0, but it came first in the input
        Assert.Equal(new[] { "canary", "main" }, plan.Select(p => p.Result.Instance));
        var main = plan[1];
        Assert.Equal(SyncAction.Updated, main.Result.Action);
        Assert.Contains(main.Operations[0].Details, d => d == $"version 4ef01b5a -> 9085fd67");
        Assert.DoesNotContain(main.Operations[0].Details, d => d.Contains("].image:")); // said once, as the version
    }

    [Fact]
    public void ConfigOnlyChangesComeAfterVersionChangesAndScalesLast()
    {
        var yaml = "main: {}\n";
        var state = Synced(yaml);
        var scale = Request("main: {instances: 4}\n");
        var config = Request("main: {env: {A: b}}\n");
        var version = Request(yaml, Branch with { GitSha = OtherSha, DockerImage = $"services-example_service:paasta-{OtherSha}" });
        var plan = _reconciler.Plan(new[] { scale, config, version }, state);
        Assert.Equal(new[] { SyncAction.Updated, SyncAction.Updated, SyncAction.Scaled }, plan.Select(p => p.Result.Action));
        Assert.NotEqual(plan[0].Result.OldGitSha, plan[0].Result.NewGitSha);
        Assert.Equal(plan[1].Result.OldGitSha, plan[1].Result.NewGitSha);
    }

    [Fact]
    public void ABudgetThatDiffersIsPatchedAloneAndOneUsingMinAvailableIsLeftAlone()
    {
        var state = Synced("main: {}\n");
        var item = Assert.Single(_reconciler.Plan(new[] { Request("main: {bounce_margin_factor: 0.5}\n") }, state));
        // bounce_margin_factor changes the strategy too, so the controller is replaced and the PDB patched
        Assert.Equal(new[] { "replace", "patch" }, item.Operations.Select(o => o.Verb));
        Assert.Contains("spec.maxUnavailable: 0 -> '50%'", item.Operations[1].Details);

        var key = state.PodDisruptionBudgets.Keys.Single();
        state.PodDisruptionBudgets[key]["spec"]!["maxUnavailable"] = 3;
        item = Assert.Single(_reconciler.Plan(new[] { Request("main: {}\n") }, state));
        Assert.Equal(SyncAction.Reconciled, item.Result.Action);
        Assert.Equal("patch", Assert.Single(item.Operations).Verb);

        state.PodDisruptionBudgets[key]["spec"]!.AsObject().Remove("maxUnavailable");
        state.PodDisruptionBudgets[key]["spec"]!["minAvailable"] = 1;
        Assert.Equal(SyncAction.Unchanged, Assert.Single(_reconciler.Plan(new[] { Request("main: {}\n") }, state)).Result.Action);
    }

    [Fact]
    public void AutoscaledInstancesKeepTheLiveReplicaCountAndGetAnHpa()
    {
        var state = Synced("main: {max_instances: 6}\n");
        state.Deployments.Values.Single().Spec.Replicas = 4; // the HPA scaled it
        state.HorizontalPodAutoscalersListed = true;
        state.HpaApiVersion = "autoscaling/v2beta2";
        var item = Assert.Single(_reconciler.Plan(new[] { Request("main: {max_instances: 6}\n") }, state));
        Assert.Equal(4, item.Result.NewReplicas);
        Assert.Equal(SyncAction.Reconciled, item.Result.Action);
        Assert.Equal("create HorizontalPodAutoscaler paastasvc-example--service/example--service-main", Assert.Single(item.Operations).Summary);
    }

    [Fact]
    public void AnHpaThatIsNoLongerWantedIsDeleted()
    {
        var state = Synced("main: {instances: 2}\n");
        state.HorizontalPodAutoscalersListed = true;
        state.HpaApiVersion = "autoscaling/v2beta2";
        state.HorizontalPodAutoscalers[("paastasvc-example--service", "example--service-main")] = new JsonObject { ["spec"] = new JsonObject() };
        var item = Assert.Single(_reconciler.Plan(new[] { Request("main: {instances: 2}\n") }, state));
        Assert.Equal("delete", Assert.Single(item.Operations).Verb);
    }

    [Fact]
    public void NoDeploymentIsReportedNotPlanned()
    {
        var item = Assert.Single(_reconciler.Plan(new[] { new SyncRequest(KubernetesObjectsTests.Load("main: {}\n"), null, Context) }, new ClusterState()));
        Assert.Equal(SyncAction.NoDeployment, item.Result.Action);
        Assert.Empty(item.Operations);
        Assert.Contains("prod.main", item.Result.Message);
    }

    [Fact]
    public void AControllerOfAnotherClusterIsNotTouched()
    {
        var state = Synced("main: {}\n");
        state.Deployments.Values.Single().Metadata.Labels["paasta.yelp.com/cluster"] = "other-cluster";
        var item = Assert.Single(_reconciler.Plan(new[] { Request("main: {}\n") }, state));
        Assert.Equal(SyncAction.Failed, item.Result.Action);
        Assert.Equal("ClusterMismatch", item.Error!.ErrorId);
        Assert.Empty(item.Operations);
    }

    [Fact]
    public void AnInvalidInstanceFailsAloneWithItsOwnErrorId()
    {
        var plan = _reconciler.Plan(new[] { Request("main: {cmd: x, args: [y]}\n"), Request("canary: {}\n", instance: "canary") }, new ClusterState());
        Assert.Equal("InstanceConfigInvalid", plan.Single(p => p.Result.Instance == "main").Error!.ErrorId);
        Assert.Equal(SyncAction.Created, plan.Single(p => p.Result.Instance == "canary").Result.Action);
    }
}
