using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Paasta.Config;
using Paasta.Deployments;
using Paasta.Errors;
using Paasta.Git;
using Paasta.Kubernetes;
using Paasta.Operations;
using Paasta.Settings;
using Paasta.Tests.Git;
using Paasta.Tests.Kubernetes;

namespace Paasta.Tests.Operations;

/// <summary>
/// Deploy-PaastaService's walk of the pipeline (issue 17) against a real git remote and API servers in memory whose
/// pods come up as a kubelet would (<see cref="ConvergingCluster"/>): what it marks, in which order, what it waits
/// for, when it rolls back, when it stops, and how a second run continues.
/// </summary>
public sealed class DeployPipelineOperationTests : IDisposable
{
    private readonly GitTestRepository _repo = new();
    private readonly SoaConfigsFolder _soa = new();
    private readonly FakeKubeApi _one = new();
    private readonly FakeKubeApi _two = new();
    private readonly string _kubeconfig;
    private readonly List<IDisposable> _disposables = new();
    private readonly string _old;
    private readonly string _new;

    public DeployPipelineOperationTests()
    {
        _kubeconfig = FakeKubeApi.KubeConfig(Path.Combine(_soa.Root, "..", $"kubeconfig-{Guid.NewGuid():N}"), _one, _two);
        _soa.Write("svc", "service.yaml", $"description: t\nexternal_link: http://e\ngit_url: {_repo.Remote}\ndocker_registry: registry.example:443\n");
        _soa.Write("svc", "monitoring.yaml", "team: t\n");
        Pipeline("- step: itest\n- step: prod.canary\n- step: prod.main\n");
        _soa.Write("svc", "kubernetes-c1.yaml", "canary:\n  deploy_group: prod.canary\n  instances: 1\nmain:\n  deploy_group: prod.main\n  instances: 2\n");
        _old = _repo.Commit("old");
        _new = _repo.Commit("new");
    }

    public void Dispose()
    {
        foreach (var d in Enumerable.Reverse(_disposables)) d.Dispose();
        _one.Dispose();
        _two.Dispose();
        _repo.Dispose();
        _soa.Dispose();
        File.Delete(_kubeconfig);
    }

    private void Pipeline(string steps) => _soa.Write("svc", "deploy.yaml", "pipeline:\n" + steps);

    private (OperationContext Context, TimelineSink Sink) Context(IReadOnlyDictionary<string, string>? clusterContext = null)
    {
        var sink = new TimelineSink();
        var context = sink.Recording.Context(_soa.Root, new PaastaSettings { KubeConfig = _kubeconfig, ClusterContext = clusterContext });
        var wrapped = context.WithSink(sink);
        _disposables.Add(context);
        return (wrapped, sink);
    }

    /// <summary>The cluster, with a reconcile loop running Sync unless the test's deploy syncs itself.</summary>
    private ConvergingCluster Cluster(FakeKubeApi api, bool reconcile = true, IReadOnlyDictionary<string, string>? clusterContext = null)
    {
        Action? loop = null;
        if (reconcile)
        {
            var sink = new RecordingSink();
            var context = sink.Context(_soa.Root, new PaastaSettings { KubeConfig = _kubeconfig, ClusterContext = clusterContext });
            _disposables.Add(context);
            loop = () =>
            {
                var instances = KubernetesInstances.Select(context, KubernetesInstances.Selection(new[] { "svc" }, null, null));
                SyncOperation.Run(context, instances, new SyncOptions());
            };
        }
        var cluster = new ConvergingCluster(api, loop);
        _disposables.Add(cluster);
        return cluster;
    }

    private static DeployRequest Request(string sha) => new("svc", sha)
    {
        Timeout = TimeSpan.FromSeconds(30),
        PollInterval = TimeSpan.FromMilliseconds(30),
        Force = true,
    };

    private IReadOnlyList<DeployStepResult> Deploy(DeployRequest request, bool answer = true, IReadOnlyDictionary<string, string>? clusterContext = null)
    {
        var (context, sink) = Context(clusterContext);
        sink.Recording.Continue = answer;
        return new DeployPipelineOperation().Run(context, request);
    }

    private List<string> Tags(string suffix) => _repo.LsRemote().Keys.Where(k => k.EndsWith(suffix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();

    private string DeployedSha(string group) => DeploymentsDocument.Parse(File.ReadAllText(_soa.DeploymentsPath("svc"))).Deployments[group].GitSha!;

    private static string? LiveSha(FakeKubeApi api, string instance) =>
        api.Get("deployments", "paastasvc-svc", $"svc-{instance}")?["metadata"]?["labels"]?[KubernetesObjectBuilder.GitShaLabel]?.GetValue<string>();

    private static DeployStepResult Step(IEnumerable<DeployStepResult> results, string group) => results.Single(r => r.DeployGroup == group);

    // ---------------------------------------------------------------- the walk

    [Fact]
    public void Each_step_is_marked_only_after_the_one_before_runs_the_version_and_is_healthy()
    {
        Cluster(_one);
        Assert.All(Deploy(Request(_old)).Where(r => r.State != DeployStepState.Skipped), r => Assert.Equal(DeployStepState.Deployed, r.State));

        var (context, sink) = Context();
        var results = new DeployPipelineOperation().Run(context, Request(_new[..10]));

        Assert.Equal(new[] { ("itest", DeployStepState.Skipped), ("prod.canary", DeployStepState.Deployed), ("prod.main", DeployStepState.Deployed) },
            results.Select(r => (r.DeployGroup, r.State)));
        Assert.Equal("not run by Paasta (build)", Step(results, "itest").Reason);
        foreach (var group in new[] { "prod.canary", "prod.main" })
        {
            var r = Step(results, group);
            Assert.Equal(new DeploymentVersion(_old, null), r.FromVersion);
            Assert.Equal(new DeploymentVersion(_new, null), r.ToVersion);
            Assert.Equal(new[] { "c1" }, r.Clusters);
            var tag = Assert.Single(r.TagsWritten);
            Assert.Matches($@"^paasta-{Regex.Escape(group)}-\d{{8}}T\d{{6}}-deploy$", tag);
            Assert.Equal(_new, _repo.LsRemote()[$"refs/tags/{tag}"]);
            Assert.Equal(_new, DeployedSha(group));
        }
        Assert.Equal(_new, LiveSha(_one, "canary"));
        Assert.Equal(_new, LiveSha(_one, "main"));
        // Order: canary asked, canary deployed (healthy), and only then main asked.
        var events = sink.Events.ToList();
        var canaryDone = events.IndexOf("out prod.canary Deployed");
        Assert.True(events.FindIndex(e => e.StartsWith("ask svc deploy group prod.canary", StringComparison.Ordinal)) < canaryDone);
        Assert.True(events.FindIndex(e => e.StartsWith("ask svc deploy group prod.main", StringComparison.Ordinal)) > canaryDone);
        Assert.Empty(sink.Recording.Errors);
        Assert.Contains(sink.Recording.ProgressReports, p => p.ParentActivity == "Deploy-PaastaService svc");
    }

    [Fact]
    public void With_Sync_it_makes_the_cluster_converge_itself_and_without_it_nothing_moves()
    {
        Cluster(_one, reconcile: false);
        var results = Deploy(Request(_old) with { Sync = true });
        Assert.All(results.Where(r => r.State != DeployStepState.Skipped), r => Assert.Equal(DeployStepState.Deployed, r.State));
        Assert.Equal(_old, LiveSha(_one, "main"));

        var (context, sink) = Context();
        var stuck = new DeployPipelineOperation().Run(context, Request(_new) with { Timeout = TimeSpan.FromMilliseconds(400) });
        var canary = Step(stuck, "prod.canary");
        Assert.Equal(DeployStepState.Failed, canary.State);
        Assert.Contains("did not run", canary.Reason);
        Assert.Contains("auto-rollback is off", canary.Reason);
        Assert.DoesNotContain(stuck, r => r.DeployGroup == "prod.main");
        Assert.Equal("DeployStepFailed", Assert.Single(sink.Recording.Errors).ErrorId);
        Assert.Equal(_old, LiveSha(_one, "canary"));
    }

    [Fact]
    public void A_crash_looping_commit_is_rolled_back_and_the_walk_stops_there()
    {
        Pipeline("- step: prod.canary\n  auto_rollback: true\n- step: prod.main\n");
        var cluster = Cluster(_one);
        Deploy(Request(_old));
        lock (cluster.BadShas) cluster.BadShas.Add(_new);

        var (context, sink) = Context();
        var results = new DeployPipelineOperation().Run(context, Request(_new));

        var canary = Assert.Single(results);
        Assert.Equal(DeployStepState.RolledBack, canary.State);
        Assert.Contains("restarted 3+ times (CrashLoopBackOff)", canary.Reason);
        Assert.Equal(new DeploymentVersion(_old, null), canary.FromVersion);
        Assert.Equal(3, canary.TagsWritten.Count);
        var rollback = Assert.Single(canary.TagsWritten, t => t.EndsWith("-rollback", StringComparison.Ordinal));
        Assert.Equal(_new, _repo.LsRemote()[$"refs/tags/{rollback}"]);
        Assert.Equal(_old, _repo.LsRemote()[$"refs/tags/{canary.TagsWritten[1]}"]);
        Assert.Equal(_old, DeployedSha("prod.canary"));
        Assert.Equal(_old, LiveSha(_one, "canary"));
        Assert.Equal(_old, DeployedSha("prod.main"));
        Assert.Equal("DeployRolledBack", Assert.Single(sink.Recording.Errors).ErrorId);
    }

    [Fact]
    public void NoAutoRollback_overrides_deploy_yaml_and_leaves_the_failed_version_marked()
    {
        Pipeline("- step: prod.canary\n  auto_rollback: true\n- step: prod.main\n");
        var cluster = Cluster(_one);
        Deploy(Request(_old));
        lock (cluster.BadShas) cluster.BadShas.Add(_new);

        var canary = Assert.Single(Deploy(Request(_new) with { AutoRollback = false }));
        Assert.Equal(DeployStepState.Failed, canary.State);
        Assert.Contains("crash", canary.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(Tags("-rollback"));
        Assert.Equal(_new, DeployedSha("prod.canary"));
    }

    [Fact]
    public void Crash_loop_detection_off_in_deploy_yaml_waits_for_the_timeout()
    {
        Pipeline("- step: prod.canary\n  enable_crashloop_auto_rollback: false\n");
        var cluster = Cluster(_one);
        Deploy(Request(_old));
        lock (cluster.BadShas) cluster.BadShas.Add(_new);

        var canary = Assert.Single(Deploy(Request(_new) with { Timeout = TimeSpan.FromMilliseconds(600) }));
        Assert.Equal(DeployStepState.Failed, canary.State);
        Assert.Contains("within 1 s", canary.Reason);
    }

    [Fact]
    public void A_manual_step_stops_a_run_that_cannot_ask_and_a_second_run_continues_without_marking_again()
    {
        Pipeline("- step: prod.canary\n  trigger_next_step_manually: true\n- step: prod.main\n");
        Cluster(_one);
        Deploy(Request(_old));

        var first = Deploy(Request(_new) with { Force = false }, answer: false);
        Assert.Equal(DeployStepState.Deployed, Step(first, "prod.canary").State);
        var waiting = Step(first, "prod.main");
        Assert.Equal(DeployStepState.WaitingForApproval, waiting.State);
        Assert.Contains("trigger_next_step_manually", waiting.Reason);
        Assert.Empty(waiting.TagsWritten);
        Assert.Equal(_old, DeployedSha("prod.main"));
        var canaryTags = Tags("-deploy").Count(t => t.Contains("prod.canary", StringComparison.Ordinal));

        var second = Deploy(Request(_new));
        var canary = Step(second, "prod.canary");
        Assert.Equal(DeployStepState.Deployed, canary.State);
        Assert.Empty(canary.TagsWritten);
        Assert.Contains("no new tag", canary.Reason);
        Assert.Equal(canaryTags, Tags("-deploy").Count(t => t.Contains("prod.canary", StringComparison.Ordinal)));
        Assert.Equal(DeployStepState.Deployed, Step(second, "prod.main").State);
        Assert.Single(Step(second, "prod.main").TagsWritten);
        Assert.Equal(_new, LiveSha(_one, "main"));
    }

    [Fact]
    public void A_manual_trigger_on_a_step_Paasta_skips_holds_the_next_deploy_step()
    {
        Pipeline("- step: itest\n  trigger_next_step_manually: true\n- step: security-check\n- step: prod.canary\n");
        Cluster(_one);
        var results = Deploy(Request(_new), answer: false);
        Assert.Equal(new[] { DeployStepState.Skipped, DeployStepState.Skipped, DeployStepState.WaitingForApproval }, results.Select(r => r.State));
        Assert.Empty(Tags("-deploy"));
    }

    [Fact]
    public void Disabled_command_and_check_steps_are_skipped_and_a_parallel_block_deploys_its_groups_together()
    {
        Pipeline("- step: command-lint\n- step: performance-check\n- step: prod.old\n  disabled: true\n- parallel:\n  - step: prod.canary\n  - step: prod.main\n");
        Cluster(_one);
        var results = Deploy(Request(_new));
        Assert.Equal(new[] { "command-lint", "performance-check", "prod.old", "prod.canary", "prod.main" }, results.Select(r => r.DeployGroup));
        Assert.Contains("disabled", Step(results, "prod.old").Reason);
        Assert.Equal(DeployStepState.Deployed, Step(results, "prod.canary").State);
        Assert.Equal(DeployStepState.Deployed, Step(results, "prod.main").State);
        Assert.DoesNotContain(Tags("-deploy"), t => t.Contains("prod.old", StringComparison.Ordinal) || t.Contains("performance-check", StringComparison.Ordinal));
    }

    [Fact]
    public void DeployGroup_runs_one_step_and_only_deploy_groups_of_the_pipeline()
    {
        Pipeline("- step: prod.canary\n  trigger_next_step_manually: true\n- step: prod.main\n");
        Cluster(_one);
        var only = Assert.Single(Deploy(Request(_new) with { DeployGroup = "prod.main", Force = false }, answer: false));
        Assert.Equal(("prod.main", DeployStepState.Deployed), (only.DeployGroup, only.State));
        Assert.DoesNotContain(Tags("-deploy"), t => t.Contains("prod.canary", StringComparison.Ordinal));

        var (context, _) = Context();
        var e = Assert.Throws<PaastaException>(() => new DeployPipelineOperation().Run(context, Request(_new) with { DeployGroup = "itest" }));
        Assert.Equal("PipelineStepNotFound", e.ErrorId);
        Assert.Contains("prod.canary, prod.main", e.Message);
    }

    [Fact]
    public void A_pipeline_without_a_deploy_group_is_refused_before_anything_is_written()
    {
        Pipeline("- step: itest\n- step: push-to-registry\n");
        var (context, _) = Context();
        var e = Assert.Throws<PaastaException>(() => new DeployPipelineOperation().Run(context, Request(_new)));
        Assert.Equal("DeployPipelineEmpty", e.ErrorId);
        Assert.EndsWith("deploy.yaml", e.File);
        Assert.Empty(Tags("-deploy"));
    }

    [Fact]
    public void WhatIf_writes_nothing_and_stops_at_the_first_tag()
    {
        var (context, sink) = Context();
        sink.Recording.Confirm = false;
        var results = new DeployPipelineOperation().Run(context, Request(_new));
        Assert.Equal(new[] { "itest" }, results.Select(r => r.DeployGroup));
        Assert.Empty(Tags("-deploy"));
        Assert.False(File.Exists(_soa.DeploymentsPath("svc")));
        Assert.Contains(sink.Recording.Asked, a => a.Target.StartsWith("svc deploy group prod.canary", StringComparison.Ordinal));
        Assert.DoesNotContain(sink.Recording.Asked, a => a.Target.Contains("prod.main", StringComparison.Ordinal));
    }

    [Fact]
    public void A_group_without_long_running_instances_is_marked_and_not_waited_for()
    {
        Pipeline("- step: prod.jobs\n");
        _soa.Write("svc", "adhoc-c1.yaml", "batch:\n  deploy_group: prod.jobs\n");
        var step = Assert.Single(Deploy(Request(_new)));
        Assert.Equal(DeployStepState.Deployed, step.State);
        Assert.Empty(step.Clusters);
        Assert.Contains("marked only", step.Reason);
        Assert.Single(step.TagsWritten);
        Assert.Empty(_one.Requests);
    }

    [Fact]
    public void Every_cluster_of_a_group_is_synced_and_waited_for_through_its_own_context()
    {
        _soa.Write("svc", "kubernetes-c2.yaml", "main:\n  deploy_group: prod.main\n  instances: 1\n");
        var contexts = new Dictionary<string, string> { ["c1"] = "ctx-0", ["c2"] = "ctx-1" };
        Cluster(_one, reconcile: false);
        Cluster(_two, reconcile: false);
        var results = Deploy(Request(_new) with { Sync = true }, clusterContext: contexts);
        Assert.Equal(new[] { "c1", "c2" }, Step(results, "prod.main").Clusters);
        Assert.Equal(DeployStepState.Deployed, Step(results, "prod.main").State);
        Assert.Equal(_new, LiveSha(_one, "main"));
        Assert.Equal(_new, LiveSha(_two, "main"));
        Assert.Null(LiveSha(_two, "canary"));
    }

    [Fact]
    public void An_instance_gone_from_soa_configs_neither_holds_a_deploy_up_nor_is_touched_and_Sync_Prune_still_removes_it()
    {
        _soa.Write("svc", "kubernetes-c1.yaml", "canary:\n  deploy_group: prod.canary\n  instances: 1\nmain:\n  deploy_group: prod.main\n  instances: 2\nextra:\n  deploy_group: prod.main\n");
        Cluster(_one, reconcile: false);
        Deploy(Request(_old) with { Sync = true });
        Assert.Equal(_old, LiveSha(_one, "extra"));

        _soa.Write("svc", "kubernetes-c1.yaml", "canary:\n  deploy_group: prod.canary\n  instances: 1\nmain:\n  deploy_group: prod.main\n  instances: 2\n");
        var main = Step(Deploy(Request(_new) with { Sync = true }), "prod.main");
        Assert.Equal(DeployStepState.Deployed, main.State);
        Assert.Equal(_old, LiveSha(_one, "extra"));
        // -Sync leaves no bounce for the next Sync to finish.
        foreach (var instance in new[] { "canary", "main" })
            Assert.Null(_one.Get("deployments", "paastasvc-svc", $"svc-{instance}")!["metadata"]!["annotations"]?[Paasta.Bounce.BounceEngine.BouncingAnnotation]);
        Assert.DoesNotContain(_one.All("pods"), p => p["metadata"]!["labels"]![KubernetesObjectBuilder.InstanceLabel]!.GetValue<string>() != "extra"
            && p["metadata"]!["labels"]![KubernetesObjectBuilder.GitShaLabel]!.GetValue<string>() == _old);

        var (context, _) = Context();
        var pruned = SyncOperation.Run(context, KubernetesInstances.Select(context, KubernetesInstances.Selection(new[] { "svc" }, null, null)),
            new SyncOptions { Prune = new PruneSelection(new[] { "svc" }, null, false) });
        Assert.Contains(pruned, r => r.Instance == "extra" && r.Action is Paasta.Sync.SyncAction.Removed or Paasta.Sync.SyncAction.Removing);
        Assert.Null(_one.Get("deployments", "paastasvc-svc", "svc-extra"));
    }

    [Fact]
    public void Results_and_errors_of_the_steps_it_runs_stay_inside_it()
    {
        Cluster(_one);
        var (context, sink) = Context();
        new DeployPipelineOperation().Run(context, Request(_new));
        Assert.All(sink.Recording.Outputs, o => Assert.IsType<DeployStepResult>(o));
        Assert.Equal(3, sink.Recording.Outputs.Count);
    }

    /// <summary>A recording sink that also keeps one timeline of questions and results.</summary>
    private sealed class TimelineSink : IOperationSink
    {
        public RecordingSink Recording { get; } = new();
        public ConcurrentQueue<string> Events { get; } = new();
        public bool VerboseWanted => true;
        public void Message(MessageLevel level, string text) => Recording.Message(level, text);
        public void Progress(OperationProgress progress) => Recording.Progress(progress);
        public void Error(PaastaException error) => Recording.Error(error);

        public void Output(object result)
        {
            if (result is DeployStepResult r) Events.Enqueue($"out {r.DeployGroup} {r.State}");
            Recording.Output(result);
        }

        public bool ShouldProcess(string target, string action)
        {
            Events.Enqueue($"ask {target}");
            return Recording.ShouldProcess(target, action);
        }

        public bool ShouldContinue(string query, string caption) => Recording.ShouldContinue(query, caption);
    }
}
