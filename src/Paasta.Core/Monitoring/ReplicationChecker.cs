using System.Text.Json;
using System.Collections.Concurrent;
using k8s;
using k8s.Models;
using Paasta.Deployments;
using Paasta.Kubernetes;
using Paasta.Config;
using Paasta.Errors;

namespace Paasta.Monitoring;

/// <summary>An instance to check, with its desired state from deployments.json.</summary>
public sealed record ReplicationTarget(InstanceConfig Instance, string DesiredState);

/// <summary>Instances split into those deployed (to check) and those skipped, with the reason.</summary>
public sealed class ReplicationSelection
{
    public List<ReplicationTarget> Targets { get; } = new();
    public List<(InstanceConfig Instance, string Reason)> NotDeployed { get; } = new();
    /// <summary>Instances whose deployments.json exists but cannot be read: whether they are deployed is unknown.</summary>
    public List<(InstanceConfig Instance, string Reason)> Unchecked { get; } = new();
    public List<PaastaException> Errors { get; } = new();

    /// <summary>
    /// Keeps the deployed instances, as the replication check does (docs/BEHAVIOUR.md §8.1): an instance whose deploy group has
    /// no docker image, or which has no control entry, in its service's deployments.json is not deployed and is
    /// skipped; so is a service without deployments.json. One that exists but cannot be read leaves its instances
    /// unchecked, not skipped. Each service's file is read once.
    /// </summary>
    public static ReplicationSelection Of(IEnumerable<InstanceConfig> instances)
    {
        var selection = new ReplicationSelection();
        var documents = new Dictionary<string, (DeploymentsDocument? Document, PaastaException? Error)>(StringComparer.Ordinal);
        foreach (var instance in instances)
        {
            var dir = Path.Combine(instance.SoaDir, instance.Service);
            if (!documents.TryGetValue(dir, out var loaded))
            {
                try { loaded = (DeploymentsFileStore.Load(DeploymentsFileStore.PathFor(dir), instance.Service), null); }
                catch (PaastaException e) when (e.ErrorId == "DeploymentsFileNotFound") { loaded = (null, null); }
                catch (PaastaException e) { selection.Errors.Add(e); loaded = (null, e); }
                documents[dir] = loaded;
            }
            var job = ReplicationMath.JobId(instance.Service, instance.Instance);
            if (loaded.Error is { } error)
            {
                selection.Unchecked.Add((instance, $"{job}: {instance.Service}'s deployments.json cannot be read ({error.ErrorId})"));
                continue;
            }
            if (loaded.Document is not { } document)
            {
                selection.NotDeployed.Add((instance, $"{job}: {instance.Service} has no deployments.json"));
                continue;
            }
            if (instance.DeployGroup is null || !document.Deployments.TryGetValue(instance.DeployGroup, out var deployment)
                || string.IsNullOrEmpty(deployment.DockerImage))
            {
                selection.NotDeployed.Add((instance, $"{job}: deploy group {instance.DeployGroup ?? "(none)"} has no docker image in deployments.json"));
                continue;
            }
            if (!document.Controls.TryGetValue($"{instance.Service}:{instance.Branch}", out var control))
            {
                selection.NotDeployed.Add((instance, $"{job}: no control entry {instance.Service}:{instance.Branch} in deployments.json"));
                continue;
            }
            selection.Targets.Add(new ReplicationTarget(instance, control.DesiredState ?? "start"));
        }
        return selection;
    }
}

/// <summary>What the cluster says about one namespace: Ready pods and controller replicas per (service, instance).</summary>
public sealed class NamespaceReplicas
{
    public Dictionary<(string Service, string Instance), int> ReadyPods { get; } = new();
    /// <summary>spec.replicas by (service, instance, kind): an instance reads the kind it runs as, not a leftover of the other.</summary>
    public Dictionary<(string Service, string Instance, ReplicaControllers Kind), long> ControllerReplicas { get; } = new();
    public int PodsListed { get; set; }
}

/// <summary>Which controllers a namespace read lists besides the pods: those whose live replicas an autoscaled instance needs.</summary>
[Flags]
public enum ReplicaControllers
{
    None = 0,
    Deployments = 1,
    /// <summary>Instances with persistent_volumes run as StatefulSets (docs/BEHAVIOUR.md §5.4).</summary>
    StatefulSets = 2,
}

/// <summary>Reads a namespace's pods (and, when asked, its Deployments and StatefulSets) for the replication check.</summary>
public interface IReplicaReader
{
    Task<NamespaceReplicas> ReadAsync(string ns, IReadOnlyCollection<string> services, ReplicaControllers controllers, CancellationToken cancellation);
}

/// <summary>
/// One LIST of pods per namespace, selected by the labels the reconciler puts on them (docs/BEHAVIOUR.md §5.5), counted per
/// (<c>paasta.yelp.com/service</c>, <c>paasta.yelp.com/instance</c>) when their Ready condition is True; the same
/// for Deployments and StatefulSets (spec.replicas), each listed only when an autoscaled instance of that kind
/// needs its live replica count.
/// </summary>
public sealed class KubernetesReplicaReader : IReplicaReader
{
    public const string ServiceLabel = "paasta.yelp.com/service";
    public const string InstanceLabel = "paasta.yelp.com/instance";

    private readonly KubeConnection _kube;

    public KubernetesReplicaReader(KubeConnection kube) => _kube = kube;

    public static string Selector(IEnumerable<string> services) =>
        $"{ServiceLabel} in ({string.Join(",", services.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))}),{InstanceLabel}";

    public async Task<NamespaceReplicas> ReadAsync(string ns, IReadOnlyCollection<string> services, ReplicaControllers controllers, CancellationToken cancellation)
    {
        var selector = Selector(services);
        var result = new NamespaceReplicas();
        // Only labels and the Ready condition are needed: read as JSON, not as V1Pod (KubeConnection.GetJsonAsync).
        using (var pods = await _kube.Call(() => _kube.GetJsonAsync(
                   $"api/v1/namespaces/{Uri.EscapeDataString(ns)}/pods?labelSelector={Uri.EscapeDataString(selector)}", cancellation),
                   $"list the pods of namespace {ns}").ConfigureAwait(false))
        {
            foreach (var pod in KubeJson.Items(pods.RootElement))
            {
                result.PodsListed++;
                if (Key(pod) is not { } key) continue;
                result.ReadyPods.TryGetValue(key, out var n);
                result.ReadyPods[key] = IsReady(pod) ? n + 1 : n;
            }
        }
        // Controllers too: only labels and spec.replicas are needed (LiveControllers says why JSON).
        if (controllers.HasFlag(ReplicaControllers.Deployments))
            await ReadControllersAsync(ns, "deployments", selector, ReplicaControllers.Deployments, result, cancellation).ConfigureAwait(false);
        if (controllers.HasFlag(ReplicaControllers.StatefulSets))
            await ReadControllersAsync(ns, "statefulsets", selector, ReplicaControllers.StatefulSets, result, cancellation).ConfigureAwait(false);
        return result;
    }

    private async Task ReadControllersAsync(string ns, string plural, string selector, ReplicaControllers kind, NamespaceReplicas result, CancellationToken cancellation)
    {
        using var list = await _kube.Call(() => _kube.GetJsonAsync(
            $"apis/apps/v1/namespaces/{Uri.EscapeDataString(ns)}/{plural}?labelSelector={Uri.EscapeDataString(selector)}", cancellation),
            $"list the {plural} of namespace {ns}").ConfigureAwait(false);
        foreach (var item in KubeJson.Items(list.RootElement))
            if (Key(item) is var (s, i))
                result.ControllerReplicas[(s, i, kind)] = KubeJson.Int(KubeJson.Object(item, "spec"), "replicas") ?? 1;
    }

    /// <summary>A pod is available when its Ready condition is True (terminating pods still count until they are not Ready).</summary>
    public static bool IsReady(V1Pod pod) =>
        pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    /// <summary>As <see cref="IsReady(V1Pod)"/>, for a pod read as JSON.</summary>
    public static bool IsReady(JsonElement pod) =>
        KubeJson.Property(KubeJson.Object(pod, "status"), "conditions") is { ValueKind: JsonValueKind.Array } conditions
        && conditions.EnumerateArray().Any(c => KubeJson.String(c, "type") == "Ready" && KubeJson.String(c, "status") == "True");

    private static (string, string)? Key(JsonElement pod) =>
        KubeJson.Object(KubeJson.Object(pod, "metadata"), "labels") is { } labels
        && KubeJson.String(labels, ServiceLabel) is { } s && KubeJson.String(labels, InstanceLabel) is { } i ? (s, i) : null;
}

/// <summary>Options of a replication run.</summary>
public sealed class ReplicationOptions
{
    /// <summary>Critical when at least this share (percent) of mesh-checked instances is under-replicated ...</summary>
    public double CriticalPercent { get; init; } = 10;
    /// <summary>... and at least this many.</summary>
    public int MinCountCritical { get; init; } = 5;
    /// <summary>Mesh locations with their HAProxy stats sources; empty = every instance is counted by pods.</summary>
    public IReadOnlyList<HaproxyLocation> MeshLocations { get; init; } = Array.Empty<HaproxyLocation>();
    /// <summary>Namespaces read at the same time.</summary>
    public int Parallelism { get; init; } = 8;
}

/// <summary>Progress of a run: namespaces done out of all, and the last one finished.</summary>
public sealed record ReplicationProgress(int Done, int Total, string Namespace, int Pods);

/// <summary>What a run found: one result per checked instance, and the errors that left instances unchecked.</summary>
public sealed class ReplicationRun
{
    public List<ReplicationCheckResult> Results { get; } = new();
    public List<PaastaException> Errors { get; } = new();
    public List<string> Unchecked { get; } = new();
}

/// <summary>
/// check_kubernetes_services_replication for a set of deployed instances: reads each namespace once (several at
/// a time), reads each mesh location's HAProxy stats once, and computes every instance's result.
/// </summary>
public sealed class ReplicationChecker
{
    private readonly IReplicaReader _replicas;
    private readonly Func<HaproxyLocation, CancellationToken, Task<HaproxyCounts>> _meshCounter;
    private readonly ReplicationOptions _options;
    private readonly ConcurrentDictionary<string, Lazy<Task<HaproxyCounts>>> _meshCache = new(StringComparer.Ordinal);

    public ReplicationChecker(IReplicaReader replicas, Func<HaproxyLocation, CancellationToken, Task<HaproxyCounts>> meshCounter, ReplicationOptions options)
    {
        _replicas = replicas;
        _meshCounter = meshCounter;
        _options = options;
    }

    /// <summary>The controller an instance runs as: a StatefulSet when persistent_volumes is set, else a Deployment.</summary>
    public static ReplicaControllers ControllerOf(InstanceConfig instance) =>
        KubernetesObjectBuilder.UsesStatefulSet(instance) ? ReplicaControllers.StatefulSets : ReplicaControllers.Deployments;

    /// <summary>
    /// Mesh-based counting applies when the instance's mesh namespace has a non-null proxy_port and its first
    /// registration is the instance itself (a canary registered under main is counted by its pods), and mesh
    /// locations were given.
    /// </summary>
    public static bool IsMeshChecked(InstanceConfig instance) =>
        instance.ProxyPort is not null && instance.Registrations.Count > 0
        && instance.Registrations[0] == ReplicationMath.JobId(instance.Service, instance.Instance);

    public async Task<ReplicationRun> RunAsync(IReadOnlyList<ReplicationTarget> targets, Action<ReplicationProgress>? progress, CancellationToken cancellation)
    {
        var run = new ReplicationRun();
        var byNamespace = targets.GroupBy(t => t.Instance.Namespace, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        var done = 0;
        using var gate = new SemaphoreSlim(Math.Max(1, _options.Parallelism));
        var work = byNamespace.Select(async group =>
        {
            await gate.WaitAsync(cancellation).ConfigureAwait(false);
            try
            {
                var outcome = await CheckNamespaceAsync(group.Key, group.ToList(), cancellation).ConfigureAwait(false);
                progress?.Invoke(new ReplicationProgress(Interlocked.Increment(ref done), byNamespace.Count, group.Key, outcome.Pods));
                return outcome;
            }
            finally { gate.Release(); }
        }).ToList();
        foreach (var outcome in await Task.WhenAll(work).ConfigureAwait(false))
        {
            run.Results.AddRange(outcome.Results);
            run.Unchecked.AddRange(outcome.Unchecked);
            foreach (var e in outcome.Errors)
                if (!run.Errors.Any(x => x.Message == e.Message)) run.Errors.Add(e); // one error per failing location, not per instance
        }
        run.Results.Sort((a, b) => string.CompareOrdinal(a.Service + "\0" + a.Instance, b.Service + "\0" + b.Instance));
        run.Unchecked.Sort(StringComparer.Ordinal);
        return run;
    }

    private sealed record NamespaceOutcome(List<ReplicationCheckResult> Results, List<string> Unchecked, List<PaastaException> Errors, int Pods);

    private async Task<NamespaceOutcome> CheckNamespaceAsync(string ns, List<ReplicationTarget> targets, CancellationToken cancellation)
    {
        var results = new List<ReplicationCheckResult>();
        var notChecked = new List<string>();
        var errors = new List<PaastaException>();
        NamespaceReplicas replicas;
        try
        {
            var services = targets.Select(t => t.Instance.Service).ToList();
            var controllers = ReplicaControllers.None;
            foreach (var t in targets.Where(t => t.Instance.IsAutoscaled)) controllers |= ControllerOf(t.Instance);
            replicas = await _replicas.ReadAsync(ns, services, controllers, cancellation).ConfigureAwait(false);
        }
        catch (Exception e) when (e is PaastaException || !cancellation.IsCancellationRequested)
        {
            errors.Add(e as PaastaException ?? new PaastaException("ReplicationReadFailed", PaastaErrorKind.ReadError,
                $"Could not read the pods of namespace {ns}: {e.Message}", e) { Target = ns });
            notChecked.AddRange(targets.Select(t => ReplicationMath.JobId(t.Instance.Service, t.Instance.Instance)));
            return new NamespaceOutcome(results, notChecked, errors, 0);
        }

        foreach (var target in targets)
        {
            var i = target.Instance;
            var key = (i.Service, i.Instance);
            long? live = replicas.ControllerReplicas.TryGetValue((i.Service, i.Instance, ControllerOf(i)), out var r) ? r : null;
            var expected = ReplicationMath.ExpectedCount(i, target.DesiredState, live);
            if (_options.MeshLocations.Count > 0 && IsMeshChecked(i))
            {
                try { results.Add(await MeshResultAsync(target, expected, cancellation).ConfigureAwait(false)); }
                catch (PaastaException e)
                {
                    errors.Add(e);
                    notChecked.Add(ReplicationMath.JobId(i.Service, i.Instance));
                }
            }
            else
            {
                replicas.ReadyPods.TryGetValue(key, out var ready);
                results.Add(PodResult(target, expected, ready));
            }
        }
        return new NamespaceOutcome(results, notChecked, errors, replicas.PodsListed);
    }

    /// <summary>Pod-based result (docs/BEHAVIOUR.md §8.4).</summary>
    public static ReplicationCheckResult PodResult(ReplicationTarget target, long expected, long ready)
    {
        var i = target.Instance;
        var (under, ratio) = ReplicationMath.Evaluate(ready, expected, i.ReplicationThreshold);
        return Build(target, ReplicationMethod.Pods, expected, ready, ratio, under,
            ReplicationMath.PodOutput(i.Service, i.Instance, ready, expected, i.ReplicationThreshold),
            under ? ReplicationMath.PodCriticalDescription(i.Service, i.Instance, i.Cluster, ready, expected, i.ReplicationThreshold)
                  : ReplicationMath.OkDescription(i.Service, i.Instance, i.ReplicationThreshold),
            Array.Empty<ReplicationLocation>());
    }

    private async Task<ReplicationCheckResult> MeshResultAsync(ReplicationTarget target, long expected, CancellationToken cancellation)
    {
        var counts = new List<HaproxyCounts>();
        foreach (var location in _options.MeshLocations)
        {
            var lazy = _meshCache.GetOrAdd(location.Name, _ => new Lazy<Task<HaproxyCounts>>(() => _meshCounter(location, cancellation)));
            counts.Add(await lazy.Value.ConfigureAwait(false));
        }
        return MeshResult(target, expected, counts);
    }

    /// <summary>Mesh-based result (docs/BEHAVIOUR.md §8.3) from the UP counts of every location, in location order.</summary>
    public static ReplicationCheckResult MeshResult(ReplicationTarget target, long expected, IReadOnlyList<HaproxyCounts> locations)
    {
        var i = target.Instance;
        var backend = ReplicationMath.JobId(i.Service, i.Instance);
        var perLocation = locations.Count == 0 ? 0 : expected / locations.Count; // int(expected / locations), both non-negative
        var critical = new List<string>();
        var ok = new List<string>();
        var entries = new List<ReplicationLocation>();
        foreach (var c in locations.OrderBy(l => l.Location, StringComparer.Ordinal))
        {
            var up = c.Up(backend);
            var (under, ratio) = ReplicationMath.Evaluate(up, perLocation, i.ReplicationThreshold);
            var line = ReplicationMath.MeshLine(i.Service, i.Instance, up, perLocation, c.Location, ReplicationMath.SmartstackProvider, under, ratio);
            (under ? critical : ok).Add(line);
            entries.Add(new ReplicationLocation
            {
                Location = c.Location, Available = up, Expected = perLocation, Ratio = ratio, IsUnderReplicated = under,
                Source = c.Source.Text, Line = line,
            });
        }
        var anyUnder = critical.Count > 0;
        return Build(target, ReplicationMethod.Smartstack, expected, entries.Sum(e => e.Available),
            entries.Count == 0 ? 100.0 : entries.Min(e => e.Ratio), anyUnder,
            ReplicationMath.MeshOutput(critical, ok),
            anyUnder ? ReplicationMath.MeshCriticalDescription(i.Service, i.Instance, i.Cluster, i.ReplicationThreshold)
                     : ReplicationMath.OkDescription(i.Service, i.Instance, i.ReplicationThreshold),
            entries);
    }

    private static ReplicationCheckResult Build(ReplicationTarget target, ReplicationMethod method, long expected, long available, double ratio,
        bool under, string output, string description, IReadOnlyList<ReplicationLocation> locations)
    {
        var i = target.Instance;
        var m = i.Monitoring;
        var merged = i.Config.TryGetValue("monitoring", out var mon) ? mon as IDictionary<string, object?> : null;
        object? Merged(string key) => merged is not null && merged.TryGetValue(key, out var v) ? v : null;
        // alert_after: the instance's merged monitoring dict, else the replication default; an integer means seconds.
        var alertAfter = Merged("alert_after") switch
        {
            null => ReplicationMath.DefaultAlertAfter(i),
            long n => $"{n}s",
            var v => Yaml.PythonText.Str(v),
        };
        return new ReplicationCheckResult
        {
            Service = i.Service,
            Instance = i.Instance,
            Cluster = i.Cluster,
            InstanceType = i.InstanceType,
            Namespace = i.Namespace,
            DesiredState = target.DesiredState,
            Method = method,
            IsAutoscaled = i.IsAutoscaled,
            ExpectedCount = expected,
            AvailableCount = available,
            Threshold = i.ReplicationThreshold,
            Ratio = ratio,
            IsUnderReplicated = under,
            Status = under ? SensuStatus.CRITICAL : SensuStatus.OK,
            Output = output,
            Description = description,
            Locations = locations,
            CheckName = ReplicationMath.CheckName(i.Service, i.Instance),
            Team = m.Team,
            Page = m.All.TryGetValue("page", out var page) && page is bool b ? b : null,
            Runbook = m.All.ContainsKey("runbook") ? m.Runbook : ReplicationMath.DefaultRunbook,
            Tip = m.All.ContainsKey("tip") ? m.Tip : ReplicationMath.DefaultTip(i.Service, i.Instance, i.Cluster),
            NotificationEmail = m.NotificationEmail,
            CheckEvery = "1m",
            RealertEvery = Merged("realert_every") is long re ? re : -1,
            AlertAfter = alertAfter,
            Ticket = m.Ticket,
            Project = m.Project,
            Priority = m.Priority,
            Tags = m.Tags,
            IrcChannels = m.All.ContainsKey("irc_channels") ? m.IrcChannels : null,
            SlackChannels = m.All.ContainsKey("slack_channels") ? m.SlackChannels : null,
            Component = m.Component,
            Issuetype = m.All.TryGetValue("issuetype", out var it) && it is not null ? Yaml.PythonText.Str(it) : null,
            Source = $"paasta-{i.Cluster}",
        };
    }
}
