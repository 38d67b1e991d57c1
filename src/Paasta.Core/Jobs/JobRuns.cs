using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Paasta.Kubernetes;
using Paasta.Errors;

namespace Paasta.Jobs;

/// <summary>What the job operations read and start on a cluster; <see cref="JobRuns"/> on a real one, stand-ins in tests.</summary>
public interface IJobRunStore
{
    /// <summary>Jobs with their last run, optionally of one service and cluster.</summary>
    Task<List<JobInfo>> ListAsync(string? service, string? cluster, CancellationToken cancellation);
    /// <summary>The CronJob, or null when there is none of that name.</summary>
    Task<JsonObject?> GetCronJobAsync(string ns, string name, CancellationToken cancellation);
    JobInfo Describe(JsonObject cronJob);
    Task<JobRun> StartRunAsync(JsonObject cronJob, CancellationToken cancellation);
    /// <summary>The run as it is now; once finished, with the failed action and each action's output.</summary>
    Task<JobRun> RefreshAsync(JobRun run, CancellationToken cancellation);
}

/// <summary>
/// Reads Paasta's CronJobs and their runs (Kubernetes Jobs and their pods) and starts runs on demand:
/// the engine of Get-PaastaJob and Start-PaastaJob.
/// </summary>
public sealed class JobRuns : IJobRunStore
{
    private readonly CronJobApi _api;
    private KubeConnection Kube => _api.Kube;

    public JobRuns(CronJobApi api) => _api = api;

    /// <summary>A label selector for Paasta's CronJobs and runs, optionally of one service and cluster.</summary>
    public static string Selector(string? service = null, string? cluster = null) =>
        CronJobBuilder.ManagedSelector
        + (service is null ? "" : $",{CronJobBuilder.ServiceLabel}={CronJobBuilder.LabelValue(service)}")
        + (cluster is null ? "" : $",{CronJobBuilder.ClusterLabel}={CronJobBuilder.LabelValue(cluster)}");

    /// <summary>Jobs with their last run: three LISTs (CronJobs, Jobs, pods) whatever their number.</summary>
    public async Task<List<JobInfo>> ListAsync(string? service, string? cluster, CancellationToken cancellation)
    {
        var ns = CronJobBuilder.Namespace;
        var selector = Selector(service, cluster);
        var cronJobs = await _api.ListAsync(ns, selector, cancellation).ConfigureAwait(false);
        if (cronJobs.Count == 0) return new List<JobInfo>();
        var runs = await Kube.Call(() => Kube.Client.BatchV1.ListNamespacedJobAsync(ns, labelSelector: selector, cancellationToken: cancellation), $"list Jobs in {ns}").ConfigureAwait(false);
        var pods = await Kube.Call(() => Kube.Client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: selector, cancellationToken: cancellation), $"list pods in {ns}").ConfigureAwait(false);
        var result = new List<JobInfo>();
        foreach (var cj in cronJobs)
        {
            var name = cj["metadata"]!["name"]!.GetValue<string>();
            var uid = cj["metadata"]?["uid"]?.GetValue<string>();
            var jobLabel = cj["metadata"]?["labels"]?[CronJobBuilder.JobLabel]?.GetValue<string>();
            var mine = runs.Items.Where(j => (j.Metadata.OwnerReferences?.Any(o => o.Uid == uid) ?? false)
                || (j.Metadata.Labels?.TryGetValue(CronJobBuilder.JobLabel, out var l) == true && l == jobLabel
                    && j.Metadata.Labels.TryGetValue(CronJobBuilder.ServiceLabel, out var s) && s == cj["metadata"]?["labels"]?[CronJobBuilder.ServiceLabel]?.GetValue<string>()))
                .OrderBy(j => j.Status?.StartTime ?? j.Metadata.CreationTimestamp).ToList();
            var last = mine.LastOrDefault();
            var actions = Actions(cj);
            result.Add(Info(cj, last, last is null ? null : FailedAction(last, pods.Items, actions)));
        }
        return result.OrderBy(j => j.Service, StringComparer.Ordinal).ThenBy(j => j.Job, StringComparer.Ordinal).ToList();
    }

    public JobInfo Info(JsonObject cj, V1Job? last, string? failedAction)
    {
        var meta = cj["metadata"]!;
        string? Label(string key) => meta["labels"]?[key]?.GetValue<string>();
        var spec = cj["spec"];
        var status = cj["status"];
        return new JobInfo
        {
            Service = Label(CronJobBuilder.ServiceLabel) ?? "",
            Cluster = Label(CronJobBuilder.ClusterLabel) ?? "",
            Job = meta["annotations"]?[CronJobBuilder.JobAnnotation]?.GetValue<string>() ?? Label(CronJobBuilder.JobLabel) ?? "",
            Namespace = meta["namespace"]?.GetValue<string>() ?? CronJobBuilder.Namespace,
            Name = meta["name"]!.GetValue<string>(),
            Schedule = spec?["schedule"]?.GetValue<string>(),
            TronSchedule = meta["annotations"]?[CronJobBuilder.TronScheduleAnnotation]?.GetValue<string>(),
            Suspended = spec?["suspend"]?.GetValue<bool>() ?? false,
            StoppedActions = (meta["annotations"]?[CronJobBuilder.StoppedAnnotation]?.GetValue<string>() ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries),
            ConcurrencyPolicy = spec?["concurrencyPolicy"]?.GetValue<string>(),
            LastScheduleTime = status?["lastScheduleTime"] is JsonValue t && DateTime.TryParse(t.GetValue<string>(), null, System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out var when) ? when : null,
            Active = (status?["active"] as JsonArray)?.Count ?? 0,
            LastRun = last?.Metadata.Name,
            LastRunStarted = last?.Status?.StartTime,
            LastRunFinished = last?.Status?.CompletionTime ?? last?.Status?.Conditions?.FirstOrDefault(c => c.Type == "Failed" && c.Status == "True")?.LastTransitionTime,
            LastRunOutcome = last is null ? JobRunOutcome.None : Outcome(last),
            FailedAction = failedAction,
            Actions = Actions(cj),
            ConfigSha = Label(CronJobBuilder.ConfigShaLabel),
            ApiVersion = cj["apiVersion"]?.GetValue<string>() ?? _api.ApiVersion,
        };
    }

    public static JobRunOutcome Outcome(V1Job job)
    {
        var conditions = job.Status?.Conditions ?? new List<V1JobCondition>();
        if (conditions.Any(c => c.Type == "Complete" && c.Status == "True")) return JobRunOutcome.Succeeded;
        if (conditions.Any(c => c.Type == "Failed" && c.Status == "True")) return JobRunOutcome.Failed;
        return (job.Status?.Active ?? 0) > 0 ? JobRunOutcome.Running : JobRunOutcome.Pending;
    }

    /// <summary>The actions in run order, from the CronJob's annotation.</summary>
    public static IReadOnlyList<string> Actions(JsonObject cj) =>
        (cj["metadata"]?["annotations"]?[CronJobBuilder.ActionsAnnotation]?.GetValue<string>() ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The action whose container exited non-zero in the run's pod (init containers first: they run first).</summary>
    public static string? FailedAction(V1Job job, IEnumerable<V1Pod> pods, IReadOnlyList<string> actions)
    {
        if (Outcome(job) != JobRunOutcome.Failed) return null;
        foreach (var pod in pods.Where(p => p.Metadata.Labels?.TryGetValue("job-name", out var n) == true && n == job.Metadata.Name))
        {
            var statuses = (pod.Status?.InitContainerStatuses ?? new List<V1ContainerStatus>()).Concat(pod.Status?.ContainerStatuses ?? new List<V1ContainerStatus>());
            foreach (var s in statuses)
            {
                if (s.State?.Terminated is { ExitCode: not 0 } || s.LastState?.Terminated is { ExitCode: not 0 })
                    return actions.FirstOrDefault(a => Config.Names.Sanitise(a) == s.Name) ?? s.Name;
            }
        }
        return null;
    }

    /// <summary>Starts one run now: a Job made from the CronJob's template, owned by the CronJob (as kubectl create job --from does).</summary>
    public async Task<V1Job> StartAsync(JsonObject cronJob, CancellationToken cancellation)
    {
        var meta = cronJob["metadata"]!;
        var name = meta["name"]!.GetValue<string>();
        var ns = meta["namespace"]?.GetValue<string>() ?? CronJobBuilder.Namespace;
        var template = cronJob["spec"]?["jobTemplate"] ?? throw new PaastaException("JobNotRunnable", PaastaErrorKind.InvalidData, $"CronJob {ns}/{name} has no job template.") { Target = name };
        var spec = KubernetesJson.Deserialize<V1JobSpec>(template["spec"]!.ToJsonString());
        var labels = KubernetesJson.Deserialize<Dictionary<string, string>>(template["metadata"]?["labels"]?.ToJsonString() ?? "{}");
        var annotations = KubernetesJson.Deserialize<Dictionary<string, string>>(template["metadata"]?["annotations"]?.ToJsonString() ?? "{}");
        annotations["cronjob.kubernetes.io/instantiate"] = "manual";
        var prefix = name.Length > 48 ? name[..48] : name;
        var job = new V1Job
        {
            ApiVersion = "batch/v1",
            Kind = "Job",
            Metadata = new V1ObjectMeta
            {
                GenerateName = $"{prefix}-manual-",
                NamespaceProperty = ns,
                Labels = labels,
                Annotations = annotations,
                OwnerReferences = new List<V1OwnerReference>
                {
                    new()
                    {
                        ApiVersion = cronJob["apiVersion"]?.GetValue<string>() ?? _api.ApiVersion,
                        Kind = "CronJob",
                        Name = name,
                        Uid = meta["uid"]!.GetValue<string>(),
                        Controller = true,
                        BlockOwnerDeletion = true,
                    },
                },
            },
            Spec = spec,
        };
        return await Kube.Call(() => Kube.Client.BatchV1.CreateNamespacedJobAsync(job, ns, cancellationToken: cancellation), $"start a run of CronJob {ns}/{name}").ConfigureAwait(false);
    }

    public Task<JsonObject?> GetCronJobAsync(string ns, string name, CancellationToken cancellation) => _api.GetAsync(ns, name, cancellation);

    /// <summary>The CronJob as a JobInfo without its runs (what Start-PaastaJob needs to name the run).</summary>
    public JobInfo Describe(JsonObject cronJob) => Info(cronJob, null, null);

    /// <summary>Starts one run now (see <see cref="StartAsync"/>) and describes it: Pending, with the Job's name.</summary>
    public async Task<JobRun> StartRunAsync(JsonObject cronJob, CancellationToken cancellation)
    {
        var info = Describe(cronJob);
        var job = await StartAsync(cronJob, cancellation).ConfigureAwait(false);
        return new JobRun
        {
            Service = info.Service,
            Cluster = info.Cluster,
            Job = info.Job,
            Namespace = job.Metadata.NamespaceProperty ?? info.Namespace,
            Name = job.Metadata.Name,
            Outcome = JobRunOutcome.Pending,
            Actions = info.Actions,
        };
    }

    /// <summary>
    /// The run as it is now. Once it has finished (succeeded or failed), also which action failed and each
    /// action's output, read from its pod.
    /// </summary>
    public async Task<JobRun> RefreshAsync(JobRun run, CancellationToken cancellation)
    {
        var job = await ReadRunAsync(run.Namespace, run.Name, cancellation).ConfigureAwait(false);
        var outcome = Outcome(job);
        run = run with
        {
            Outcome = outcome,
            Started = job.Status?.StartTime,
            Finished = job.Status?.CompletionTime ?? job.Status?.Conditions?.FirstOrDefault(c => c.Type == "Failed" && c.Status == "True")?.LastTransitionTime,
        };
        if (outcome is not (JobRunOutcome.Succeeded or JobRunOutcome.Failed)) return run;
        var pods = await PodsOfRunAsync(run.Namespace, run.Name, cancellation).ConfigureAwait(false);
        var pod = pods.OrderBy(p => p.Metadata.CreationTimestamp).LastOrDefault();
        var output = pod is null ? new Dictionary<string, string>() : await OutputAsync(run.Namespace, pod, run.Actions, cancellation).ConfigureAwait(false);
        return run with { FailedAction = FailedAction(job, pods, run.Actions), Output = output };
    }

    public async Task<V1Job> ReadRunAsync(string ns, string name, CancellationToken cancellation) =>
        await Kube.Call(() => Kube.Client.BatchV1.ReadNamespacedJobAsync(name, ns, cancellationToken: cancellation), $"read Job {ns}/{name}").ConfigureAwait(false);

    /// <summary>The run's pods (normally one).</summary>
    public async Task<IList<V1Pod>> PodsOfRunAsync(string ns, string run, CancellationToken cancellation) =>
        (await Kube.Call(() => Kube.Client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: $"job-name={run}", cancellationToken: cancellation), $"list the pods of Job {ns}/{run}").ConfigureAwait(false)).Items;

    /// <summary>Each action's output in run order (actions whose container never started are left out).</summary>
    public async Task<Dictionary<string, string>> OutputAsync(string ns, V1Pod pod, IReadOnlyList<string> actions, CancellationToken cancellation)
    {
        var output = new Dictionary<string, string>(StringComparer.Ordinal);
        var containers = (pod.Spec.InitContainers ?? new List<V1Container>()).Concat(pod.Spec.Containers).Select(c => c.Name).ToList();
        var started = (pod.Status?.InitContainerStatuses ?? new List<V1ContainerStatus>()).Concat(pod.Status?.ContainerStatuses ?? new List<V1ContainerStatus>())
            .Where(s => s.State?.Terminated is not null || s.State?.Running is not null).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var container in containers.Where(started.Contains))
        {
            var action = actions.FirstOrDefault(a => Config.Names.Sanitise(a) == container) ?? container;
            try
            {
                using var stream = await Kube.Client.CoreV1.ReadNamespacedPodLogAsync(pod.Metadata.Name, ns, container: container, cancellationToken: cancellation).ConfigureAwait(false);
                using var reader = new StreamReader(stream);
                output[action] = await reader.ReadToEndAsync(cancellation).ConfigureAwait(false);
            }
            catch (HttpOperationException e) when (e.Response?.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound)
            {
                output[action] = "";
            }
        }
        return output;
    }
}
