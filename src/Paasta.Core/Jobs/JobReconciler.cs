using System.Text.Json.Nodes;
using Paasta.Kubernetes;
using Paasta.Tron;
using Paasta.Errors;

namespace Paasta.Jobs;

/// <summary>One job to sync, with the image of each of its actions and the cluster's MASTER.yaml (for its default time_zone).</summary>
public sealed record JobSyncRequest(TronJob Job, IReadOnlyDictionary<string, ActionImage> Images, TronMasterSettings? Master = null);

/// <summary>
/// A (service, cluster) whose CronJobs are synced in full: CronJobs of jobs no longer in soa-configs are
/// removed. <paramref name="Configured"/> names every job its tron file still has, whether or not the job
/// could be planned (an image lookup may fail): those CronJobs are never removed.
/// </summary>
public sealed record JobScope(string Service, string Cluster, IReadOnlyCollection<string> Configured);

/// <summary>A decided change and what is needed to carry it out.</summary>
public sealed record JobPlanItem(JobSyncResult Result, CronJobPlan? Desired, JsonObject? Current)
{
    /// <summary>Why the job cannot become a CronJob (Failed items): the refusal with its ErrorId, job and file.</summary>
    public PaastaException? Error { get; init; }
}

/// <summary>
/// Makes the cluster's CronJobs match the Tron jobs of soa-configs: one LIST of Paasta's CronJobs, then
/// create, replace (when the config_sha differs) or delete; unchanged jobs are not written. A live
/// CronJob is only ever replaced or deleted for the service, cluster and job its labels name.
/// </summary>
public sealed class JobReconciler
{
    private readonly CronJobApi _api;

    public JobReconciler(CronJobApi api) => _api = api;

    public async Task<List<JobPlanItem>> PlanAsync(IReadOnlyList<JobSyncRequest> requests, IReadOnlyList<JobScope> prune, CancellationToken cancellation)
    {
        var live = await _api.ListAsync(CronJobBuilder.Namespace, CronJobBuilder.ManagedSelector, cancellation).ConfigureAwait(false);
        return Plan(requests, prune, live);
    }

    /// <summary>The plan against <paramref name="liveCronJobs"/> (Paasta's CronJobs in namespace tron), without a request.</summary>
    public List<JobPlanItem> Plan(IReadOnlyList<JobSyncRequest> requests, IReadOnlyList<JobScope> prune, IReadOnlyList<JsonObject> liveCronJobs)
    {
        var live = liveCronJobs.ToDictionary(o => o["metadata"]?["name"]?.GetValue<string>() ?? "", StringComparer.Ordinal);
        var plan = new List<JobPlanItem>();
        // CronJob name -> the job that claimed it first in this plan.
        var claimed = new Dictionary<string, TronJob>(StringComparer.Ordinal);
        foreach (var request in requests)
        {
            var item = PlanOne(request, live, claimed);
            plan.Add(item);
        }
        foreach (var (name, current) in live.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            // A name claimed by a job of this plan is that job's to write; a conflicting claim leaves it to its owner's scope.
            if (claimed.ContainsKey(name)) continue;
            var owner = CronJobOwner.Of(current);
            var scope = prune.FirstOrDefault(s => owner.IsService(s.Service, s.Cluster));
            if (scope is null) continue;
            if (scope.Configured.Any(owner.IsJob)) continue; // still configured, only not planned this time
            var job = owner.Job ?? owner.JobLabel ?? name;
            plan.Add(new JobPlanItem(new JobSyncResult
            {
                Service = scope.Service,
                Cluster = scope.Cluster,
                Job = job,
                Namespace = CronJobBuilder.Namespace,
                Name = name,
                Action = JobSyncAction.Deleted,
                ApiVersion = _api.ApiVersion,
                Schedule = current["spec"]?["schedule"]?.GetValue<string>(),
                OldConfigSha = current["metadata"]?["labels"]?[CronJobBuilder.ConfigShaLabel]?.GetValue<string>(),
                Changes = new[] { $"delete CronJob {CronJobBuilder.Namespace}/{name}: job '{job}' is no longer in tron-{scope.Cluster}.yaml" },
            }, null, current));
        }
        return plan;
    }

    private JobPlanItem PlanOne(JobSyncRequest request, Dictionary<string, JsonObject> live, Dictionary<string, TronJob> claimed)
    {
        var job = request.Job;
        var name = CronJobBuilder.CronJobName(job.Service, job.Name);
        var result = new JobSyncResult
        {
            Service = job.Service,
            Cluster = job.Cluster,
            Job = job.Name,
            Namespace = CronJobBuilder.Namespace,
            Name = name,
            ApiVersion = _api.ApiVersion,
            TronSchedule = job.ScheduleRaw is null ? null : TronSchedule.Describe(job.ScheduleRaw).Trim('\''),
            Suspended = CronJobBuilder.Suspends(job),
            StoppedActions = job.StoppedActions,
        };
        live.TryGetValue(name, out var current);
        if (claimed.TryGetValue(name, out var first))
            return Refuse(result, Conflict(job, name, $"job '{first.Name}' of {first.Service} on {first.Cluster}, synced in the same run"));
        if (current is not null && CronJobOwner.Of(current) is var owner && !owner.Is(job.Service, job.Cluster, job.Name))
            return Refuse(result, Conflict(job, name, owner.ToString()));
        claimed[name] = job;

        var missing = job.Actions.Where(a => a.RunsContainer && (!request.Images.TryGetValue(a.Name, out var i) || !i.HasImage)).ToList();
        if (missing.Count > 0)
            return new JobPlanItem(result with
            {
                Action = JobSyncAction.NoDeployment,
                Message = string.Join("; ", missing.Select(a => $"action '{a.Name}': deploy group '{a.Instance.DeployGroup}' of {a.ActionService} has no deployment in deployments.json yet")),
            }, null, null);
        CronJobPlan desired;
        try
        {
            desired = CronJobBuilder.Build(job, request.Images, _api.Target, request.Master);
        }
        catch (PaastaException e)
        {
            return Refuse(result, e);
        }
        result = result with
        {
            Schedule = desired.Schedule,
            NewConfigSha = desired.ConfigSha,
            Actions = desired.Actions,
            Notes = desired.Notes,
        };
        if (current is null)
            return new JobPlanItem(result with
            {
                Action = JobSyncAction.Created,
                Changes = new[] { $"create CronJob {CronJobBuilder.Namespace}/{name} ({desired.Schedule}{(CronJobBuilder.Suspends(job) ? ", suspended" : "")}; actions {string.Join(" -> ", desired.Actions)})" },
            }, desired, null);
        var oldSha = current["metadata"]?["labels"]?[CronJobBuilder.ConfigShaLabel]?.GetValue<string>();
        result = result with { OldConfigSha = oldSha };
        if (oldSha == desired.ConfigSha) return new JobPlanItem(result with { Action = JobSyncAction.Unchanged }, desired, current);
        var changes = new List<string>();
        var oldSuspend = current["spec"]?["suspend"]?.GetValue<bool>() ?? false;
        var suspend = CronJobBuilder.Suspends(job);
        if (oldSuspend != suspend)
            changes.Add(!suspend ? "resume (enabled)"
                : job.Stopped ? $"suspend (stopped: {string.Join(", ", job.StoppedActions)}; until the next deploy)"
                : "suspend (enabled: false)");
        // Field by field, what the replacement changes (the version label is reported on its own line).
        var skip = new HashSet<string>(StringComparer.Ordinal) { CronJobBuilder.ConfigShaLabel, "suspend", CronJobBuilder.StoppedAnnotation };
        changes.AddRange(ObjectDiff.Describe(current["metadata"], desired.Body["metadata"], "metadata", skipKeys: skip));
        changes.AddRange(ObjectDiff.Describe(current["spec"], desired.Body["spec"], "spec", skipKeys: skip));
        changes.Add($"config_sha {oldSha} -> {desired.ConfigSha}");
        return new JobPlanItem(result with { Action = JobSyncAction.Updated, Changes = changes }, desired, current);
    }

    private static JobPlanItem Refuse(JobSyncResult result, PaastaException e) =>
        new(result with { Action = JobSyncAction.Failed, Message = e.Message }, null, null) { Error = e };

    private static PaastaException Conflict(TronJob job, string name, string owner) =>
        new("CronJobNameConflict", PaastaErrorKind.InvalidOperation,
            $"Job '{job.Name}' of {job.Service} on {job.Cluster} would be CronJob {CronJobBuilder.Namespace}/{name}, which belongs to {owner}; " +
            "Paasta never replaces or deletes another job's CronJob. CronJob names are sanitise(service)-sanitise(job), so service a-b job c and service a job b-c meet: rename one of the jobs.")
        { File = job.File, Line = job.Line, Key = job.Name, Target = job };

    /// <summary>Carries out one planned change; nothing for Unchanged, NoDeployment and Failed items.</summary>
    public async Task ApplyAsync(JobPlanItem item, CancellationToken cancellation)
    {
        var (result, desired, current) = item;
        switch (result.Action)
        {
            case JobSyncAction.Created:
                await _api.EnsureNamespaceAsync(desired!.Namespace, cancellation).ConfigureAwait(false);
                await _api.CreateAsync(desired.Namespace, (JsonObject)desired.Body.DeepClone(), cancellation).ConfigureAwait(false);
                break;
            case JobSyncAction.Updated:
                var version = current!["metadata"]?["resourceVersion"]?.GetValue<string>() ?? "";
                await _api.ReplaceAsync(desired!.Namespace, desired.Name, (JsonObject)desired.Body.DeepClone(), version, cancellation).ConfigureAwait(false);
                break;
            case JobSyncAction.Deleted:
                await _api.DeleteAsync(result.Namespace!, result.Name!, cancellation).ConfigureAwait(false);
                break;
        }
    }
}
