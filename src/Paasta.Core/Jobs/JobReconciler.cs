using System.Text.Json.Nodes;
using Paasta.Tron;

namespace Paasta.Jobs;

/// <summary>One job to sync, with the image of each of its actions and the cluster's MASTER.yaml (for its default time_zone).</summary>
public sealed record JobSyncRequest(TronJob Job, IReadOnlyDictionary<string, ActionImage> Images, TronMasterSettings? Master = null);

/// <summary>A (service, cluster) whose CronJobs are synced in full: CronJobs of jobs no longer in soa-configs are removed.</summary>
public sealed record JobScope(string Service, string Cluster);

/// <summary>A decided change and what is needed to carry it out.</summary>
public sealed record JobPlanItem(JobSyncResult Result, CronJobPlan? Desired, JsonObject? Current)
{
    /// <summary>Why the job cannot become a CronJob (Failed items): the refusal with its ErrorId, job and file.</summary>
    public PaastaException? Error { get; init; }
}

/// <summary>
/// Makes the cluster's CronJobs match the Tron jobs of soa-configs: one LIST of Paasta's CronJobs, then
/// create, replace (when the config_sha differs) or delete; unchanged jobs are not written.
/// </summary>
public sealed class JobReconciler
{
    private readonly CronJobApi _api;

    public JobReconciler(CronJobApi api) => _api = api;

    public async Task<List<JobPlanItem>> PlanAsync(IReadOnlyList<JobSyncRequest> requests, IReadOnlyList<JobScope> prune, CancellationToken cancellation)
    {
        var live = (await _api.ListAsync(CronJobBuilder.Namespace, CronJobBuilder.ManagedSelector, cancellation).ConfigureAwait(false))
            .ToDictionary(o => o["metadata"]?["name"]?.GetValue<string>() ?? "", StringComparer.Ordinal);
        var plan = new List<JobPlanItem>();
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var request in requests)
        {
            var item = PlanOne(request, live);
            if (item.Result.Name is { } n) wanted.Add(n);
            plan.Add(item);
        }
        foreach (var (name, current) in live.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (wanted.Contains(name)) continue;
            var labels = current["metadata"]?["labels"] as JsonObject;
            string? Label(string key) => labels?[key]?.GetValue<string>();
            var scope = prune.FirstOrDefault(s => Label(CronJobBuilder.ServiceLabel) == CronJobBuilder.LabelValue(s.Service) && Label(CronJobBuilder.ClusterLabel) == CronJobBuilder.LabelValue(s.Cluster));
            if (scope is null) continue;
            var job = current["metadata"]?["annotations"]?[CronJobBuilder.JobAnnotation]?.GetValue<string>() ?? Label(CronJobBuilder.JobLabel) ?? name;
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
                OldConfigSha = Label(CronJobBuilder.ConfigShaLabel),
                Changes = new[] { $"delete CronJob {CronJobBuilder.Namespace}/{name}: job '{job}' is no longer in tron-{scope.Cluster}.yaml" },
            }, null, current));
        }
        return plan;
    }

    private JobPlanItem PlanOne(JobSyncRequest request, Dictionary<string, JsonObject> live)
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
            Suspended = !job.Enabled,
        };
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
            return new JobPlanItem(result with { Action = JobSyncAction.Failed, Message = e.Message }, null, null) { Error = e };
        }
        result = result with
        {
            Schedule = desired.Schedule,
            NewConfigSha = desired.ConfigSha,
            Actions = desired.Actions,
            Notes = desired.Notes,
        };
        if (!live.TryGetValue(name, out var current))
            return new JobPlanItem(result with
            {
                Action = JobSyncAction.Created,
                Changes = new[] { $"create CronJob {CronJobBuilder.Namespace}/{name} ({desired.Schedule}{(job.Enabled ? "" : ", suspended")}; actions {string.Join(" -> ", desired.Actions)})" },
            }, desired, null);
        var oldSha = current["metadata"]?["labels"]?[CronJobBuilder.ConfigShaLabel]?.GetValue<string>();
        result = result with { OldConfigSha = oldSha };
        if (oldSha == desired.ConfigSha) return new JobPlanItem(result with { Action = JobSyncAction.Unchanged }, desired, current);
        var changes = new List<string>();
        var oldSchedule = current["spec"]?["schedule"]?.GetValue<string>();
        if (oldSchedule != desired.Schedule) changes.Add($"schedule {oldSchedule} -> {desired.Schedule}");
        var oldSuspend = current["spec"]?["suspend"]?.GetValue<bool>() ?? false;
        if (oldSuspend != !job.Enabled) changes.Add(job.Enabled ? "resume (enabled)" : "suspend (enabled: false)");
        changes.Add($"config_sha {oldSha} -> {desired.ConfigSha}");
        return new JobPlanItem(result with { Action = JobSyncAction.Updated, Changes = changes }, desired, current);
    }

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
