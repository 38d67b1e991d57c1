using k8s;
using k8s.Models;
using Paasta.Bounce;
using Paasta.Kubernetes;
using Paasta.Tests.Kubernetes;
using Paasta.Config;
using Paasta.Errors;

namespace Paasta.Tests.Bounce;

/// <summary>The bounce methods' decisions (docs/BEHAVIOUR.md §6.2) and the engine's pass plans, from pods built in memory.</summary>
public sealed class BounceTests : IDisposable
{
    private static readonly string[] Old4 = { "o1", "o2", "o3", "o4" };

    [Theory]
    // instances, margin, happy new → old copies kept (the rest drained)
    [InlineData(4, 1.0, 0, 4)]
    [InlineData(4, 1.0, 1, 3)]
    [InlineData(4, 1.0, 4, 0)]
    [InlineData(4, 0.95, 0, 4)] // ceil(3.8) = 4
    [InlineData(4, 0.75, 0, 3)]
    [InlineData(4, 0.5, 1, 1)]
    [InlineData(10, 0.5, 0, 5)] // the docs' example: 5 of 10 may go at once
    [InlineData(4, 1.0, 6, 0)]
    public void CrossoverKeepsTheMarginOfReadyCopies(int instances, double margin, int happyNew, int kept)
    {
        var old = Enumerable.Range(1, Math.Max(instances, 4)).Select(i => $"o{i}").ToList();
        var decision = BounceMethods.Decide("crossover", instances, margin, happyNew, old.Count, old);
        Assert.True(decision.CreateNew);
        Assert.Equal(old.Skip(Math.Min(kept, old.Count)), decision.Drain); // the worst (last) go first
        Assert.Contains("crossover", decision.Reason);
    }

    [Fact]
    public void BrutalDrainsEverythingAtOnce()
    {
        var d = BounceMethods.Decide("brutal", 4, 1.0, 0, 4, Old4);
        Assert.True(d.CreateNew);
        Assert.Equal(Old4, d.Drain);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(3, 0)]
    [InlineData(4, 4)]
    public void UpthendownWaitsForAllNewCopies(int happyNew, int drained)
    {
        var d = BounceMethods.Decide("upthendown", 4, 1.0, happyNew, 4, Old4);
        Assert.True(d.CreateNew);
        Assert.Equal(drained, d.Drain.Count);
    }

    [Theory]
    [InlineData(4, false)]
    [InlineData(1, false)] // one old copy still terminating
    [InlineData(0, true)]
    public void DownthenupStartsNothingWhileOldCopiesExist(int oldLive, bool create)
    {
        var notDraining = Old4.Take(Math.Min(oldLive, 4)).ToList();
        var d = BounceMethods.Decide("downthenup", 4, 1.0, 0, oldLive, notDraining);
        Assert.Equal(create, d.CreateNew);
        Assert.Equal(notDraining, d.Drain);
    }

    [Fact]
    public void AnUnknownMethodIsRefused()
    {
        var e = Assert.Throws<PaastaException>(() => BounceMethods.Decide("sideways", 4, 1.0, 0, 4, Old4));
        Assert.Equal("BounceMethodUnknown", e.ErrorId);
    }

    // ------------------------------------------------------------------ engine plans

    private const string ShaA = "4ef01b5a574b519ab546309e89f72972a33b6b75";
    private const string ShaB = "9085fd67ed1bb5fadafa7f2afaf8dedee7342711";
    private static readonly KubernetesBuildContext Context = new("registry.example:443");
    private readonly OfflineKubeConnection _offline = new();
    private KubeConnection Kube => _offline.Kube;


    public void Dispose() => _offline.Dispose();

    private static DesiredApp App(string sha, string extra = "") => KubernetesObjectBuilder.Build(
        KubernetesObjectsTests.Load($"main:\n  instances: 4\n{extra}"),
        new DeploymentBranch($"services-example_service:paasta-{sha}", sha, null, "start", null), Context);

    private static V1Deployment Live(DesiredApp app, bool bouncing = false)
    {
        var live = KubernetesJson.Deserialize<V1Deployment>(KubernetesJson.Serialize(app.Deployment));
        if (bouncing) live.Metadata.Annotations = new Dictionary<string, string> { [BounceEngine.BouncingAnnotation] = "true" };
        return live;
    }

    private static V1Pod Pod(DesiredApp app, string name, bool ready, bool draining = false, bool terminating = false, int ageSeconds = 100, int readySeconds = 100) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = app.Namespace,
            Labels = new Dictionary<string, string>(app.Template.Metadata.Labels),
            Annotations = draining ? new Dictionary<string, string> { [BounceEngine.DrainingAnnotation] = "2026-11-25T00:00:00Z" } : null,
            CreationTimestamp = DateTime.UtcNow.AddSeconds(-ageSeconds),
            DeletionTimestamp = terminating ? DateTime.UtcNow : null,
        },
        Status = new V1PodStatus { Conditions = new List<V1PodCondition> { new() { Type = "Ready", Status = ready ? "True" : "False", LastTransitionTime = DateTime.UtcNow.AddSeconds(-readySeconds) } } },
    };

    private static V1ReplicaSet ReplicaSet(DesiredApp app, string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = app.Namespace, Labels = new Dictionary<string, string>(app.Template.Metadata.Labels) },
    };

    private static string[] Summaries(IReadOnlyList<KubeOperation> ops) => ops.Select(o => $"{o.Verb} {o.Kind} {o.Name}").ToArray();

    [Fact]
    public void TheFirstPassOrphansTheOldVersionThenCreatesTheNewOne()
    {
        var oldApp = App(ShaA);
        var newApp = App(ShaB);
        var pods = Enumerable.Range(1, 4).Select(i => Pod(oldApp, $"old-{i}", ready: true)).ToList();
        var (ops, progress) = new BounceEngine(Kube).PlanBounce(newApp, Live(oldApp), new[] { ReplicaSet(oldApp, "rs-old") }, pods);
        Assert.Equal(new[]
        {
            $"orphan Deployment {oldApp.Name}",
            "orphan ReplicaSet rs-old",
            $"create Deployment {newApp.Name}",
        }, Summaries(ops));
        Assert.True(progress.InProgress);
        Assert.Equal(4, progress.OldReady);
        Assert.Equal("true", newApp.Metadata.Annotations[BounceEngine.BouncingAnnotation]);
    }

    [Fact]
    public void ALaterPassDrainsAsManyOldPodsAsNewOnesAreReady_WorstFirst()
    {
        var oldApp = App(ShaA);
        var newApp = App(ShaB, "  bounce_margin_factor: 1.0\n");
        var pods = new List<V1Pod>
        {
            Pod(oldApp, "old-young", ready: true, ageSeconds: 10),
            Pod(oldApp, "old-unready", ready: false),
            Pod(oldApp, "old-a", ready: true, ageSeconds: 300),
            Pod(oldApp, "old-b", ready: true, ageSeconds: 200),
            Pod(newApp, "new-1", ready: true),
            Pod(newApp, "new-2", ready: true),
            Pod(newApp, "new-3", ready: false),
        };
        var (ops, progress) = new BounceEngine(Kube).PlanBounce(newApp, Live(newApp, bouncing: true), Array.Empty<V1ReplicaSet>(), pods);
        // 2 new ready of 4 wanted: 2 old stay (the oldest ready ones), the unready and the youngest go.
        Assert.Equal(new[] { "drain Pod old-young", "drain Pod old-unready" }, Summaries(ops));
        Assert.Equal(2, progress.NewReady);
        Assert.Equal(2, progress.Draining);
    }

    [Fact]
    public void NewCopiesCountAsHealthyOnlyAfterMinTaskUptime()
    {
        const string uptime = "  bounce_margin_factor: 1.0\n  bounce_health_params: {min_task_uptime: 30}\n";
        var oldApp = App(ShaA, uptime);
        var newApp = App(ShaB, uptime);
        var pods = new List<V1Pod>
        {
            Pod(newApp, "new-settled", ready: true, readySeconds: 45),
            Pod(newApp, "new-fresh", ready: true, readySeconds: 5),
        };
        pods.AddRange(Enumerable.Range(1, 4).Select(i => Pod(oldApp, $"old-{i}", ready: true, ageSeconds: 1000 - i)));
        var (ops, progress) = new BounceEngine(Kube).PlanBounce(newApp, Live(newApp, bouncing: true), Array.Empty<V1ReplicaSet>(), pods);
        Assert.Equal(1, progress.NewReady); // the fresh one has been ready 5 s of the 30 required
        Assert.Single(ops, o => o.Verb == "drain");
        Assert.Equal(30, newApp.Deployment!.Spec.MinReadySeconds);
    }

    [Fact]
    public void PodsAlreadyDrainingAreCheckedAndTheBounceEndsWhenNoOldPodIsLeft()
    {
        var oldApp = App(ShaA);
        var newApp = App(ShaB);
        var newPods = Enumerable.Range(1, 4).Select(i => Pod(newApp, $"new-{i}", ready: true)).ToList();
        var draining = newPods.Append(Pod(oldApp, "old-1", ready: true, draining: true)).ToList();
        var (ops, progress) = new BounceEngine(Kube).PlanBounce(newApp, Live(newApp, bouncing: true), Array.Empty<V1ReplicaSet>(), draining);
        Assert.Equal(new[] { "check Pod old-1" }, Summaries(ops));
        Assert.True(progress.InProgress);

        (ops, progress) = new BounceEngine(Kube).PlanBounce(newApp, Live(newApp, bouncing: true), Array.Empty<V1ReplicaSet>(), newPods);
        Assert.Equal(new[] { $"finish Deployment {newApp.Name}" }, Summaries(ops));
        Assert.False(progress.InProgress);
    }

    [Fact]
    public void DownthenupCreatesTheNewDeploymentOnlyAfterTheLastOldPodIsGone()
    {
        var oldApp = App(ShaA, "  bounce_method: downthenup\n");
        var newApp = App(ShaB, "  bounce_method: downthenup\n");
        var terminating = new[] { Pod(oldApp, "old-1", ready: false, draining: true, terminating: true) };
        var (ops, _) = new BounceEngine(Kube).PlanBounce(newApp, null, Array.Empty<V1ReplicaSet>(), terminating);
        Assert.Empty(ops);
        (ops, _) = new BounceEngine(Kube).PlanBounce(newApp, null, Array.Empty<V1ReplicaSet>(), Array.Empty<V1Pod>());
        Assert.Equal(new[] { $"create Deployment {newApp.Name}" }, Summaries(ops));
        Assert.False(newApp.Metadata.Annotations?.ContainsKey(BounceEngine.BouncingAnnotation) ?? false);
    }

    [Fact]
    public void StoppingDrainsEveryPodInOneStepThatScalesToZero()
    {
        var app = App(ShaA);
        var pods = Enumerable.Range(1, 3).Select(i => Pod(app, $"p{i}", ready: true)).Append(Pod(app, "gone", ready: false, terminating: true)).ToList();
        var (ops, progress) = new BounceEngine(Kube).PlanStop(app, pods);
        Assert.Equal(new[] { $"drain Deployment {app.Name}" }, Summaries(ops));
        Assert.Contains("drain all 3 pod(s)", ops[0].Details[0]);
        Assert.Equal(3, progress.Draining);
    }

    private sealed class FailingDrainer : IPodDrainer
    {
        public int SafeChecks;
        public string Name => "failing";
        public Task DrainAsync(V1Pod pod, CancellationToken cancellation) => throw new InvalidOperationException("hacheck said no");
        public Task StopDrainingAsync(V1Pod pod, CancellationToken cancellation) => Task.CompletedTask;
        public Task<bool> IsDrainingAsync(V1Pod pod, CancellationToken cancellation) => Task.FromResult(false);
        public Task<bool> IsSafeToKillAsync(V1Pod pod, CancellationToken cancellation) { SafeChecks++; return Task.FromResult(true); }
    }

    [Fact]
    public async Task ADrainMethodThatThrowsLeavesThePodServingAndIsReported()
    {
        var oldApp = App(ShaA, "  bounce_method: brutal\n");
        var newApp = App(ShaB, "  bounce_method: brutal\n");
        var drainer = new FailingDrainer();
        var engine = new BounceEngine(Kube, _ => drainer);
        var (ops, progress) = engine.PlanBounce(newApp, Live(newApp, bouncing: true), Array.Empty<V1ReplicaSet>(), new[] { Pod(oldApp, "old-1", ready: true) });
        Assert.Equal(new[] { "drain Pod old-1" }, Summaries(ops));
        await ops[0].Run(CancellationToken.None); // no API call happens: the drain fails first
        Assert.Equal(0, progress.Killed);
        Assert.Equal(0, drainer.SafeChecks); // never asked, never killed
        Assert.True(progress.Errors.TryDequeue(out var error));
        Assert.Equal("DrainMethodFailed", error!.ErrorId);
        Assert.Contains("left serving", error.Message);
    }

    private sealed class HangingDrainer : IPodDrainer
    {
        public string Name => "hanging";
        public Task DrainAsync(V1Pod pod, CancellationToken cancellation) => Task.Delay(Timeout.Infinite, CancellationToken.None);
        public Task StopDrainingAsync(V1Pod pod, CancellationToken cancellation) => Task.CompletedTask;
        public Task<bool> IsDrainingAsync(V1Pod pod, CancellationToken cancellation) => Task.FromResult(true);
        public Task<bool> IsSafeToKillAsync(V1Pod pod, CancellationToken cancellation) => Task.FromResult(true);
    }

    /// <summary>Records every call; Drain and StopDraining fail after recording, so a test can run an op offline.</summary>
    private sealed class RecordingDrainer : IPodDrainer
    {
        public bool Draining;
        public readonly List<string> Calls = new();
        public string Name => "recording";
        public Task DrainAsync(V1Pod pod, CancellationToken cancellation) { Calls.Add($"drain {pod.Metadata.Name}"); throw new InvalidOperationException("recorded"); }
        public Task StopDrainingAsync(V1Pod pod, CancellationToken cancellation) { Calls.Add($"stop {pod.Metadata.Name}"); throw new InvalidOperationException("recorded"); }
        public Task<bool> IsDrainingAsync(V1Pod pod, CancellationToken cancellation) { Calls.Add($"is-draining {pod.Metadata.Name}"); return Task.FromResult(Draining); }
        public Task<bool> IsSafeToKillAsync(V1Pod pod, CancellationToken cancellation) { Calls.Add($"safe {pod.Metadata.Name}"); return Task.FromResult(false); }
    }

    [Fact]
    public async Task RollingBackToCopiesBeingDrainedPutsThemBackIntoTrafficAndDoesNotCountThemYet()
    {
        // A bounce from A to B was draining A's pods; now A is wanted again and B is the live Deployment.
        var appA = App(ShaA, "  bounce_margin_factor: 1.0\n");
        var appB = App(ShaB, "  bounce_margin_factor: 1.0\n");
        var pods = Enumerable.Range(1, 2).Select(i => Pod(appA, $"a-{i}", ready: true, draining: true))
            .Concat(Enumerable.Range(1, 2).Select(i => Pod(appB, $"b-{i}", ready: true))).ToList();
        var drainer = new RecordingDrainer();
        var (ops, progress) = new BounceEngine(Kube, _ => drainer).PlanBounce(appA, Live(appB), Array.Empty<V1ReplicaSet>(), pods);
        Assert.Contains("undrain Pod a-1", Summaries(ops));
        Assert.Contains("undrain Pod a-2", Summaries(ops));
        // Drained copies do not serve yet: crossover keeps every B copy for now.
        Assert.Equal(0, progress.NewReady);
        Assert.DoesNotContain(Summaries(ops), o => o.StartsWith("drain Pod b-", StringComparison.Ordinal));

        await ops.Single(o => o.Verb == "undrain" && o.Name == "a-1").Run(CancellationToken.None);
        Assert.Equal(new[] { "stop a-1" }, drainer.Calls);
        Assert.True(progress.Errors.TryDequeue(out var error));
        Assert.Equal("DrainMethodFailed", error!.ErrorId);
        Assert.Contains("stays marked draining", error.Message);
    }

    [Fact]
    public async Task APodMarkedDrainingThatTheMethodNoLongerDrainsIsDrainedAgainBeforeAnySafeCheck()
    {
        var oldApp = App(ShaA);
        var newApp = App(ShaB);
        var pods = Enumerable.Range(1, 4).Select(i => Pod(newApp, $"new-{i}", ready: true)).Append(Pod(oldApp, "old-1", ready: true, draining: true)).ToList();
        var lost = new RecordingDrainer { Draining = false };
        var (ops, _) = new BounceEngine(Kube, _ => lost).PlanBounce(newApp, Live(newApp, bouncing: true), Array.Empty<V1ReplicaSet>(), pods);
        await ops.Single(o => o.Verb == "check").Run(CancellationToken.None);
        Assert.Equal(new[] { "is-draining old-1", "drain old-1" }, lost.Calls); // drained again; never asked if safe

        var kept = new RecordingDrainer { Draining = true };
        (ops, _) = new BounceEngine(Kube, _ => kept).PlanBounce(newApp, Live(newApp, bouncing: true), Array.Empty<V1ReplicaSet>(), pods);
        await ops.Single(o => o.Verb == "check").Run(CancellationToken.None);
        Assert.Equal(new[] { "is-draining old-1", "safe old-1" }, kept.Calls);
    }

    /// <summary>Every copy is draining and safe to kill.</summary>
    private sealed class DoneDrainer : IPodDrainer
    {
        public string Name => "done";
        public Task DrainAsync(V1Pod pod, CancellationToken cancellation) => Task.CompletedTask;
        public Task StopDrainingAsync(V1Pod pod, CancellationToken cancellation) => Task.CompletedTask;
        public Task<bool> IsDrainingAsync(V1Pod pod, CancellationToken cancellation) => Task.FromResult(true);
        public Task<bool> IsSafeToKillAsync(V1Pod pod, CancellationToken cancellation) => Task.FromResult(true);
    }

    [Fact]
    public async Task ARemovalDeletesOnlyOnceTheDrainMethodSaysEveryCopyIsSafeToKill()
    {
        var app = App(ShaA);
        var pods = new[] { Pod(app, "p1", ready: true, draining: true), Pod(app, "p2", ready: true, draining: true), Pod(app, "gone", ready: false, terminating: true) };
        var removed = 0;
        Task Remove(CancellationToken _) { removed++; return Task.CompletedTask; }

        var notYet = new RecordingDrainer { Draining = true }; // draining, but never safe
        var (ops, progress) = new BounceEngine(Kube, _ => notYet).PlanRemoval(app.Instance, "Deployment", app.Namespace, app.Name, pods, "delete Deployment", Remove);
        Assert.Equal(new[] { $"drain Deployment {app.Name}" }, Summaries(ops));
        Assert.Contains("drain all 2 pod(s), then delete Deployment once every one is safe to kill", ops[0].Details[0]);
        Assert.Equal("remove", progress.Method);
        await ops[0].Run(CancellationToken.None);
        Assert.Equal(0, removed);
        Assert.False(progress.Finished);
        Assert.Equal(new[] { "is-draining p1", "is-draining p2", "safe p1", "safe p2" }, notYet.Calls.Order());

        (ops, progress) = new BounceEngine(Kube, _ => new DoneDrainer()).PlanRemoval(app.Instance, "Deployment", app.Namespace, app.Name, pods, "delete Deployment", Remove);
        await ops[0].Run(CancellationToken.None);
        Assert.Equal(1, removed);
        Assert.True(progress.Finished);
    }

    [Theory]
    [InlineData("", false, true)]                                 // default hacheck, no sidecar: nothing would answer
    [InlineData("", true, false)]                                 // the sidecar answers
    [InlineData("  drain_method: hacheck\n", false, false)]       // written in soa-configs: honoured
    public void TheDefaultHacheckOfAMeshInstanceWithoutASidecarDrainsWithNoop(string extra, bool sidecar, bool noop)
    {
        var instance = KubernetesObjectsTests.Load($"main:\n  instances: 4\n{extra}", smartstack: "main: {proxy_port: 20001}\n");
        Assert.Equal("hacheck", instance.DrainMethod);
        Assert.Equal(noop, BounceDrainMethod.IsDefaultHacheckWithoutSidecar(instance, sidecar));
    }

    [Fact]
    public async Task ADrainMethodThatHangsTimesOutAndThePodStays()
    {
        var oldApp = App(ShaA, "  bounce_method: brutal\n");
        var newApp = App(ShaB, "  bounce_method: brutal\n");
        var engine = new BounceEngine(Kube, _ => new HangingDrainer(), new BounceOptions { DrainCallTimeout = TimeSpan.FromMilliseconds(200) });
        var (ops, progress) = engine.PlanBounce(newApp, Live(newApp, bouncing: true), Array.Empty<V1ReplicaSet>(), new[] { Pod(oldApp, "old-1", ready: true) });
        await ops[0].Run(CancellationToken.None);
        Assert.Equal(0, progress.Killed);
        Assert.True(progress.Errors.TryDequeue(out var error));
        Assert.Equal("DrainMethodTimedOut", error!.ErrorId);
        Assert.Contains("within 0 s", error.Message); // the engine's own limit, not a process-wide one
        Assert.Equal(TimeSpan.FromSeconds(60), new BounceEngine(Kube).Options.DrainCallTimeout);
    }
}
