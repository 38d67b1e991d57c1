using System.Text.Json.Nodes;
using Paasta.Errors;
using Paasta.Jobs;
using Paasta.Operations;
using Paasta.Settings;
using Paasta.Tests.Jobs;
using Xunit;

namespace Paasta.Tests.Operations;

/// <summary>
/// Sync-PaastaJob's selection and the stop decision (issue 15), Get-PaastaJob's not-found rules and Start-PaastaJob's
/// wait loop, without a cluster: a stand-in store of CronJobs and runs, and a clock whose waits take no time.
/// </summary>
public sealed class JobOperationsTests : IDisposable
{
    private const string Sha = TronTestService.Sha;
    private readonly TempSoaDir _soa = new();
    private readonly RecordingSink _sink = new();

    public JobOperationsTests()
    {
        TronTestService.Write(_soa);
        Controls(("prod.nightly.second", "start"));
    }

    public void Dispose() => _soa.Dispose();

    private void Controls(params (string Branch, string State)[] controls) => TronTestService.WriteDeployments(_soa, "alpha", controls);

    private OperationContext Context(PaastaSettings? saved = null) =>
        _sink.Context(_soa.Root, new PaastaSettings { DockerRegistry = "registry.example:443" }, saved);

    private JobSyncOperation Add(JobSelection selection)
    {
        var sync = new JobSyncOperation();
        sync.Add(Context(), selection);
        return sync;
    }

    [Fact]
    public void A_job_with_a_stopped_action_is_planned_suspended_with_its_stopped_actions()
    {
        Controls(("prod.nightly.second", "stop"), ("prod.hourly.run", "start"));
        var sync = Add(new JobSelection { Services = new[] { "alpha" }, Clusters = new[] { "prod" } });
        var nightly = sync.Requests.Single(r => r.Job.Name == "nightly").Job;
        Assert.Equal(new[] { "second" }, nightly.StoppedActions);
        Assert.True(CronJobBuilder.Suspends(nightly));
        Assert.False(CronJobBuilder.Suspends(sync.Requests.Single(r => r.Job.Name == "hourly").Job));
    }

    [Fact]
    public void The_builder_suspends_a_stopped_job_says_why_and_gives_it_another_config_sha()
    {
        Controls(("prod.nightly.second", "start"));
        var running = Add(new JobSelection { Services = new[] { "alpha" }, Clusters = new[] { "prod" }, Jobs = new[] { "nightly" } }).Requests.Single();
        Controls(("prod.nightly.second", "stop"));
        var stopped = Add(new JobSelection { Services = new[] { "alpha" }, Clusters = new[] { "prod" }, Jobs = new[] { "nightly" } }).Requests.Single();
        var before = CronJobBuilder.Build(running.Job, running.Images, CronJobBuilderTests.V1beta1);
        var after = CronJobBuilder.Build(stopped.Job, stopped.Images, CronJobBuilderTests.V1beta1);
        Assert.False(before.Body["spec"]!["suspend"]!.GetValue<bool>());
        Assert.True(after.Body["spec"]!["suspend"]!.GetValue<bool>());
        Assert.Equal("second", after.Body["metadata"]!["annotations"]![CronJobBuilder.StoppedAnnotation]!.GetValue<string>());
        Assert.Null(before.Body["metadata"]!["annotations"]![CronJobBuilder.StoppedAnnotation]);
        // Runs made from the template run the same pod either way (only the config_sha labels differ).
        Assert.Equal(before.Body["spec"]!["jobTemplate"]!["spec"]!["template"]!["spec"]!.ToJsonString(), after.Body["spec"]!["jobTemplate"]!["spec"]!["template"]!["spec"]!.ToJsonString());
        Assert.Null(after.Body["spec"]!["jobTemplate"]!["metadata"]!["annotations"]![CronJobBuilder.StoppedAnnotation]);
        Assert.NotEqual(before.ConfigSha, after.ConfigSha);
    }

    [Fact]
    public void A_job_with_enabled_false_is_suspended_but_not_stopped()
    {
        _soa.Write("alpha/tron-prod.yaml", "quiet:\n  schedule: daily 04:00:00\n  enabled: false\n  deploy_group: prod.main\n  actions:\n    run:\n      command: echo q\n");
        var job = Add(new JobSelection { Services = new[] { "alpha" }, Clusters = new[] { "prod" } }).Requests.Single().Job;
        Assert.True(CronJobBuilder.Suspends(job));
        Assert.False(job.Stopped);
    }

    [Fact]
    public void A_Tron_instance_name_stands_for_its_job_once_and_a_missing_literal_job_is_JobNotFound()
    {
        var sync = Add(new JobSelection { Services = new[] { "alpha" }, Clusters = new[] { "prod" }, Jobs = new[] { "nightly.first", "nightly.second", "nosuch" } });
        Assert.Equal(new[] { "nightly" }, sync.Requests.Select(r => r.Job.Name));
        Assert.Empty(sync.Prune);
        Assert.Equal(new[] { "JobNotFound" }, _sink.ErrorIds);
        Assert.Contains("nosuch", _sink.Errors.Single().Message);
    }

    [Fact]
    public void Without_job_names_the_service_is_synced_in_full_and_prunable()
    {
        var sync = Add(new JobSelection { Services = new[] { "alpha" }, Clusters = new[] { "prod" } });
        var scope = Assert.Single(sync.Prune);
        Assert.Equal(new[] { "nightly", "hourly" }, scope.Configured);
    }

    [Fact]
    public void An_unknown_cluster_is_ClusterNotFound_and_a_missing_one_ClusterNotSpecified()
    {
        Assert.Empty(Add(new JobSelection { Services = new[] { "alpha" }, Clusters = new[] { "prdo" } }).Requests);
        Assert.Equal(new[] { "ClusterNotFound" }, _sink.ErrorIds);
        Assert.Equal("ClusterNotSpecified", Assert.Throws<PaastaException>(() => Add(new JobSelection { Services = new[] { "alpha" } })).ErrorId);
        var sync = new JobSyncOperation();
        sync.Add(Context(new PaastaSettings { Cluster = "prod" }), new JobSelection { Services = new[] { "alpha" } });
        Assert.Equal(2, sync.Requests.Count);
    }

    [Fact]
    public void Clusters_are_names_or_wildcards_that_match_the_clusters_of_the_services_tron_files()
    {
        _soa.Write("alpha/tron-dev.yaml", "hourly:\n  schedule: cron 0 * * * *\n  deploy_group: prod.main\n  actions:\n    run:\n      command: echo dev\n");
        _soa.Write("alpha/kubernetes-prod3.yaml", "main: {deploy_group: prod.main}\n");
        var sync = Add(new JobSelection { Services = new[] { "alpha" }, Clusters = new[] { "pr*", "d?v", "nomatch*" } });
        // prod3 has no tron file: not a Tron cluster.
        Assert.Equal(new[] { "dev:hourly", "prod:hourly", "prod:nightly" }, sync.Requests.Select(r => $"{r.Job.Cluster}:{r.Job.Name}").Order(StringComparer.Ordinal));
        Assert.Equal(new[] { "dev", "prod" }, sync.Prune.Select(p => p.Cluster).Order(StringComparer.Ordinal));
        Assert.Empty(_sink.Errors);
    }

    [Fact]
    public void The_reconciler_replaces_a_running_CronJob_of_a_stopped_job_to_suspend_it()
    {
        var running = Add(new JobSelection { Services = new[] { "alpha" }, Clusters = new[] { "prod" }, Jobs = new[] { "nightly" } }).Requests.Single();
        var live = (JsonObject)CronJobBuilder.Build(running.Job, running.Images, CronJobBuilderTests.V1beta1).Body.DeepClone();
        live["metadata"]!["resourceVersion"] = "7";
        Controls(("prod.nightly.second", "stop"));
        var stopped = Add(new JobSelection { Services = new[] { "alpha" }, Clusters = new[] { "prod" }, Jobs = new[] { "nightly" } }).Requests.Single();
        using var offline = new Kubernetes.OfflineKubeConnection();
        var api = CronJobApi.DiscoverAsync(offline.Kube, new V1beta1Only(), CancellationToken.None).GetAwaiter().GetResult();
        var item = new JobReconciler(api).Plan(new[] { stopped }, Array.Empty<JobScope>(), new[] { live }).Single();
        Assert.Equal(JobSyncAction.Updated, item.Result.Action);
        Assert.True(item.Result.Suspended);
        Assert.Equal(new[] { "second" }, item.Result.StoppedActions);
        Assert.Contains("suspend (stopped: second; until the next deploy)", item.Result.Changes);
    }

    private sealed class V1beta1Only : ICronJobDiscovery
    {
        public Task<bool> ServesAsync(string groupVersion, CancellationToken cancellation) => Task.FromResult(groupVersion == "batch/v1beta1");
        public Task<IReadOnlyCollection<string>> BatchV1ResourcesAsync(CancellationToken cancellation) => Task.FromResult<IReadOnlyCollection<string>>(Array.Empty<string>());
        public Task<KubeServerVersion?> VersionAsync(CancellationToken cancellation) => Task.FromResult<KubeServerVersion?>(null);
    }

    /// <summary>CronJobs and runs in memory: a run goes Pending, Running, then the given outcome.</summary>
    private sealed class StoreStandIn : IJobRunStore
    {
        public List<JobInfo> Jobs { get; } = new();
        public JsonObject? CronJob { get; set; }
        public JobRunOutcome Final { get; set; } = JobRunOutcome.Succeeded;
        /// <summary>How many refreshes a run takes to finish (int.MaxValue: never).</summary>
        public int RefreshesToFinish { get; set; } = 2;
        public int Refreshes { get; private set; }
        public int Started { get; private set; }

        public Task<List<JobInfo>> ListAsync(string? service, string? cluster, CancellationToken cancellation) =>
            Task.FromResult(Jobs.Where(j => (service is null || j.Service == service) && (cluster is null || j.Cluster == cluster)).ToList());

        public Task<JsonObject?> GetCronJobAsync(string ns, string name, CancellationToken cancellation) =>
            Task.FromResult(CronJob is not null && CronJob["metadata"]!["name"]!.GetValue<string>() == name ? CronJob : null);

        public JobInfo Describe(JsonObject cronJob) => new()
        {
            Service = "alpha", Cluster = "prod", Job = "nightly", Namespace = "tron", Name = cronJob["metadata"]!["name"]!.GetValue<string>(),
            StoppedActions = (cronJob["metadata"]!["annotations"]?[CronJobBuilder.StoppedAnnotation]?.GetValue<string>() ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries),
        };

        public Task<JobRun> StartRunAsync(JsonObject cronJob, CancellationToken cancellation)
        {
            Started++;
            return Task.FromResult(new JobRun { Service = "alpha", Cluster = "prod", Job = "nightly", Namespace = "tron", Name = "alpha-nightly-manual-x", Outcome = JobRunOutcome.Pending, Actions = new[] { "first", "second" } });
        }

        public Task<JobRun> RefreshAsync(JobRun run, CancellationToken cancellation)
        {
            Refreshes++;
            if (Refreshes < RefreshesToFinish) return Task.FromResult(run with { Outcome = JobRunOutcome.Running });
            return Task.FromResult(run with
            {
                Outcome = Final,
                FailedAction = Final == JobRunOutcome.Failed ? "second" : null,
                Output = new Dictionary<string, string> { ["first"] = "one\n", ["second"] = "a\nb\nc\nd\n" },
            });
        }
    }

    /// <summary>A clock whose waits return at once and move time on by what was asked.</summary>
    private sealed class SteppingClock : WaitClock
    {
        public TimeSpan Now { get; private set; }
        public override long Start() => Now.Ticks;
        public override TimeSpan Since(long start) => Now - TimeSpan.FromTicks(start);
        public override Task Delay(TimeSpan delay, CancellationToken cancellation)
        {
            Now += delay;
            return Task.CompletedTask;
        }
    }

    private static JsonObject LiveCronJob(string service = "alpha", string job = "nightly", string? stopped = null)
    {
        var annotations = new JsonObject { [CronJobBuilder.JobAnnotation] = job };
        if (stopped is not null) annotations[CronJobBuilder.StoppedAnnotation] = stopped;
        return new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["name"] = CronJobBuilder.CronJobName(service, job),
                ["labels"] = new JsonObject { [CronJobBuilder.ServiceLabel] = service, [CronJobBuilder.ClusterLabel] = "prod", [CronJobBuilder.JobLabel] = job },
                ["annotations"] = annotations,
            },
        };
    }

    [Fact]
    public void Start_with_Wait_polls_until_the_run_finishes_and_reports_progress()
    {
        var store = new StoreStandIn { CronJob = LiveCronJob(), RefreshesToFinish = 3 };
        var clock = new SteppingClock();
        var result = JobOperations.Start(Context(), new JobStartRequest("alpha", "nightly") { Wait = true, Timeout = TimeSpan.FromSeconds(60) }, store, clock)!;
        Assert.Equal(JobRunOutcome.Succeeded, result.Run.Outcome);
        Assert.Null(result.Failure);
        Assert.Equal(3, store.Refreshes);
        Assert.Equal(TimeSpan.FromSeconds(3), clock.Now);
        Assert.Contains(_sink.ProgressReports, p => p.Status.StartsWith("run alpha-nightly-manual-x: Running", StringComparison.Ordinal));
        Assert.Equal(ProgressState.Completed, _sink.ProgressReports.Last().State);
    }

    [Fact]
    public void A_failed_run_comes_back_with_JobRunFailed_naming_the_action_and_the_end_of_its_output()
    {
        var store = new StoreStandIn { CronJob = LiveCronJob(), Final = JobRunOutcome.Failed };
        var result = JobOperations.Start(Context(), new JobStartRequest("alpha", "nightly") { Wait = true }, store, new SteppingClock())!;
        Assert.Equal(JobRunOutcome.Failed, result.Run.Outcome);
        Assert.Equal("JobRunFailed", result.Failure!.ErrorId);
        Assert.Contains("in action 'second': b | c | d", result.Failure.Message);
    }

    [Fact]
    public void A_run_still_going_after_the_timeout_is_JobRunTimedOut_and_is_not_waited_for_longer()
    {
        var store = new StoreStandIn { CronJob = LiveCronJob(), RefreshesToFinish = int.MaxValue };
        var clock = new SteppingClock();
        var result = JobOperations.Start(Context(), new JobStartRequest("alpha", "nightly") { Wait = true, Timeout = TimeSpan.FromSeconds(5) }, store, clock)!;
        Assert.Equal("JobRunTimedOut", result.Failure!.ErrorId);
        Assert.Equal(JobRunOutcome.Running, result.Run.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(5), clock.Now);
    }

    [Fact]
    public void Start_without_Wait_returns_at_once_and_WhatIf_starts_nothing()
    {
        var store = new StoreStandIn { CronJob = LiveCronJob() };
        var result = JobOperations.Start(Context(), new JobStartRequest("alpha", "nightly"), store, new SteppingClock())!;
        Assert.Equal(JobRunOutcome.Pending, result.Run.Outcome);
        Assert.Equal(0, store.Refreshes);
        _sink.Confirm = false;
        Assert.Null(JobOperations.Start(Context(), new JobStartRequest("alpha", "nightly"), store, new SteppingClock()));
        Assert.Equal(1, store.Started);
    }

    [Fact]
    public void Start_refuses_a_CronJob_of_that_name_that_belongs_to_another_job()
    {
        // alpha-b job c and alpha job b-c share the name alpha-b-c; the labels say whose it is.
        var store = new StoreStandIn { CronJob = LiveCronJob("alpha-b", "c") };
        var e = Assert.Throws<PaastaException>(() => JobOperations.Start(Context(), new JobStartRequest("alpha", "b-c"), store, new SteppingClock()));
        Assert.Equal("JobNotFound", e.ErrorId);
        Assert.Equal(0, store.Started);
    }

    [Fact]
    public void Starting_a_stopped_job_warns_that_its_schedule_stays_suspended()
    {
        var store = new StoreStandIn { CronJob = LiveCronJob(stopped: "second") };
        Assert.NotNull(JobOperations.Start(Context(), new JobStartRequest("alpha", "nightly"), store, new SteppingClock()));
        Assert.Contains(_sink.Warnings, w => w.Contains("is stopped (second)"));
    }

    private static JobInfo Info(string service, string job, string cluster = "prod") =>
        new() { Service = service, Cluster = cluster, Job = job, Namespace = "tron", Name = CronJobBuilder.CronJobName(service, job) };

    [Fact]
    public void List_reports_each_literal_service_and_job_without_a_CronJob_and_lets_wildcards_match_nothing()
    {
        var store = new StoreStandIn();
        store.Jobs.AddRange(new[] { Info("alpha", "nightly"), Info("alpha", "hourly"), Info("beta", "daily") });
        var found = JobOperations.List(Context(), new JobSelection { Services = new[] { "alpha", "nosuch" }, Clusters = new[] { "prod" }, Jobs = new[] { "nightly", "gone" } }, store);
        Assert.Equal(new[] { "nightly" }, found.Select(j => j.Job));
        Assert.Equal(new[] { "nosuch", "gone" }, _sink.Errors.Select(e => (string)e.Target!));
        Assert.All(_sink.Errors, e => Assert.Equal("JobNotFound", e.ErrorId));

        while (_sink.Errors.TryDequeue(out _)) { }
        Assert.Empty(JobOperations.List(Context(), new JobSelection { Services = new[] { "zz*" }, Jobs = new[] { "q*" } }, store));
        Assert.Empty(_sink.Errors);
    }

    [Fact]
    public void List_reads_each_cluster_named_and_those_of_soa_configs_a_wildcard_matches()
    {
        _soa.Write("alpha/tron-dev.yaml", "hourly:\n  schedule: cron 0 * * * *\n  deploy_group: prod.main\n  actions:\n    run:\n      command: echo dev\n");
        var store = new StoreStandIn();
        store.Jobs.AddRange(new[] { Info("alpha", "nightly"), Info("alpha", "hourly", "dev"), Info("alpha", "hourly", "other") });
        var found = JobOperations.List(Context(), new JobSelection { Clusters = new[] { "pr*", "dev", "nomatch*" } }, store);
        Assert.Equal(new[] { "dev:hourly", "prod:nightly" }, found.Select(j => $"{j.Cluster}:{j.Job}").Order());
        Assert.Empty(_sink.Errors);
    }

    [Fact]
    public void List_with_only_a_cluster_that_has_no_CronJob_is_JobNotFound()
    {
        var store = new StoreStandIn();
        store.Jobs.Add(Info("alpha", "nightly"));
        Assert.Empty(JobOperations.List(Context(), new JobSelection { Clusters = new[] { "prdo" } }, store));
        Assert.Equal(new[] { "JobNotFound" }, _sink.ErrorIds);
    }
}
