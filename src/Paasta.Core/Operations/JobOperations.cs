using System.Runtime.CompilerServices;
using Paasta.Config;
using Paasta.Errors;
using Paasta.Jobs;
using Paasta.Kubernetes;
using Paasta.Tron;

namespace Paasta.Operations;

/// <summary>Which Tron jobs a job cmdlet is about, as the user wrote them.</summary>
public sealed record JobSelection
{
    /// <summary>Service names or wildcards; null: every service (Get-PaastaJob only).</summary>
    public IReadOnlyList<string>? Services { get; init; }
    /// <summary>Cluster names or wildcards; null: the Cluster setting. Wildcards match the Tron clusters of soa-configs (services' tron-CLUSTER.yaml).</summary>
    public IReadOnlyList<string>? Clusters { get; init; }
    /// <summary>Job names or wildcards; a Tron instance name job.action stands for its job. Null: every job.</summary>
    public IReadOnlyList<string>? Jobs { get; init; }

    /// <summary>
    /// The job names asked for: job.action (piped from Get-PaastaInstance, whose Instance binds -Job) means its job,
    /// since a CronJob runs the whole job; each once.
    /// </summary>
    public IReadOnlyList<NamePattern>? JobPatterns =>
        NamePattern.ParseAll(Jobs?.Select(j => !NamePattern.HasWildcards(j) && j.IndexOf('.') > 0 ? j[..j.IndexOf('.')] : j).Distinct(StringComparer.Ordinal));
}

/// <summary>Start-PaastaJob's request: one job, a run now, and whether to wait for it.</summary>
public sealed record JobStartRequest(string Service, string Job)
{
    /// <summary>When set (or configured), the CronJob must belong to this cluster.</summary>
    public string? Cluster { get; init; }
    public bool Wait { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>A started run, and the error that goes with it (JobRunFailed, JobRunTimedOut), if any.</summary>
public sealed record JobStartResult(JobRun Run, PaastaException? Failure);

/// <summary>
/// Get-PaastaJob and Start-PaastaJob: reading the CronJobs Sync-PaastaJob made and starting runs of them, with
/// Start-PaastaJob's wait loop. The store is the cluster's (<see cref="Store"/>) unless a test gives its own.
/// </summary>
public static class JobOperations
{
    private static readonly ConditionalWeakTable<KubeConnection, Lazy<Task<CronJobApi>>> Apis = new();

    /// <summary>The CronJob API the cluster of <paramref name="cluster"/> serves, discovered once per connection.</summary>
    public static CronJobApi Api(OperationContext context, string? cluster)
    {
        var kube = context.Kube(cluster);
        var discovered = false;
        var lazy = Apis.GetValue(kube, k => new Lazy<Task<CronJobApi>>(() => { discovered = true; return CronJobApi.DiscoverAsync(k, CancellationToken.None); }));
        var api = lazy.Value.WaitAsync(context.Cancellation).GetAwaiter().GetResult();
        if (discovered) context.Sink.Verbose($"CronJobs: {api.Target} (discovered from the server); time zones: {(api.SupportsTimeZone ? "yes" : "no")}.");
        return api;
    }

    /// <summary>The runs of the cluster's CronJobs.</summary>
    public static IJobRunStore Store(OperationContext context, string? cluster) => new JobRuns(Api(context, cluster));

    /// <summary>
    /// The jobs selected, as the clusters run them: cluster by cluster (each read through its own context), each
    /// sorted by service and job. A literal service, job or cluster that matches no CronJob is a JobNotFound error
    /// (Sync-PaastaJob creates them); wildcards may match nothing. Without a cluster (given or configured), the
    /// jobs of every cluster that the current context's namespace holds.
    /// </summary>
    public static IReadOnlyList<JobInfo> List(OperationContext context, JobSelection selection, IJobRunStore? store = null)
    {
        var clusters = ListedClusters(context, selection.Clusters);
        var services = NamePattern.ParseAll(selection.Services);
        var jobs = selection.JobPatterns;
        // One literal service goes into the label selector; wildcards filter what the LIST returns.
        var one = services is { Count: 1 } && !services[0].IsWildcard ? services[0].Literal : null;
        var listed = new List<JobInfo>();
        foreach (var cluster in clusters?.Cast<string?>() ?? new string?[] { null })
            listed.AddRange((store ?? Store(context, cluster)).ListAsync(one, cluster, context.Cancellation).GetAwaiter().GetResult());
        var ofServices = listed.Where(j => NamePattern.Any(services)?.Invoke(j.Service) ?? true).ToList();
        var found = ofServices.Where(j => NamePattern.Any(jobs)?.Invoke(j.Job) ?? true).ToList();
        var where = $"{(clusters is null ? "" : $" on {string.Join(", ", clusters)}")} in namespace {CronJobBuilder.Namespace}";
        foreach (var s in services?.Where(p => !p.IsWildcard && !ofServices.Any(j => p.IsMatch(j.Service))) ?? Enumerable.Empty<NamePattern>())
            context.Sink.Error(new PaastaException("JobNotFound", PaastaErrorKind.ObjectNotFound,
                $"No CronJob of {s.Literal}{where}; Sync-PaastaJob creates them.") { Target = s.Literal });
        // A job is missing only among services that have CronJobs (an absent service is reported above).
        if (ofServices.Count > 0)
            foreach (var j in jobs?.Where(p => !p.IsWildcard && !found.Any(x => p.IsMatch(x.Job))) ?? Enumerable.Empty<NamePattern>())
                context.Sink.Error(new PaastaException("JobNotFound", PaastaErrorKind.ObjectNotFound,
                    $"No CronJob of job {j.Literal}{(selection.Services is null ? "" : " of " + string.Join(", ", selection.Services))}{where}; Sync-PaastaJob creates it.") { Target = j.Literal });
        if (services is null)
            foreach (var literal in selection.Clusters?.Where(c => !NamePattern.HasWildcards(c) && !ofServices.Any(j => string.Equals(j.Cluster, c, StringComparison.OrdinalIgnoreCase))) ?? Enumerable.Empty<string>())
                context.Sink.Error(new PaastaException("JobNotFound", PaastaErrorKind.ObjectNotFound,
                    $"No CronJob on {literal} in namespace {CronJobBuilder.Namespace}; Sync-PaastaJob creates them.") { Target = literal });
        return found;
    }

    /// <summary>
    /// The clusters Get-PaastaJob reads: those named, and the Tron clusters of soa-configs that the wildcards match;
    /// without any, the Cluster setting, else null (the current context, all clusters).
    /// </summary>
    private static IReadOnlyList<string>? ListedClusters(OperationContext context, IReadOnlyList<string>? given)
    {
        if (given is not { Count: > 0 }) return ClusterSetting.Optional(context, null) is { } configured ? new[] { configured } : null;
        var wildcards = given.Where(NamePattern.HasWildcards).ToList();
        var expanded = wildcards.Count == 0 ? Array.Empty<string>()
            : InstanceQuery.Clusters(context, new InstanceSelection { Clusters = wildcards, TypeFilter = t => t == InstanceTypes.Tron });
        return given.Where(c => !NamePattern.HasWildcards(c)).Concat(expanded).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Starts one run of a job now, from its CronJob (also a suspended one), after ShouldProcess; with Wait, polls it
    /// until it succeeds or fails, with progress, and returns each action's output. A failed run comes back with
    /// JobRunFailed naming the action, a run still going after the timeout with JobRunTimedOut (it keeps running).
    /// Null when ShouldProcess said no.
    /// </summary>
    public static JobStartResult? Start(OperationContext context, JobStartRequest request, IJobRunStore? store = null, WaitClock? clock = null)
    {
        clock ??= WaitClock.Real;
        var cluster = ClusterSetting.Optional(context, request.Cluster);
        var name = CronJobBuilder.CronJobName(request.Service, request.Job);
        var ns = CronJobBuilder.Namespace;
        var what = $"{request.Service}.{request.Job}";
        store ??= Store(context, cluster);
        var cronJob = store.GetCronJobAsync(ns, name, context.Cancellation).GetAwaiter().GetResult();
        // The name alone may be another job's (a-b + c and a + b-c meet): its labels must say it is this one.
        if (cronJob is null || !CronJobOwner.Of(cronJob).Is(request.Service, cluster, request.Job))
            throw new PaastaException("JobNotFound", PaastaErrorKind.ObjectNotFound,
                $"There is no CronJob {ns}/{name} for {what}{(cluster is null ? "" : " on " + cluster)}; Sync-PaastaJob creates it.") { Target = what };
        var info = store.Describe(cronJob);
        if (!context.Sink.ShouldProcess($"{what} on {info.Cluster} (CronJob {ns}/{name})", "Start a run now")) return null;
        if (info.Stopped) context.Sink.Warning($"{what} is stopped ({string.Join(", ", info.StoppedActions)}): this run starts anyway; the schedule stays suspended until the next deploy.");

        var activity = $"Start-PaastaJob {what}";
        var run = store.StartRunAsync(cronJob, context.Cancellation).GetAwaiter().GetResult();
        context.Sink.Verbose($"Started Job {run.Namespace}/{run.Name}.");
        if (!request.Wait) return new JobStartResult(run, null);

        var started = clock.Start();
        try
        {
            while (run.Outcome is not (JobRunOutcome.Succeeded or JobRunOutcome.Failed))
            {
                var waited = clock.Since(started);
                if (waited >= request.Timeout)
                    return new JobStartResult(run, new PaastaException("JobRunTimedOut", PaastaErrorKind.OperationTimeout,
                        $"{what}: run {run.Name} did not finish within {request.Timeout.TotalSeconds:0} s (it is {run.Outcome}); it keeps running. Get-PaastaJob shows its outcome later.") { Target = run.Name });
                context.Sink.Progress(new OperationProgress(activity, $"run {run.Name}: {run.Outcome} ({(int)waited.TotalSeconds} s)")
                {
                    PercentComplete = (int)Math.Min(99, 100 * waited.TotalSeconds / request.Timeout.TotalSeconds),
                    SecondsRemaining = (int)Math.Max(0, (request.Timeout - waited).TotalSeconds),
                });
                clock.Delay(request.PollInterval, context.Cancellation).GetAwaiter().GetResult();
                run = store.RefreshAsync(run, context.Cancellation).GetAwaiter().GetResult();
            }
        }
        finally { context.Sink.Progress(new OperationProgress(activity, "done").Complete()); }
        if (run.Outcome != JobRunOutcome.Failed) return new JobStartResult(run, null);
        var failed = run.FailedAction;
        var log = failed is not null && run.Output.TryGetValue(failed, out var text) && text.Length > 0 ? ": " + Tail(text) : ".";
        return new JobStartResult(run, new PaastaException("JobRunFailed", PaastaErrorKind.InvalidResult,
            $"{what}: run {run.Name} failed{(failed is null ? "" : $" in action '{failed}'")}{log}") { Target = run.Name });
    }

    private static string Tail(string log)
    {
        var lines = log.TrimEnd().Split('\n');
        return string.Join(" | ", lines.Skip(Math.Max(0, lines.Length - 3)));
    }
}
