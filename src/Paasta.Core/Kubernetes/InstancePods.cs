using k8s;
using k8s.Models;
using Paasta.Errors;

namespace Paasta.Kubernetes;

/// <summary>One pod of a Paasta instance as status, wait and monitoring see it.</summary>
public sealed class PaastaPod
{
    public required string Name { get; init; }
    public required string Namespace { get; init; }
    public required string Service { get; init; }
    public required string Instance { get; init; }
    public string? Cluster { get; init; }
    public string? Node { get; init; }
    public string? IP { get; init; }
    /// <summary>Pending, Running, Succeeded, Failed or Unknown.</summary>
    public string? Phase { get; init; }
    /// <summary>The pod's Ready condition is True.</summary>
    public bool Ready { get; init; }
    /// <summary>Being deleted (a deletionTimestamp is set): it no longer counts as a running copy.</summary>
    public bool Terminating { get; init; }
    /// <summary>Container restarts, summed over the pod's containers.</summary>
    public int Restarts { get; init; }
    public DateTimeOffset? Created { get; init; }
    public TimeSpan? Age { get; init; }
    public string? GitSha { get; init; }
    public string? ConfigSha { get; init; }
    public string? ImageVersion { get; init; }
    public string? Image { get; init; }
    /// <summary>Why the pod is not ready: ImagePullBackOff, ErrImagePull, CrashLoopBackOff, Unschedulable, ReadinessProbeFailing, Terminating...</summary>
    public string? Reason { get; init; }
    /// <summary>Details for Reason (the kubelet's or scheduler's message, the last probe failure).</summary>
    public string? Message { get; set; }

    /// <summary>Age as kubectl shows it (45s, 3m, 2h, 5d).</summary>
    public string AgeText => KubernetesPods.FormatAge(Age);

    /// <summary><c>sha8,config_sha</c>: the version a pod runs.</summary>
    public string Version => $"{(GitSha is { Length: > 8 } g ? g[..8] : GitSha ?? "?")}{(ImageVersion is null ? "" : "+" + ImageVersion)},{ConfigSha ?? "?"}";

    public override string ToString() =>
        $"{Name}  {(Ready ? "Ready" : "NotReady")}  restarts {Restarts}  {KubernetesPods.FormatAge(Age)}  {Node}  {IP}  {Version}" +
        (Reason is null ? "" : $"  {Reason}{(Message is null ? "" : ": " + Message)}");
}

/// <summary>Lists the pods of Paasta instances (one LIST by label, across namespaces) and explains the ones that are not ready.</summary>
public static class KubernetesPods
{
    /// <summary>A label selector for the pods of these services (all Paasta-managed pods when none are given).</summary>
    public static string SelectorFor(IEnumerable<string> services)
    {
        var list = services.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return list.Count switch
        {
            0 => $"{KubernetesObjectBuilder.ManagedLabel}=true",
            1 => $"{KubernetesObjectBuilder.ServiceLabel}={list[0]}",
            _ => $"{KubernetesObjectBuilder.ServiceLabel} in ({string.Join(",", list)})",
        };
    }

    /// <summary>The pods of the given services (one request), as <see cref="PaastaPod"/>s.</summary>
    public static async Task<List<PaastaPod>> ListAsync(KubeConnection kube, IEnumerable<string> services, CancellationToken cancellation, string? @namespace = null)
    {
        var selector = SelectorFor(services);
        var pods = @namespace is null
            ? await kube.Call(() => kube.Client.CoreV1.ListPodForAllNamespacesAsync(labelSelector: selector, cancellationToken: cancellation), "list the pods of Paasta instances").ConfigureAwait(false)
            : await kube.Call(() => kube.Client.CoreV1.ListNamespacedPodAsync(@namespace, labelSelector: selector, cancellationToken: cancellation), $"list the pods in {@namespace}").ConfigureAwait(false);
        var now = DateTimeOffset.UtcNow;
        return pods.Items.Where(p => p.Metadata.Labels?.ContainsKey(KubernetesObjectBuilder.InstanceLabel) == true).Select(p => From(p, now)).ToList();
    }

    /// <summary>
    /// Fills in Message for pods whose readiness probe fails, from the kubelet's latest "Unhealthy" event (one
    /// LIST of events per namespace that has such pods).
    /// </summary>
    public static async Task ExplainUnreadyAsync(KubeConnection kube, IReadOnlyList<PaastaPod> pods, CancellationToken cancellation)
    {
        var byNamespace = pods.Where(p => p.Reason == "ReadinessProbeFailing" || p.Reason == "LivenessProbeFailing").GroupBy(p => p.Namespace);
        foreach (var group in byNamespace)
        {
            Corev1EventList events;
            try
            {
                events = await kube.Call(() => kube.Client.CoreV1.ListNamespacedEventAsync(group.Key, fieldSelector: "involvedObject.kind=Pod,reason=Unhealthy", cancellationToken: cancellation),
                    $"list pod events in {group.Key}").ConfigureAwait(false);
            }
            catch (PaastaException) { continue; } // an explanation is a bonus, never a failure
            foreach (var pod in group)
            {
                var latest = events.Items.Where(e => e.InvolvedObject?.Name == pod.Name)
                    .OrderByDescending(e => e.LastTimestamp ?? e.EventTime ?? e.Metadata?.CreationTimestamp).FirstOrDefault();
                if (latest?.Message is { } message) pod.Message = message.Trim();
            }
        }
    }

    public static PaastaPod From(V1Pod pod, DateTimeOffset now)
    {
        var labels = pod.Metadata.Labels ?? new Dictionary<string, string>();
        string? Label(string key) => labels.TryGetValue(key, out var v) ? v : null;
        var statuses = pod.Status?.ContainerStatuses ?? new List<V1ContainerStatus>();
        var ready = pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;
        var created = pod.Metadata.CreationTimestamp is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : (DateTimeOffset?)null;
        var (reason, message) = Explain(pod, statuses, ready);
        return new PaastaPod
        {
            Name = pod.Metadata.Name,
            Namespace = pod.Metadata.NamespaceProperty,
            Service = Label(KubernetesObjectBuilder.ServiceLabel) ?? "",
            Instance = Label(KubernetesObjectBuilder.InstanceLabel) ?? "",
            Cluster = Label(KubernetesObjectBuilder.ClusterLabel),
            Node = pod.Spec?.NodeName,
            IP = pod.Status?.PodIP,
            Phase = pod.Status?.Phase,
            Ready = ready,
            Terminating = pod.Metadata.DeletionTimestamp is not null,
            Restarts = statuses.Sum(s => s.RestartCount),
            Created = created,
            Age = created is null ? null : now - created.Value,
            GitSha = Label(KubernetesObjectBuilder.GitShaLabel),
            ConfigSha = Label(ConfigSha.Label),
            ImageVersion = Label(KubernetesObjectBuilder.ImageVersionLabel),
            Image = pod.Spec?.Containers?.FirstOrDefault()?.Image,
            Reason = reason,
            Message = message,
        };
    }

    private static (string? Reason, string? Message) Explain(V1Pod pod, IList<V1ContainerStatus> statuses, bool ready)
    {
        if (pod.Metadata.DeletionTimestamp is not null) return ("Terminating", null);
        if (ready) return (null, null);
        var scheduled = pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled");
        if (scheduled is { Status: "False" }) return (scheduled.Reason ?? "Unschedulable", scheduled.Message);
        foreach (var s in statuses)
        {
            if (s.State?.Waiting is { Reason: { } w } waiting && w != "ContainerCreating" && w != "PodInitializing")
            {
                var last = s.LastState?.Terminated;
                var detail = waiting.Message ?? (last is null ? null : $"last exit code {last.ExitCode}{(last.Reason is null ? "" : $" ({last.Reason})")}");
                return (w, detail);
            }
        }
        foreach (var s in statuses)
            if (s.State?.Terminated is { } term) return (term.Reason ?? "Terminated", $"exit code {term.ExitCode}");
        foreach (var s in statuses)
            if (s.State?.Running is not null && s.Ready != true) return ("ReadinessProbeFailing", $"container {s.Name} is running but not ready");
        foreach (var s in statuses)
            if (s.State?.Waiting is { Reason: { } w }) return (w, s.State.Waiting.Message);
        return (pod.Status?.Phase ?? "Unknown", pod.Status?.Message);
    }

    /// <summary>kubectl's style: 45s, 3m, 2h, 5d.</summary>
    public static string FormatAge(TimeSpan? age) => age is not { } a ? "?"
        : a.TotalSeconds < 120 ? $"{Math.Max(0, (int)a.TotalSeconds)}s"
        : a.TotalMinutes < 120 ? $"{(int)a.TotalMinutes}m"
        : a.TotalHours < 48 ? $"{(int)a.TotalHours}h"
        : $"{(int)a.TotalDays}d";
}
