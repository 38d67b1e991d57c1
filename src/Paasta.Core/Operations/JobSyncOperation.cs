using System.Diagnostics;
using Paasta.Config;
using Paasta.Errors;
using Paasta.Jobs;
using Paasta.Tron;

namespace Paasta.Operations;

/// <summary>
/// Sync-PaastaJob: makes the cluster's CronJobs match the Tron jobs of soa-configs. <see cref="Add"/> reads what
/// one pipeline record selects (each job once, however often it is named: one record per action of a job is
/// common); <see cref="Run"/> plans all of them against the cluster with one LIST, asks ShouldProcess for each
/// change and applies it. A job with a stopped action (deployments.json says stop) is suspended until the next
/// deploy (<see cref="TronJobControls"/>).
/// </summary>
public sealed class JobSyncOperation
{
    private readonly List<JobSyncRequest> _requests = new();
    private readonly List<JobScope> _prune = new();
    private readonly List<JobSyncResult> _failed = new();
    private readonly List<PaastaException> _failures = new();
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    // MASTER.yaml per soa dir and cluster (null: there is none); a cluster whose MASTER.yaml cannot be read is skipped.
    private readonly Dictionary<string, TronMasterSettings?> _masters = new(StringComparer.Ordinal);
    private readonly HashSet<string> _masterFailed = new(StringComparer.Ordinal);

    /// <summary>The jobs to sync so far (for tests and -Verbose).</summary>
    public IReadOnlyList<JobSyncRequest> Requests => _requests;
    /// <summary>The (service, cluster) pairs synced in full: CronJobs of jobs no longer configured are deleted.</summary>
    public IReadOnlyList<JobScope> Prune => _prune;
    /// <summary>Jobs that failed before planning (their images could not be looked up).</summary>
    public IReadOnlyList<JobSyncResult> Failed => _failed;

    /// <summary>
    /// Reads the jobs <paramref name="selection"/> names from soa-configs, cluster by cluster. Without job names, each
    /// service is synced in full (pruning); with them, only those jobs. A literal cluster that neither a service's
    /// tron-CLUSTER.yaml nor a tron/CLUSTER folder names is ClusterNotFound; wildcards match the clusters of the
    /// services' tron files, and may match none. A literal job that a service does not have is JobNotFound; a service
    /// whose tron file cannot be read is reported and never pruned. Errors of one cluster go to the sink.
    /// </summary>
    public void Add(OperationContext context, JobSelection selection)
    {
        var given = selection.Clusters is { Count: > 0 } named ? named : new[] { ClusterSetting.Required(context, null, "Sync-PaastaJob") };
        var names = InstanceQuery.ServiceNames(context, selection.Services);
        var wildcards = given.Where(NamePattern.HasWildcards).ToList();
        var clusters = given.Where(c => !NamePattern.HasWildcards(c)).ToList();
        if (wildcards.Count > 0)
            clusters.AddRange(InstanceQuery.Clusters(context, new InstanceSelection { Services = names, Clusters = wildcards, TypeFilter = t => t == InstanceTypes.Tron }));
        foreach (var cluster in clusters.Distinct(StringComparer.Ordinal))
        {
            try { Add(context, names, cluster, selection.JobPatterns); }
            catch (PaastaException e) { context.Sink.Error(e); }
        }
    }

    private void Add(OperationContext context, IReadOnlyList<string> names, string cluster, IReadOnlyList<NamePattern>? jobPatterns)
    {
        var reader = context.Reader;
        if (!names.Any(n => File.Exists(Path.Combine(reader.SoaDir, n, $"tron-{cluster}.yaml"))))
            ClusterSetting.RequireTronCluster(context, cluster);
        // Without MASTER.yaml's time_zone no job's schedule is known: nothing of the cluster is synced or pruned.
        if (!TryMaster(context, reader.SoaDir, cluster, out var master)) return;
        var jobFilter = NamePattern.Any(jobPatterns);
        var controls = new TronJobControls(reader.SoaDir);
        foreach (var name in names)
        {
            IReadOnlyList<TronJob> jobs;
            try { jobs = TronJobReader.Load(reader, reader.LoadService(name), cluster); }
            catch (PaastaException e)
            {
                // An unreadable file says nothing about which jobs exist: never prune on it.
                context.Sink.Error(e);
                continue;
            }
            // Every configured job is kept, also one whose images cannot be looked up below.
            if (jobPatterns is null && _seen.Add($"{name}\0{cluster}")) _prune.Add(new JobScope(name, cluster, jobs.Select(j => j.Name).ToList()));
            var images = new TronImageResolver(reader, svc => svc is null ? context.Settings.DockerRegistry : context.RegistryFor(svc));
            foreach (var job in jobs.Where(j => jobFilter?.Invoke(j.Name) ?? true).Select(controls.Apply))
            {
                if (!_seen.Add($"{name}\0{cluster}\0{job.Name}")) continue;
                if (job.Stopped) context.Sink.Verbose($"{job.FullName} on {cluster}: stopped (deployments.json says stop for {string.Join(", ", job.StoppedActions)}); its CronJob is suspended until the next deploy.");
                try { _requests.Add(new JobSyncRequest(job, job.Actions.ToDictionary(a => a.Name, images.For, StringComparer.Ordinal), master)); }
                catch (PaastaException e)
                {
                    _failures.Add(e);
                    _failed.Add(new JobSyncResult { Service = name, Cluster = cluster, Job = job.Name, Action = JobSyncAction.Failed, Message = e.Message });
                }
            }
            var missing = jobPatterns?.Where(p => !p.IsWildcard && !jobs.Any(j => p.IsMatch(j.Name))).Select(p => p.Literal).ToList();
            if (missing is { Count: > 0 })
                context.Sink.Error(new PaastaException("JobNotFound", PaastaErrorKind.ObjectNotFound,
                    $"{name} has no job {string.Join(", ", missing)} in tron-{cluster}.yaml.") { Target = name });
        }
    }

    /// <summary>
    /// Plans every job added against the cluster (per cluster, one LIST of Paasta's CronJobs), then, change by
    /// change, asks ShouldProcess and applies it. Returns one result per job, in plan order (failures first).
    /// </summary>
    public IReadOnlyList<JobSyncResult> Run(OperationContext context)
    {
        var results = new List<JobSyncResult>();
        foreach (var e in _failures) context.Sink.Error(e);
        results.AddRange(_failed);
        var clusters = _requests.Select(r => r.Job.Cluster).Concat(_prune.Select(p => p.Cluster)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        // CronJobs of two clusters behind one context would meet in its namespace tron: refused (MultipleClusters).
        ClusterConnections.Group(context, clusters);
        foreach (var cluster in clusters)
        {
            var requests = _requests.Where(r => r.Job.Cluster == cluster).ToList();
            var prune = _prune.Where(p => p.Cluster == cluster).ToList();
            var reconciler = new JobReconciler(JobOperations.Api(context, cluster));
            var watch = Stopwatch.StartNew();
            var plan = reconciler.PlanAsync(requests, prune, context.Cancellation).GetAwaiter().GetResult();
            context.Sink.Verbose($"Planned {plan.Count} job(s) on {cluster} in {watch.ElapsedMilliseconds} ms: " +
                string.Join(", ", plan.GroupBy(p => p.Result.Action).Select(g => $"{g.Count()} {g.Key}")) + ".");
            foreach (var item in plan) results.Add(Carry(context, reconciler, item));
        }
        return results;
    }

    private static JobSyncResult Carry(OperationContext context, JobReconciler reconciler, JobPlanItem item)
    {
        var result = item.Result;
        var target = $"{result.Service}.{result.Job} on {result.Cluster}";
        foreach (var note in result.Notes) context.Sink.Verbose($"{target}: {note}.");
        switch (result.Action)
        {
            case JobSyncAction.NoDeployment:
                context.Sink.Warning($"{target}: {result.Message}.");
                return result;
            case JobSyncAction.Failed:
                context.Sink.Error(item.Error ?? new PaastaException("JobNotRunnable", PaastaErrorKind.InvalidData, result.Message ?? $"{target} cannot run as a CronJob.") { Target = target });
                return result;
            case JobSyncAction.Unchanged:
                context.Sink.Verbose($"{target}: CronJob {result.Namespace}/{result.Name} already has {result.NewConfigSha}.");
                return result;
        }
        if (!context.Sink.ShouldProcess($"{target}: {result.Action}\n  {string.Join("\n  ", result.Changes)}", $"{result.Action switch { JobSyncAction.Created => "Create", JobSyncAction.Deleted => "Delete", _ => "Replace" }} CronJob {result.Namespace}/{result.Name}"))
            return result with { WhatIf = true };
        try
        {
            reconciler.ApplyAsync(item, context.Cancellation).GetAwaiter().GetResult();
            return result;
        }
        catch (PaastaException e)
        {
            context.Sink.Error(e);
            return result with { Action = JobSyncAction.Failed, Message = e.Message };
        }
    }

    private bool TryMaster(OperationContext context, string soaDir, string cluster, out TronMasterSettings? master)
    {
        var key = soaDir + "\0" + cluster;
        master = null;
        if (_masterFailed.Contains(key)) return false;
        if (_masters.TryGetValue(key, out master)) return true;
        try
        {
            master = TronMasterSettings.Load(soaDir, cluster);
            if (master?.TimeZone is { } zone) context.Sink.Verbose($"Jobs without a time_zone of their own inherit {zone} from {master.Path}.");
            _masters[key] = master;
            return true;
        }
        catch (PaastaException e)
        {
            context.Sink.Error(e);
            _masterFailed.Add(key);
            return false;
        }
    }
}
