using System.Management.Automation;
using Paasta.Jobs;
using Paasta.Operations;
using Paasta.Settings;

namespace Paasta.Commands;

/// <summary>
/// <para type="synopsis">Runs the Tron jobs of soa-configs as Kubernetes CronJobs, and keeps the cluster in line with them.</para>
/// <para type="description">For each job of tron-CLUSTER.yaml (validated as Test-PaastaConfig does), builds a CronJob in namespace tron and makes the cluster match: it creates CronJobs that are missing, replaces those whose config_sha differs, writes nothing for the rest, and deletes the CronJobs of jobs that are no longer in soa-configs (only for services given by name or wildcard and only when -Job is not used; a service whose tron file is invalid is never pruned, and a job still in the file keeps its CronJob even when it cannot be synced this time, e.g. no registry for its image). A CronJob is replaced or deleted only for the service, cluster and job its labels name: names are sanitise(service)-sanitise(job), so service a-b job c and service a job b-c meet, and the second is refused with CronJobNameConflict. The CronJob API is discovered from the server: batch/v1 where it serves CronJobs there, batch/v1beta1 otherwise (Kubernetes 1.20 and older). A job's time_zone, else the time_zone of SOA_DIR/tron/CLUSTER/MASTER.yaml (as on a Tron master), becomes spec.timeZone where the server keeps it (batch/v1 from Kubernetes 1.25, read from /version); elsewhere a UTC zone is left to the controller's clock and any other zone is refused with JobTimeZoneNotSupported (the job is left as it is), since the schedule would run hours off. The Tron schedule is translated to cron exactly (cron strings, daily with hours, minutes and days, intervals that divide an hour or a day); a schedule with no exact cron form (groc English such as '7th of month', seconds, Tron's L) is refused with TronScheduleNotTranslatable naming the job, and that job is left as it is in the cluster. Each run is one pod: the actions run one after another in an order that honours requires (every action but the last as an init container, so Kubernetes starts each only after the previous one succeeded), each with its image from deployments.json, its command (Tron's date variables such as {shortdate-1} are filled in when the run starts), the PAASTA_* environment and the action's env, cpus, mem and disk. A failing action fails the run (no retries). enabled: false suspends the CronJob, and so does a stop: while deployments.json says desired_state stop for any action of the job (Stop-PaastaInstance on job.action), the CronJob is suspended and annotated paasta.yelp.com/stopped_actions, until the next deploy of the deploy group brings start back (PaaSTA ignores the stop; docs/DIFFERENCES.md). allow_overlap: true gives concurrencyPolicy Allow, else Forbid (so a run due while one is going is skipped, where Tron's default queueing would queue it; -Verbose notes it). ssm_secrets are accepted and ignored (AWS is out of scope). Labels name the service, cluster and job, and paasta.yelp.com/config_sha the config version. A job whose deploy group has no deployment yet is reported (NoDeployment) with a warning. -WhatIf lists what would be created, replaced (with the fields that change) or deleted. -Cluster takes several clusters, or wildcards that match the clusters of the services' tron files; each is reached through its own kubeconfig context, and two clusters that would share one are refused (MultipleClusters), since their CronJobs would meet in one namespace. Service, Cluster and Job bind by property name (Get-PaastaService output binds its Name), so piped services or jobs are synced. Emits one Paasta.Jobs.JobSyncResult per job.</para>
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
public sealed class SyncPaastaJob : KubeCmdlet
{
    private readonly JobSyncOperation _sync = new();

    /// <summary>Services; wildcards allowed. Binds by property name from Service or Name (Get-PaastaService output).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    [Alias("Name")]
    public string[] Service { get; set; } = Array.Empty<string>();

    /// <summary>Clusters (the CLUSTER of tron-CLUSTER.yaml); wildcards allowed, matching the clusters of the services' tron files. Defaults to $env:PAASTA_CLUSTER or Set-PaastaConfiguration -Cluster. Each cluster is reached through its own kubeconfig context.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ClusterCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Cluster { get; set; }

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

    protected override PaastaSettings GivenSettings() => base.GivenSettings() with { DockerRegistry = Registry };

    protected override void Process()
    {
        var selection = new JobSelection { Services = Service, Clusters = Cluster, Jobs = Job };
        RunOrWriteError(op => _sync.Add(op, selection));
    }

    protected override void End()
    {
        foreach (var result in RunOrWriteError(op => _sync.Run(op)) ?? Array.Empty<JobSyncResult>()) WriteObject(result);
    }
}

/// <summary>
/// <para type="synopsis">Shows the Tron jobs that run as Kubernetes CronJobs: schedule, suspended, last schedule and the last run's outcome.</para>
/// <para type="description">Lists the CronJobs Sync-PaastaJob made (namespace tron, label paasta.yelp.com/managed=true), with three LISTs whatever their number: the CronJobs, their Jobs (runs) and the runs' pods. For each job: the cron schedule and the Tron schedule it came from, whether it is suspended (enabled: false, or stopped), whether it is stopped and by which actions (Stopped, StoppedActions: Stop-PaastaInstance on an action, until the next deploy), the concurrency policy, when the controller last scheduled it, how many runs are active, and the most recent run (scheduled or started by Start-PaastaJob) with its start, finish and outcome (Pending, Running, Succeeded, Failed; None before the first run); for a failed run, the action whose container failed. Reads only the clusters, and soa-configs only to find the Tron clusters a -Cluster wildcard matches. A service, job or -Cluster named without wildcards that matches no CronJob is a JobNotFound error; wildcards may match nothing. Emits Paasta.Jobs.JobInfo objects.</para>
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
public sealed class GetPaastaJob : KubeCmdlet
{
    /// <summary>Services; wildcards allowed. Defaults to every service. Binds by property name from Service or Name (Get-PaastaService output).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    [Alias("Name")]
    public string[]? Service { get; set; }

    /// <summary>Clusters whose jobs to show, each read through its own kubeconfig context; wildcards allowed, matching the Tron clusters of soa-configs (tron-CLUSTER.yaml files). Defaults to $env:PAASTA_CLUSTER or Set-PaastaConfiguration -Cluster, else every cluster's jobs in the namespace of the current context.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ClusterCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Cluster { get; set; }

    /// <summary>Jobs; wildcards allowed. Defaults to every job. Binds by property name from Job or Instance; a Tron instance name job.action means its job.</summary>
    [Parameter(Position = 2, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(JobCompleter))]
    [Alias("Instance")]
    public string[]? Job { get; set; }

    protected override void Process()
    {
        var selection = new JobSelection { Services = Service, Clusters = Cluster, Jobs = Job };
        foreach (var job in RunOrWriteError(op => JobOperations.List(op, selection)) ?? Array.Empty<JobInfo>()) WriteObject(job);
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
public sealed class StartPaastaJob : KubeCmdlet
{
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
        var request = new JobStartRequest(Service, Job) { Cluster = Cluster, Wait = Wait, Timeout = TimeSpan.FromSeconds(TimeoutSec) };
        if (RunOrWriteError(op => JobOperations.Start(op, request)) is not { } started) return;
        WriteObject(started.Run);
        if (started.Failure is not null) WriteError(started.Failure);
    }
}
