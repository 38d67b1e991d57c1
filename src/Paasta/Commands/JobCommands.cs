using System.Diagnostics;
using System.Management.Automation;
using Paasta.Jobs;
using Paasta.Tron;
using Paasta.Errors;
using Paasta.Settings;

namespace Paasta.Commands;

/// <summary>Shared by the cmdlets that work on Tron jobs run as Kubernetes CronJobs: -Cluster from the configuration.</summary>
public abstract class JobCmdlet : KubeCmdlet
{
    private CronJobApi? _api;

    /// <summary>The CronJob API the cluster serves (batch/v1 or batch/v1beta1), discovered once per invocation.</summary>
    protected CronJobApi Api
    {
        get
        {
            if (_api is null)
            {
                _api = Await(CronJobApi.DiscoverAsync(Kube, CancellationToken));
                WriteVerbose($"CronJobs: {_api.Target} (discovered from the server); time zones: {(_api.SupportsTimeZone ? "yes" : "no")}.");
            }
            return _api;
        }
    }

    /// <summary>-Cluster as given, else $env:PAASTA_CLUSTER or the saved setting, else null.</summary>
    protected string? ClusterOrDefault(string? given)
    {
        if (given is not null) return given;
        var fallback = Operation.Settings.Cluster;
        if (fallback is { Length: > 0 }) WriteVerbose($"Cluster {fallback} (from $env:PAASTA_CLUSTER or Set-PaastaConfiguration -Cluster).");
        return fallback is { Length: > 0 } ? fallback : null;
    }

    /// <summary>
    /// -Job as job names: a Tron instance name job.action (piped from Get-PaastaInstance, whose Instance binds
    /// -Job) stands for its job, since a CronJob runs the whole job.
    /// </summary>
    protected static string[]? JobNames(string[]? given) =>
        given?.Select(j => !HasWildcards(j) && j.IndexOf('.') > 0 ? j[..j.IndexOf('.')] : j).Distinct(StringComparer.Ordinal).ToArray();

    protected string RequireCluster(string? given) => ClusterOrDefault(given)
        ?? throw new PaastaException("ClusterNotSpecified", PaastaErrorKind.InvalidArgument,
            $"{MyInvocation.MyCommand.Name} needs a cluster: pass -Cluster, set $env:PAASTA_CLUSTER, or Set-PaastaConfiguration -Cluster.") { Target = "Cluster" };
}

/// <summary>
/// <para type="synopsis">Runs the Tron jobs of soa-configs as Kubernetes CronJobs, and keeps the cluster in line with them.</para>
/// <para type="description">For each job of tron-CLUSTER.yaml (validated as Test-PaastaConfig does), builds a CronJob in namespace tron and makes the cluster match: it creates CronJobs that are missing, replaces those whose config_sha differs, writes nothing for the rest, and deletes the CronJobs of jobs that are no longer in soa-configs (only for services given by name or wildcard and only when -Job is not used; a service whose tron file is invalid is never pruned, and a job still in the file keeps its CronJob even when it cannot be synced this time, e.g. no registry for its image). A CronJob is replaced or deleted only for the service, cluster and job its labels name: names are sanitise(service)-sanitise(job), so service a-b job c and service a job b-c meet, and the second is refused with CronJobNameConflict. The CronJob API is discovered from the server: batch/v1 where it serves CronJobs there, batch/v1beta1 otherwise (Kubernetes 1.20 and older). A job's time_zone, else the time_zone of SOA_DIR/tron/CLUSTER/MASTER.yaml (as on a Tron master), becomes spec.timeZone where the server keeps it (batch/v1 from Kubernetes 1.25, read from /version); elsewhere a UTC zone is left to the controller's clock and any other zone is refused with JobTimeZoneNotSupported (the job is left as it is), since the schedule would run hours off. The Tron schedule is translated to cron exactly (cron strings, daily with hours, minutes and days, intervals that divide an hour or a day); a schedule with no exact cron form (groc English such as '7th of month', seconds, Tron's L) is refused with TronScheduleNotTranslatable naming the job, and that job is left as it is in the cluster. Each run is one pod: the actions run one after another in an order that honours requires (every action but the last as an init container, so Kubernetes starts each only after the previous one succeeded), each with its image from deployments.json, its command (Tron's date variables such as {shortdate-1} are filled in when the run starts), the PAASTA_* environment and the action's env, cpus, mem and disk. A failing action fails the run (no retries). enabled: false suspends the CronJob; allow_overlap: true gives concurrencyPolicy Allow, else Forbid (so a run due while one is going is skipped, where Tron's default queueing would queue it; -Verbose notes it). ssm_secrets are accepted and ignored (AWS is out of scope). Labels name the service, cluster and job, and paasta.yelp.com/config_sha the config version. A job whose deploy group has no deployment yet is reported (NoDeployment) with a warning. -WhatIf lists what would be created, replaced (with the fields that change) or deleted. Service, Cluster and Job bind by property name (Get-PaastaService output binds its Name), so piped services or jobs are synced. Emits one Paasta.Jobs.JobSyncResult per job.</para>
/// </summary>
/// <example>
///   <code>Sync-PaastaJob -Service hello -Cluster local</code>
///   <para>Creates, updates or deletes hello's CronJobs so they match tron-local.yaml and deployments.json.</para>
/// </example>
/// <example>
///   <code>Sync-PaastaJob -Service * -Cluster local -WhatIf</code>
///   <para>Shows for every service which CronJobs a sync would create, replace or delete, changing nothing.</para>
/// </example>
/// <example>
///   <code>Sync-PaastaJob -Service hello -Cluster local -Job nightly_report -Verbose</code>
///   <para>Syncs one job only (no pruning), and reports the CronJob API version found and the requests made.</para>
/// </example>
[Cmdlet(VerbsData.Sync, "PaastaJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(JobSyncResult))]
public sealed class SyncPaastaJob : JobCmdlet
{
    private readonly List<JobSyncRequest> _requests = new();
    private readonly List<JobScope> _prune = new();
    private readonly List<JobSyncResult> _early = new();
    // Piped records may name the same service or job again (one per action): each is planned once.
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    // MASTER.yaml is read once per soa dir and cluster (null: there is none); a failed read skips that cluster.
    private readonly Dictionary<string, TronMasterSettings?> _masters = new(StringComparer.Ordinal);
    private readonly HashSet<string> _masterFailed = new(StringComparer.Ordinal);

    /// <summary>Services; wildcards allowed. Binds by property name from Service or Name (Get-PaastaService output).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    [Alias("Name")]
    public string[] Service { get; set; } = Array.Empty<string>();

    /// <summary>The cluster (the CLUSTER of tron-CLUSTER.yaml). Defaults to $env:PAASTA_CLUSTER or Set-PaastaConfiguration -Cluster.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ClusterCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Cluster { get; set; }

    /// <summary>Jobs; wildcards allowed. Defaults to every job. With -Job, CronJobs of removed jobs are not deleted. Binds by property name from Job or Instance; a Tron instance name job.action means its job.</summary>
    [Parameter(Position = 2, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(JobCompleter))]
    [Alias("Instance")]
    public string[]? Job { get; set; }

    /// <summary>The image registry; defaults to the action service's service.yaml docker_registry, then $env:PAASTA_DOCKER_REGISTRY, then Set-PaastaConfiguration -DockerRegistry.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Registry { get; set; }

    protected override void Process()
    {
        try
        {
            var reader = Reader(ResolveSoaDir(SoaDir));
            var cluster = RequireCluster(Cluster);
            // Without MASTER.yaml's time_zone no job's schedule is known: nothing of the cluster is synced or pruned.
            if (!TryMaster(reader.SoaDir, cluster, out var master)) return;
            var jobNames = JobNames(Job);
            var jobFilter = Matcher(jobNames);
            var registry = Operation.Settings.DockerRegistry;
            foreach (var name in SelectServices(reader, Service))
            {
                IReadOnlyList<TronJob> jobs;
                try { jobs = TronJobReader.Load(reader, reader.LoadService(name), cluster); }
                catch (PaastaException e)
                {
                    // An unreadable file says nothing about which jobs exist: never prune on it.
                    WriteError(e);
                    continue;
                }
                // Every configured job is kept, also one whose images cannot be looked up below.
                if (Job is null && _seen.Add($"{name}\0{cluster}")) _prune.Add(new JobScope(name, cluster, jobs.Select(j => j.Name).ToList()));
                var images = new TronImageResolver(reader, Registry, registry);
                foreach (var job in jobs.Where(j => jobFilter?.Invoke(j.Name) ?? true))
                {
                    if (!_seen.Add($"{name}\0{cluster}\0{job.Name}")) continue;
                    try { _requests.Add(new JobSyncRequest(job, job.Actions.ToDictionary(a => a.Name, images.For, StringComparer.Ordinal), master)); }
                    catch (PaastaException e)
                    {
                        WriteError(e);
                        _early.Add(new JobSyncResult { Service = name, Cluster = cluster, Job = job.Name, Action = JobSyncAction.Failed, Message = e.Message });
                    }
                }
                if (jobNames is not null && !jobNames.Any(HasWildcards) && !jobs.Any(j => jobFilter!(j.Name)))
                    WriteError(new PaastaException("JobNotFound", PaastaErrorKind.ObjectNotFound,
                        $"{name} has no job {string.Join(", ", jobNames)} in tron-{cluster}.yaml.") { Target = name });
            }
        }
        catch (PaastaException e) { WriteError(e); }
    }

    private bool TryMaster(string soaDir, string cluster, out TronMasterSettings? master)
    {
        var key = soaDir + "\0" + cluster;
        master = null;
        if (_masterFailed.Contains(key)) return false;
        if (_masters.TryGetValue(key, out master)) return true;
        try
        {
            master = TronMasterSettings.Load(soaDir, cluster);
            if (master?.TimeZone is { } zone) WriteVerbose($"Jobs without a time_zone of their own inherit {zone} from {master.Path}.");
            _masters[key] = master;
            return true;
        }
        catch (PaastaException e)
        {
            WriteError(e);
            _masterFailed.Add(key);
            return false;
        }
    }

    protected override void End()
    {
        try
        {
            foreach (var r in _early) WriteObject(r);
            if (_requests.Count == 0 && _prune.Count == 0) return;
            var reconciler = new JobReconciler(Api);
            var watch = Stopwatch.StartNew();
            var plan = Await(reconciler.PlanAsync(_requests, _prune, CancellationToken));
            WriteVerbose($"Planned {plan.Count} job(s) in {watch.ElapsedMilliseconds} ms: " +
                string.Join(", ", plan.GroupBy(p => p.Result.Action).Select(g => $"{g.Count()} {g.Key}")) + ".");
            foreach (var item in plan) Report(reconciler, item);
        }
        catch (PaastaException e) { WriteError(e); }
        finally { base.End(); }
    }

    private void Report(JobReconciler reconciler, JobPlanItem item)
    {
        var result = item.Result;
        var target = $"{result.Service}.{result.Job} on {result.Cluster}";
        foreach (var note in result.Notes) WriteVerbose($"{target}: {note}.");
        switch (result.Action)
        {
            case JobSyncAction.NoDeployment:
                WriteWarning($"{target}: {result.Message}.");
                WriteObject(result);
                return;
            case JobSyncAction.Failed:
                WriteError(item.Error ?? new PaastaException("JobNotRunnable", PaastaErrorKind.InvalidData, result.Message ?? $"{target} cannot run as a CronJob.") { Target = target });
                WriteObject(result);
                return;
            case JobSyncAction.Unchanged:
                WriteVerbose($"{target}: CronJob {result.Namespace}/{result.Name} already has {result.NewConfigSha}.");
                WriteObject(result);
                return;
        }
        var description = $"{target}: {result.Action}\n  {string.Join("\n  ", result.Changes)}";
        if (!ShouldProcess(description, $"{description}\nMake these changes?", "Sync-PaastaJob"))
        {
            WriteObject(result with { WhatIf = true });
            return;
        }
        try
        {
            Await(reconciler.ApplyAsync(item, CancellationToken));
            WriteObject(result);
        }
        catch (PaastaException e)
        {
            WriteError(e);
            WriteObject(result with { Action = JobSyncAction.Failed, Message = e.Message });
        }
    }
}

/// <summary>
/// <para type="synopsis">Shows the Tron jobs that run as Kubernetes CronJobs: schedule, suspended, last schedule and the last run's outcome.</para>
/// <para type="description">Lists the CronJobs Sync-PaastaJob made (namespace tron, label paasta.yelp.com/managed=true), with three LISTs whatever their number: the CronJobs, their Jobs (runs) and the runs' pods. For each job: the cron schedule and the Tron schedule it came from, whether it is suspended (enabled: false), the concurrency policy, when the controller last scheduled it, how many runs are active, and the most recent run (scheduled or started by Start-PaastaJob) with its start, finish and outcome (Pending, Running, Succeeded, Failed; None before the first run); for a failed run, the action whose container failed. Reads only the cluster, not soa-configs. Emits Paasta.Jobs.JobInfo objects.</para>
/// </summary>
/// <example>
///   <code>Get-PaastaJob -Service hello -Cluster local</code>
///   <para>hello's jobs on local with their schedule, suspension and last run.</para>
/// </example>
/// <example>
///   <code>Get-PaastaService hello | Get-PaastaJob -Cluster local</code>
///   <para>The jobs of the piped service only (its Name binds -Service).</para>
/// </example>
/// <example>
///   <code>Get-PaastaJob | Where-Object LastRunOutcome -eq Failed | Format-List Service, Job, LastRun, FailedAction</code>
///   <para>Every job whose last run failed, and which action failed.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "PaastaJob")]
[OutputType(typeof(JobInfo))]
public sealed class GetPaastaJob : JobCmdlet
{
    /// <summary>Services; wildcards allowed. Defaults to every service. Binds by property name from Service or Name (Get-PaastaService output).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    [Alias("Name")]
    public string[]? Service { get; set; }

    /// <summary>The cluster whose jobs to show. Defaults to $env:PAASTA_CLUSTER or Set-PaastaConfiguration -Cluster, else every cluster's jobs in the namespace.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ClusterCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Cluster { get; set; }

    /// <summary>Jobs; wildcards allowed. Defaults to every job. Binds by property name from Job or Instance; a Tron instance name job.action means its job.</summary>
    [Parameter(Position = 2, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(JobCompleter))]
    [Alias("Instance")]
    public string[]? Job { get; set; }

    protected override void Process()
    {
        try
        {
            var cluster = ClusterOrDefault(Cluster);
            // One exact service goes into the label selector; wildcards filter what the LIST returns.
            var one = Service is { Length: 1 } && !HasWildcards(Service[0]) ? Service[0] : null;
            var services = Matcher(Service);
            var jobNames = JobNames(Job);
            var jobs = Matcher(jobNames);
            var found = Await(new JobRuns(Api).ListAsync(one, cluster, CancellationToken))
                .Where(j => (services?.Invoke(j.Service) ?? true) && (jobs?.Invoke(j.Job) ?? true)).ToList();
            foreach (var j in found) WriteObject(j);
            if (found.Count == 0 && Service is not null && Service.All(s => !HasWildcards(s)) && (jobNames ?? Array.Empty<string>()).All(s => !HasWildcards(s)))
                WriteError(new PaastaException("JobNotFound", PaastaErrorKind.ObjectNotFound,
                    $"No CronJob of {string.Join(", ", Service)}{(jobNames is null ? "" : " job " + string.Join(", ", jobNames))}{(cluster is null ? "" : " on " + cluster)} in namespace {CronJobBuilder.Namespace}; Sync-PaastaJob creates them.")
                { Target = string.Join(",", Service) });
        }
        catch (PaastaException e) { WriteError(e); }
    }
}

/// <summary>
/// <para type="synopsis">Starts one run of a job now, from its CronJob's template, and can wait for it to finish.</para>
/// <para type="description">Creates a Kubernetes Job from the job's CronJob template (as kubectl create job --from=cronjob/NAME does), owned by the CronJob, so it runs exactly what a scheduled run would: the actions in requires order, with the same images, commands, environment and resources. It does so even when the CronJob is suspended. Without -Wait it returns at once with the run's name (Outcome Pending). With -Wait it polls the run until it succeeds or fails and returns each action's output (its container log) in run order; a failed run is also reported as a JobRunFailed error naming the action that failed, and a run still going after -TimeoutSec as JobRunTimedOut. Emits a Paasta.Jobs.JobRun.</para>
/// </summary>
/// <example>
///   <code>Start-PaastaJob -Service hello -Job nightly_report -Wait</code>
///   <para>Runs hello's nightly_report now and waits for it; the result carries each action's output.</para>
/// </example>
/// <example>
///   <code>Get-PaastaJob -Service hello | Start-PaastaJob -WhatIf</code>
///   <para>Shows which runs would be started for each of hello's jobs, starting none.</para>
/// </example>
/// <example>
///   <code>(Start-PaastaJob hello nightly_report -Wait -TimeoutSec 120).Output['publish']</code>
///   <para>The output of the publish action of a run started now.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Start, "PaastaJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(JobRun))]
public sealed class StartPaastaJob : JobCmdlet
{
    private const int ProgressId = 0x5A5C;

    /// <summary>The service. Binds by property name from Service or Name.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    [ValidateNotNullOrEmpty]
    [Alias("Name")]
    public string Service { get; set; } = "";

    /// <summary>The job (a top-level key of tron-CLUSTER.yaml).</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(JobCompleter))]
    [Alias("Instance")]
    [ValidateNotNullOrEmpty]
    public string Job { get; set; } = "";

    /// <summary>The cluster; when given (or configured), the CronJob must belong to it. Defaults to $env:PAASTA_CLUSTER or Set-PaastaConfiguration -Cluster.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ClusterCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Cluster { get; set; }

    /// <summary>Wait until the run succeeds or fails, and collect each action's output.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>With -Wait: how many seconds to wait for the run to finish.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int TimeoutSec { get; set; } = 600;

    protected override void Process()
    {
        var progress = new ProgressRecord(ProgressId, "Start-PaastaJob", $"{Service}.{Job}");
        try
        {
            var cluster = ClusterOrDefault(Cluster);
            var name = CronJobBuilder.CronJobName(Service, Job);
            var ns = CronJobBuilder.Namespace;
            var cronJob = Await(Api.GetAsync(ns, name, CancellationToken));
            // The name alone may be another job's (a-b + c and a + b-c meet): its labels must say it is this one.
            if (cronJob is null || !CronJobOwner.Of(cronJob).Is(Service, cluster, Job))
                throw new PaastaException("JobNotFound", PaastaErrorKind.ObjectNotFound,
                    $"There is no CronJob {ns}/{name} for {Service}.{Job}{(cluster is null ? "" : " on " + cluster)}; Sync-PaastaJob creates it.") { Target = $"{Service}.{Job}" };
            // Paasta.Core's own types only: KubernetesClient lives in the module's private load context.
            var runs = new JobRuns(Api);
            var info = runs.Describe(cronJob);
            if (!ShouldProcess($"{Service}.{Job} on {info.Cluster} (CronJob {ns}/{name})", "Start a run now")) return;

            var run = Await(runs.StartRunAsync(cronJob, CancellationToken));
            WriteVerbose($"Started Job {run.Namespace}/{run.Name}.");
            if (!Wait)
            {
                WriteObject(run);
                return;
            }

            var waited = Stopwatch.StartNew();
            while (run.Outcome is not (JobRunOutcome.Succeeded or JobRunOutcome.Failed))
            {
                if (waited.Elapsed.TotalSeconds > TimeoutSec)
                {
                    WriteObject(run);
                    throw new PaastaException("JobRunTimedOut", PaastaErrorKind.OperationTimeout,
                        $"{Service}.{Job}: run {run.Name} did not finish within {TimeoutSec} s (it is {run.Outcome}); it keeps running. Get-PaastaJob shows its outcome later.") { Target = run.Name };
                }
                progress.StatusDescription = $"run {run.Name}: {run.Outcome} ({(int)waited.Elapsed.TotalSeconds} s)";
                WriteProgress(progress);
                Await(Task.Delay(TimeSpan.FromSeconds(1), CancellationToken));
                run = Await(runs.RefreshAsync(run, CancellationToken));
            }
            WriteObject(run);
            if (run.Outcome == JobRunOutcome.Failed)
            {
                var failed = run.FailedAction;
                var log = failed is not null && run.Output.TryGetValue(failed, out var text) && text.Length > 0 ? ": " + Tail(text) : ".";
                WriteError(new PaastaException("JobRunFailed", PaastaErrorKind.InvalidResult,
                    $"{Service}.{Job}: run {run.Name} failed{(failed is null ? "" : $" in action '{failed}'")}{log}") { Target = run.Name });
            }
        }
        catch (PaastaException e) { WriteError(e); }
        finally
        {
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
        }
    }

    private static string Tail(string log)
    {
        var lines = log.TrimEnd().Split('\n');
        return string.Join(" | ", lines.Skip(Math.Max(0, lines.Length - 3)));
    }
}
