using k8s.Models;
using Paasta.Kubernetes;
using Paasta.Config;

namespace Paasta.Tests.Kubernetes;

/// <summary>Status and wait-for-deployment decisions from controllers and pods built in memory.</summary>
public class InstanceStatusTests
{
    private const string Sha = "4ef01b5a574b519ab546309e89f72972a33b6b75";
    private const string OldSha = "9085fd67ed1bb5fadafa7f2afaf8dedee7342711";
    private static readonly DeploymentBranch Branch = new($"services-example_service:paasta-{Sha}", Sha, null, "start", null);
    private static readonly InstanceConfig Main = KubernetesObjectsTests.Load("main: {instances: 3}\n");

    private static ControllerSummary Controller(int replicas = 3, int ready = 3, int updated = 3, string sha = Sha, string config = "configaaaa0001") =>
        new("Deployment", "paastasvc-example--service", "example--service-main", "pnw-prod", sha, null, config, "img", replicas, ready, updated, ready, true, null);

    private static PaastaPod Pod(string name, bool ready = true, string sha = Sha, string config = "configaaaa0001", string? reason = null, string? message = null, bool terminating = false) =>
        new()
        {
            Name = name, Namespace = "paastasvc-example--service", Service = "example_service", Instance = "main", Cluster = "pnw-prod",
            Ready = ready, GitSha = sha, ConfigSha = config, Reason = reason, Message = message, Terminating = terminating, Phase = "Running",
        };

    private static InstanceStatus Status(ControllerSummary? controller, params PaastaPod[] pods) =>
        KubernetesStatusReader.Compute(new StatusRequest(Main, Branch, null), controller, pods);

    [Fact]
    public void AllReadyAtTheControllersVersionIsRunning()
    {
        var s = Status(Controller(), Pod("a"), Pod("b"), Pod("c"));
        Assert.Equal("Running", s.State);
        Assert.False(s.BounceInProgress);
        Assert.Equal("3/3", s.Ready);
        Assert.Equal("4ef01b5a", s.Version);
        Assert.Equal(new[] { "4ef01b5a,configaaaa0001: 3/3 ready" }, s.Versions);
        Assert.Equal(3, DeploymentProgress.Evaluate(s, Main, Sha, null).Ready);
        Assert.True(DeploymentProgress.Evaluate(s, Main, Sha[..8], null).Done);
    }

    [Fact]
    public void OldPodsLeftMeanABounceInProgress()
    {
        var s = Status(Controller(ready: 2, updated: 2), Pod("a"), Pod("b"), Pod("old", sha: OldSha, config: "configbbbb0002"));
        Assert.Equal("Bouncing", s.State);
        Assert.True(s.BounceInProgress);
        Assert.Equal(2, s.Versions.Count);
        var verdict = DeploymentProgress.Evaluate(s, Main, Sha, null);
        Assert.False(verdict.Done);
        Assert.Contains("1 pod(s) of an older version remain", verdict.Reason);
    }

    [Fact]
    public void TerminatingPodsDoNotCount()
    {
        var s = Status(Controller(), Pod("a"), Pod("b"), Pod("c"), Pod("old", sha: OldSha, config: "configbbbb0002", ready: false, terminating: true, reason: "Terminating"));
        Assert.Equal("Running", s.State);
        Assert.True(DeploymentProgress.Evaluate(s, Main, Sha, null).Done);
    }

    [Fact]
    public void StoppedAndStopping()
    {
        var stopped = KubernetesStatusReader.Compute(new StatusRequest(Main, Branch with { DesiredState = "stop" }, null), Controller(replicas: 0, ready: 0, updated: 0), Array.Empty<PaastaPod>());
        Assert.Equal("Stopped", stopped.State);
        Assert.True(DeploymentProgress.Evaluate(stopped, Main, Sha, null).Done);
        var stopping = KubernetesStatusReader.Compute(new StatusRequest(Main, Branch with { DesiredState = "stop" }, null), Controller(replicas: 0, ready: 0, updated: 0), new[] { Pod("a", terminating: true) });
        Assert.Equal("Stopping", stopping.State);
    }

    [Fact]
    public void NothingOnTheClusterOrInDeploymentsJson()
    {
        Assert.Equal("NotRunning", Status(null).State);
        Assert.Contains("Sync-PaastaInstance", Status(null).Message);
        Assert.False(DeploymentProgress.Evaluate(Status(null), Main, Sha, null).Done);
        var notDeployed = KubernetesStatusReader.Compute(new StatusRequest(Main, null, null), null, Array.Empty<PaastaPod>());
        Assert.Equal("NotDeployed", notDeployed.State);
    }

    [Fact]
    public void AClusterRunningAnotherVersionIsOutOfSyncAndNotStartedBouncing()
    {
        var s = Status(Controller(sha: OldSha), Pod("a", sha: OldSha));
        Assert.Equal("OutOfSync", s.State);
        var verdict = DeploymentProgress.Evaluate(s, Main, Sha, null);
        Assert.False(verdict.Done);
        Assert.StartsWith("not started bouncing yet: still runs 9085fd67", verdict.Reason);
        Assert.Contains("run Sync-PaastaInstance", verdict.Reason);
    }

    [Fact]
    public void WaitExplainsWhyPodsAreNotReady()
    {
        var s = Status(Controller(ready: 0),
            Pod("a", ready: false, reason: "ReadinessProbeFailing", message: "Readiness probe failed: HTTP probe failed with statuscode: 404"),
            Pod("b", ready: false, reason: "CrashLoopBackOff", message: "last exit code 1"),
            Pod("c", ready: false, reason: "ImagePullBackOff", message: "Back-off pulling image"));
        Assert.Equal("Starting", s.State);
        Assert.Contains("3 of 3 pod(s) not ready", s.Message);
        var verdict = DeploymentProgress.Evaluate(s, Main, Sha, null);
        Assert.False(verdict.Done);
        Assert.Contains("fail their readiness check (Readiness probe failed: HTTP probe failed with statuscode: 404)", verdict.Reason);
        Assert.Contains("are in a crash loop", verdict.Reason);
        Assert.Contains("cannot pull their image", verdict.Reason);
        Assert.Equal(3, verdict.Required); // ceil(0.95 × 3)
    }

    [Fact]
    public void TheMarginFactorSetsHowManyReadyCopiesAreEnough()
    {
        var half = KubernetesObjectsTests.Load("main: {instances: 4, bounce_margin_factor: 0.5}\n");
        var s = KubernetesStatusReader.Compute(new StatusRequest(half, Branch, null), Controller(replicas: 4, ready: 2),
            new[] { Pod("a"), Pod("b"), Pod("c", ready: false, reason: "ReadinessProbeFailing"), Pod("d", ready: false, reason: "ReadinessProbeFailing") });
        var verdict = DeploymentProgress.Evaluate(s, half, Sha, null);
        Assert.True(verdict.Done);
        Assert.Equal(2, verdict.Required);
    }

    [Fact]
    public void PodReasonsComeFromContainerStatesAndConditions()
    {
        V1Pod Make(V1ContainerState state, bool ready = false, V1PodCondition? condition = null, V1ContainerState? last = null) => new()
        {
            Metadata = new V1ObjectMeta
            {
                Name = "p", NamespaceProperty = "ns", CreationTimestamp = DateTime.UtcNow.AddMinutes(-5.5),
                Labels = new Dictionary<string, string> { ["paasta.yelp.com/service"] = "s", ["paasta.yelp.com/instance"] = "i", ["paasta.yelp.com/git_sha"] = Sha },
            },
            Spec = new V1PodSpec { NodeName = "node1", Containers = new List<V1Container> { new() { Name = "i", Image = "img" } } },
            Status = new V1PodStatus
            {
                Phase = "Running", PodIP = "172.17.0.5",
                Conditions = new List<V1PodCondition> { condition ?? new V1PodCondition { Type = "Ready", Status = ready ? "True" : "False" } },
                ContainerStatuses = new List<V1ContainerStatus> { new() { Name = "i", Ready = ready, RestartCount = 4, State = state, LastState = last, Image = "img", ImageID = "x" } },
            },
        };
        var now = DateTimeOffset.UtcNow;
        var crash = KubernetesPods.From(Make(new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "CrashLoopBackOff" } },
            last: new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = 3, Reason = "Error" } }), now);
        Assert.Equal(("CrashLoopBackOff", "last exit code 3 (Error)", 4), (crash.Reason, crash.Message, crash.Restarts));
        Assert.Equal("5m", crash.AgeText);
        Assert.Equal(("node1", "172.17.0.5"), (crash.Node, crash.IP));

        var pull = KubernetesPods.From(Make(new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "ImagePullBackOff", Message = "Back-off pulling image \"img\"" } }), now);
        Assert.Equal("ImagePullBackOff", pull.Reason);
        Assert.Contains("Back-off", pull.Message);

        var unready = KubernetesPods.From(Make(new V1ContainerState { Running = new V1ContainerStateRunning() }), now);
        Assert.Equal("ReadinessProbeFailing", unready.Reason);

        var fine = KubernetesPods.From(Make(new V1ContainerState { Running = new V1ContainerStateRunning() }, ready: true), now);
        Assert.True(fine.Ready);
        Assert.Null(fine.Reason);

        var pending = KubernetesPods.From(Make(new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "ContainerCreating" } },
            condition: new V1PodCondition { Type = "PodScheduled", Status = "False", Reason = "Unschedulable", Message = "0/1 nodes are available" }), now);
        Assert.Equal(("Unschedulable", "0/1 nodes are available"), (pending.Reason, pending.Message));
    }

    [Fact]
    public void PodSelectorsCoverOneOrManyServices()
    {
        Assert.Equal("paasta.yelp.com/service=a", KubernetesPods.SelectorFor(new[] { "a", "a" }));
        Assert.Equal("paasta.yelp.com/service in (a,b)", KubernetesPods.SelectorFor(new[] { "b", "a" }));
        Assert.Equal("paasta.yelp.com/managed=true", KubernetesPods.SelectorFor(Array.Empty<string>()));
    }
}
