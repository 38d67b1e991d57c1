using Paasta.Config;
using Paasta.Errors;
using Paasta.Monitoring;

namespace Paasta.Operations;

/// <summary>How Test-PaastaReplication counts and judges.</summary>
public sealed record ReplicationCheckOptions
{
    /// <summary>-HaproxyStats entries ([LOCATION=]socket-or-URL); none: every instance is counted by its Ready pods.</summary>
    public IReadOnlyList<string>? HaproxyStats { get; init; }
    public double CriticalPercent { get; init; } = 10;
    public int MinCountCritical { get; init; } = 5;
    /// <summary>How long each HAProxy stats source may take.</summary>
    public TimeSpan HaproxyTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>What a replication check found: one result per checked instance, and the run as a whole.</summary>
public sealed record ReplicationReport(IReadOnlyList<ReplicationCheckResult> Results, ReplicationSummary Summary);

/// <summary>
/// Test-PaastaReplication (check_kubernetes_services_replication, docs/BEHAVIOUR.md §8): collects the instances of
/// each pipeline record (<see cref="Add(OperationContext, IReadOnlyList{string}?, IReadOnlyList{string}?, IReadOnlyList{string}?)"/>
/// or piped instances), keeps the deployed ones, and counts their copies, per cluster, with one LIST per namespace
/// (or HAProxy's stats for mesh instances). Everything that could not be read is listed as not checked, so a run that
/// checked nothing is never OK.
/// </summary>
public sealed class ReplicationOperation
{
    private readonly ReplicationCheckOptions _options;
    private readonly List<InstanceConfig> _instances = new();
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _clusters = new(StringComparer.Ordinal);
    // Services and instances whose soa-configs could not be read: nothing was checked for them.
    private readonly List<string> _unreadable = new();

    /// <summary>Refuses a bad -HaproxyStats entry before anything is read.</summary>
    public ReplicationOperation(ReplicationCheckOptions options)
    {
        _options = options;
        if (options.HaproxyStats is { Count: > 0 } entries) HaproxyLocation.FromArguments(entries, "default");
    }

    /// <summary>The instances to check so far.</summary>
    public IReadOnlyList<InstanceConfig> Instances => _instances;

    /// <summary>
    /// The kubernetes and eks instances of <paramref name="services"/> on the clusters (names or wildcards; none: the
    /// Cluster setting, ClusterNotSpecified without one).
    /// </summary>
    public void Add(OperationContext context, IReadOnlyList<string>? services, IReadOnlyList<string>? clusters, IReadOnlyList<string>? instances)
    {
        if (clusters is not { Count: > 0 }) clusters = new[] { ClusterSetting.Required(context, null, "Test-PaastaReplication") };
        // A cluster named exactly is the run's, even when nothing is found there; a wildcard's are those of the instances found.
        foreach (var name in clusters.Where(c => !NamePattern.HasWildcards(c))) _clusters.Add(name);
        var selection = new InstanceSelection
        {
            Services = services,
            Clusters = clusters,
            Instances = instances,
            TypeFilter = t => t is InstanceTypes.Kubernetes or InstanceTypes.Eks,
            TypeDescription = "long-running",
        };
        try
        {
            var (found, errors) = ErrorCollectingSink.Collect(context, c => InstanceQuery.Instances(c, selection));
            // A cluster or instance "not found" among services that were themselves not found says nothing more.
            var noService = found.Count == 0 && errors.Any(e => e.ErrorId == "ServiceNotFound");
            foreach (var e in errors.Where(e => !(noService && e.ErrorId is "ClusterNotFound" or "InstanceNotFound")))
                _unreadable.Add(UncheckedLabel(context, e));
            foreach (var i in found) Add(i);
        }
        catch (PaastaException e)
        {
            // No soa-configs at all (SoaDirNotFound...): nothing of this record was checked.
            context.Sink.Error(e);
            _unreadable.Add(e.Target is string target && target.Length > 0 ? target : "soa-configs");
        }
    }

    /// <summary>Instances from the pipeline; those that are not kubernetes or eks instances are skipped.</summary>
    public void Add(OperationContext context, IEnumerable<InstanceConfig> instances)
    {
        foreach (var i in instances)
        {
            if (i.InstanceType is not (InstanceTypes.Kubernetes or InstanceTypes.Eks))
            {
                context.Sink.Verbose($"Skipping {i}: only kubernetes and eks instances have replicas to check.");
                continue;
            }
            Add(i);
        }
    }

    private void Add(InstanceConfig i)
    {
        if (_seen.Add($"{i.Cluster}\0{i.Service}\0{i.Instance}")) _instances.Add(i);
    }

    /// <summary>
    /// Checks every instance added. <paramref name="replicas"/> gives each cluster's reader (default: its Kubernetes
    /// connection, opened only when a deployed instance needs it); <paramref name="meshCounter"/> reads HAProxy.
    /// </summary>
    public ReplicationReport Check(OperationContext context, Func<string, IReplicaReader>? replicas = null,
        Func<HaproxyLocation, CancellationToken, Task<HaproxyCounts>>? meshCounter = null)
    {
        var selection = ReplicationSelection.Of(_instances);
        context.Timings.Mark("read deployments.json");
        foreach (var e in selection.Errors) context.Sink.Error(e);
        foreach (var (_, reason) in selection.NotDeployed) context.Sink.Verbose($"Not deployed, skipped: {reason}");
        foreach (var (_, reason) in selection.Unchecked) context.Sink.Verbose($"Not checked: {reason}");

        foreach (var i in _instances) _clusters.Add(i.Cluster);
        var clusterName = string.Join(",", _clusters);
        // Entries without LOCATION= belong to a location named after the cluster.
        var locations = _options.HaproxyStats is { Count: > 0 } entries
            ? HaproxyLocation.FromArguments(entries, clusterName.Length > 0 ? clusterName : "default")
            : Array.Empty<HaproxyLocation>();
        foreach (var l in locations) context.Sink.Verbose($"Mesh location {l}");
        var meshEligible = selection.Targets.Count(t => ReplicationChecker.IsMeshChecked(t.Instance));
        if (meshEligible > 0 && locations.Count == 0)
            context.Sink.Verbose($"{meshEligible} instance(s) are registered in the mesh; without -HaproxyStats they are counted by their Ready pods.");

        var results = new List<ReplicationCheckResult>();
        var notChecked = new List<string>();
        using var stats = new HaproxyStatsReader(_options.HaproxyTimeout);
        var checkerOptions = new ReplicationOptions { CriticalPercent = _options.CriticalPercent, MinCountCritical = _options.MinCountCritical, MeshLocations = locations };
        var activity = $"Checking replication on {clusterName}";
        foreach (var group in selection.Targets.GroupBy(t => t.Instance.Cluster, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var targets = group.ToList();
            IReplicaReader reader;
            try { reader = replicas?.Invoke(group.Key) ?? new KubernetesReplicaReader(context.Kube(group.Key)); }
            catch (PaastaException e)
            {
                // Nothing can be counted there: report it, and let a summary say UNKNOWN rather than stop a check command.
                context.Sink.Error(e);
                notChecked.AddRange(targets.Select(t => ReplicationMath.JobId(t.Instance.Service, t.Instance.Instance)));
                continue;
            }
            var namespaces = targets.Select(t => t.Instance.Namespace).Distinct(StringComparer.Ordinal).Count();
            context.Sink.Verbose($"Checking {targets.Count} deployed instance(s) of {group.Key} in {namespaces} namespace(s).");
            context.Sink.Progress(new OperationProgress(activity, $"Listing pods in {namespaces} namespace(s)") { PercentComplete = 0 });
            var checker = new ReplicationChecker(reader, meshCounter ?? stats.CountAsync, checkerOptions);
            var run = checker.RunAsync(targets, p =>
            {
                context.Sink.Verbose($"Namespace {p.Namespace}: {p.Pods} pod(s) listed.");
                context.Sink.Progress(new OperationProgress(activity, $"{p.Done} of {p.Total} namespace(s) read (last: {p.Namespace})")
                { PercentComplete = p.Total == 0 ? 100 : 100 * p.Done / p.Total });
            }, context.Cancellation).GetAwaiter().GetResult();
            foreach (var e in run.Errors) context.Sink.Error(e);
            results.AddRange(run.Results);
            notChecked.AddRange(run.Unchecked);
        }
        context.Sink.Progress(new OperationProgress(activity, "Done").Complete());
        context.Timings.Mark("read the cluster and count");
        results.Sort((a, b) => string.CompareOrdinal(a.Service + "\0" + a.Instance, b.Service + "\0" + b.Instance));
        foreach (var r in results)
            context.Sink.Verbose($"{r.Service}.{r.Instance}: {r.Method}, expected {r.ExpectedCount} ({(r.DesiredState == "stop" ? "stopped" : r.IsAutoscaled ? "autoscaled" : "instances")}), available {r.AvailableCount}, threshold {r.Threshold}% -> {r.Status}");

        var summary = new ReplicationSummary
        {
            Cluster = clusterName,
            Results = results,
            NotDeployed = selection.NotDeployed.Select(n => ReplicationMath.JobId(n.Instance.Service, n.Instance.Instance)).Order(StringComparer.Ordinal).ToList(),
            // Unreadable soa-configs or deployments.json count as unchecked: a run that checked nothing is not OK.
            Unchecked = notChecked
                .Concat(selection.Unchecked.Select(u => ReplicationMath.JobId(u.Instance.Service, u.Instance.Instance)))
                .Concat(_unreadable)
                .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
            CriticalPercent = _options.CriticalPercent,
            MinCountCritical = _options.MinCountCritical,
        };
        return new ReplicationReport(results, summary);
    }

    /// <summary>SERVICE (FILE) for an unreadable file, else what the error names (a service or instance not found).</summary>
    private static string UncheckedLabel(OperationContext context, PaastaException e)
    {
        if (e.File is { Length: > 0 } file)
        {
            var relative = Path.GetRelativePath(Path.GetFullPath(context.Settings.SoaDir, context.CurrentDirectory), file);
            var service = relative.Split(Path.DirectorySeparatorChar)[0];
            if (!relative.StartsWith("..", StringComparison.Ordinal) && service != relative) return $"{service} ({Path.GetFileName(file)})";
        }
        return e.Target is string target && target.Length > 0 ? target : "soa-configs";
    }
}
