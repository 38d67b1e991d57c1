using System.Diagnostics;
using Paasta.Bounce;
using Paasta.Config;
using Paasta.Errors;
using Paasta.Sync;

namespace Paasta.Operations;

/// <summary>What Sync-PaastaInstance is asked to do beyond one pass over the instances.</summary>
public sealed record SyncOptions
{
    /// <summary>Keep passing until every instance has converged (no old copy left, as many ready as wanted).</summary>
    public bool Wait { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromHours(1);
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Also remove the objects of instances gone from soa-configs; null: no pruning.</summary>
    public PruneSelection? Prune { get; init; }
    public BounceOptions Bounce { get; init; } = BounceOptions.Default;
}

/// <summary>
/// Which services and clusters -Prune covers: the names (or wildcards) the user gave, plus those of the instances
/// synced. <see cref="Force"/> allows removing every instance of a service.
/// </summary>
public sealed record PruneSelection(IReadOnlyList<string>? Services, IReadOnlyList<string>? Clusters, bool Force);

/// <summary>
/// Sync-PaastaInstance (setup_kubernetes_job): one pass, or with <see cref="SyncOptions.Wait"/> passes until
/// converged or timed out. Each PaaSTA cluster is reached through its own connection (<see cref="ClusterConnections"/>);
/// each instance's changes are confirmed through the sink (-WhatIf, -Confirm), and one that was declined is not
/// asked about again. Results go to the sink as each instance is done (with -Wait: once, at the end).
/// </summary>
public static class SyncOperation
{
    public const string Activity = "Sync-PaastaInstance";

    /// <summary>Syncs <paramref name="instances"/> (and prunes, when asked); returns every result written.</summary>
    public static IReadOnlyList<SyncResult> Run(OperationContext context, IReadOnlyList<InstanceConfig> instances, SyncOptions options)
    {
        var sink = context.Sink;
        sink.Progress(new OperationProgress(Activity, "Reading soa-configs and deployments.json"));
        var inputs = new SyncInputs(context);
        var requests = inputs.Requests(instances);
        context.Timings.Mark("read deployments.json");
        var scopes = options.Prune is { } prune ? PruneScopes(context, prune, instances) : new List<PruneScope>();
        if (requests.Count == 0 && scopes.Count == 0) return Array.Empty<SyncResult>();

        var groups = ClusterConnections.Group(context, requests.Select(r => r.Instance.Cluster).Concat(scopes.Select(s => s.Cluster)));
        using var drainers = new InstanceDrainers(hacheckSidecar: context.Settings.HacheckSidecarImage is not null);
        var lanes = groups.Select(g =>
        {
            var kube = g.Connect(context);
            return new Lane(
                new KubernetesReconciler(kube, bounce: new BounceEngine(kube, drainers.For, options.Bounce)),
                requests.Where(r => g.Contains(r.Instance.Cluster)).ToList(),
                new PruneRequest(scopes.Where(s => g.Contains(s.Cluster)).ToList(), options.Prune?.Force ?? false));
        }).ToList();

        var watch = Stopwatch.StartNew();
        var declined = new HashSet<string>(StringComparer.Ordinal);
        var refused = new HashSet<string>(StringComparer.Ordinal);
        var written = new List<SyncResult>();
        for (var pass = 1; ; pass++)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            var total = lanes.Sum(l => l.Requests.Count);
            var status = pass == 1 ? $"Reading the cluster for {total} instance(s)" : $"Pass {pass} ({(int)watch.Elapsed.TotalSeconds} s)";
            sink.Progress(new OperationProgress(Activity, status));
            var results = new List<SyncResult>();
            foreach (var lane in lanes)
            {
                var kube = lane.Reconciler.Connection;
                var requestsBefore = kube.Counter.Requests;
                var passWatch = Stopwatch.StartNew();
                var plan = Wait(lane.Reconciler.PlanAsync(lane.Requests, lane.Prune, context.Cancellation, pass == 1 ? context.Timings.Mark : null), context);
                if (pass == 1) context.Timings.Mark("plan");
                sink.Verbose($"Pass {pass}: planned {plan.Count} instance(s) from {kube.Counter.Requests - requestsBefore} API request(s) in {passWatch.ElapsedMilliseconds} ms: " +
                    string.Join(", ", plan.Items.GroupBy(p => p.Result.Action).Select(g => $"{g.Count()} {g.Key}")) + ".");
                foreach (var refusal in plan.Refusals)
                    if (refused.Add(refusal.Message)) sink.Error(refusal);

                var done = 0;
                foreach (var item in plan.Items)
                {
                    var progress = new OperationProgress(Activity, status)
                    {
                        CurrentOperation = $"{item.Result.Service}.{item.Result.Instance}: {item.Result.Action}",
                        PercentComplete = options.Wait ? -1 : (int)(100.0 * done++ / Math.Max(1, plan.Count)),
                    };
                    sink.Progress(progress);
                    var key = $"{item.Result.Service}.{item.Result.Instance}.{item.Result.Cluster}";
                    if (declined.Contains(key)) continue;
                    var result = Apply(context, lane.Reconciler, item);
                    if (result.WhatIf) declined.Add(key);
                    results.Add(result);
                    if (!options.Wait) { sink.Output(result); written.Add(result); }
                }
            }
            if (!options.Wait)
            {
                context.Timings.Mark("apply and write results");
                return written;
            }

            var pending = results.Where(r => r.Converging).ToList();
            if (pending.Count == 0 || watch.Elapsed >= options.Timeout)
            {
                foreach (var r in results) sink.Output(r);
                if (pending.Count > 0)
                    sink.Error(new PaastaException("SyncWaitTimedOut", PaastaErrorKind.OperationTimeout,
                        $"After {options.Timeout.TotalSeconds:0} s these instances have not converged: " + string.Join("; ", pending.Select(Describe)) +
                        ". Nothing was rolled back: old copies that remain keep serving, and the next Sync continues from here.")
                    { Target = string.Join(",", pending.Select(r => $"{r.Service}.{r.Instance}")) });
                sink.Progress(new OperationProgress(Activity, "Done").Complete());
                return results;
            }
            var bouncing = pending.Where(r => r.Bounce is not null).ToList();
            sink.Progress(new OperationProgress(Activity,
                $"{pending.Count} instance(s) converging: new ready {pending.Sum(r => r.Bounce?.NewReady ?? r.ReadyReplicas ?? 0)}/{pending.Sum(r => r.NewReplicas ?? 0)}, " +
                $"old ready {bouncing.Sum(r => r.Bounce!.OldReady)}, draining {bouncing.Sum(r => r.Bounce!.Draining)} ({(int)watch.Elapsed.TotalSeconds} s)"));
            var left = options.Timeout - watch.Elapsed;
            Wait(Task.Delay(options.PollInterval < left ? options.PollInterval : left, context.Cancellation), context);
        }
    }

    private sealed record Lane(KubernetesReconciler Reconciler, List<SyncRequest> Requests, PruneRequest Prune);

    private static T Wait<T>(Task<T> task, OperationContext context) => task.WaitAsync(context.Cancellation).GetAwaiter().GetResult();

    private static void Wait(Task task, OperationContext context) => task.WaitAsync(context.Cancellation).GetAwaiter().GetResult();

    private static string Describe(SyncResult r) => r.Bounce is { } b
        ? $"{r.Service}.{r.Instance}: {b.NewReady} of {b.Wanted} new copies ready, {b.OldCopies} old left ({b.Draining} draining) — {b.Reason}"
        : $"{r.Service}.{r.Instance}: {r.ReadyReplicas ?? 0} of {r.NewReplicas} copies ready (Get-PaastaInstanceStatus says why)";

    /// <summary>Applies one instance's plan once the sink confirms it; returns what happened.</summary>
    private static SyncResult Apply(OperationContext context, KubernetesReconciler reconciler, SyncPlanItem item)
    {
        var sink = context.Sink;
        var result = item.Result;
        var target = $"{result.Service}.{result.Instance} on {result.Cluster}";
        if (result.Message is not null && result.Action is not (SyncAction.NoDeployment or SyncAction.Failed)) sink.Verbose($"{target}: {result.Message}.");
        switch (result.Action)
        {
            case SyncAction.NoDeployment:
                sink.Warning($"{target}: {result.Message}.");
                return result;
            case SyncAction.Failed:
                sink.Error(item.Error ?? new PaastaException("InstanceConfigInvalid", PaastaErrorKind.InvalidData, result.Message ?? "cannot be synced") { Target = target });
                return result;
        }
        if (item.Operations.Count == 0)
        {
            sink.Verbose(result.Action == SyncAction.Unchanged
                ? $"{target}: {result.Kind} {result.Namespace}/{result.Name} already runs {Short(result.NewGitSha)} with {result.NewConfigSha} and {result.NewReplicas} replica(s)."
                : $"{target}: {result.Action}, nothing to write this pass.");
            return result;
        }
        var description = $"{result.Action}{(result.Action == SyncAction.Removed ? " (no longer in soa-configs)" : "")}\n{Indent(result.Diff)}";
        if (!sink.ShouldProcess(target, description)) return result with { WhatIf = true };
        sink.Verbose($"{target}: {description}");
        try
        {
            var applied = Wait(reconciler.ApplyAsync(item, context.Cancellation), context);
            if (applied.Bounce is { } bounce)
            {
                while (bounce.Errors.TryDequeue(out var error)) sink.Error(error);
                if (bounce.Killed > 0) sink.Verbose($"{target}: {bounce.Killed} old pod(s) drained with {bounce.DrainMethod} and deleted.");
            }
            if (applied.Action == SyncAction.Removed)
                applied = applied.Bounce is { Finished: false }
                    ? applied with { Action = SyncAction.Removing }
                    : applied with { Bounce = null };
            return applied;
        }
        catch (PaastaException e)
        {
            sink.Error(e);
            return result with { Action = SyncAction.Failed, Message = e.Message };
        }
    }

    private static string Indent(string text) => string.Join("\n", text.Split('\n').Select(l => "  " + l));

    private static string Short(string? sha) => sha is { Length: > 8 } ? sha[..8] : sha ?? "(none)";

    /// <summary>
    /// The (service, cluster) pairs -Prune covers: services named (or matched) in the soa dir and those of the
    /// instances synced; clusters named literally (or the Cluster setting), those matched among the service's
    /// instance files, and those of the instances synced. Each scope knows every long-running instance soa-configs
    /// has for it, whatever -Instance selected; a service whose instance files cannot all be read is not pruned.
    /// </summary>
    public static List<PruneScope> PruneScopes(OperationContext context, PruneSelection selection, IReadOnlyList<InstanceConfig> instances)
    {
        var reader = context.Reader;
        var services = new SortedSet<string>(instances.Select(i => i.Service), StringComparer.Ordinal);
        foreach (var name in selection.Services ?? Array.Empty<string>())
        {
            var pattern = NamePattern.Parse(name.Length > 1 ? name.TrimEnd('/') : name);
            foreach (var s in reader.ListServices(pattern.IsMatch)) services.Add(s);
        }
        var clusterNames = selection.Clusters ?? (context.Settings.Cluster is { } fallback ? new[] { fallback } : null);
        var clusterPatterns = NamePattern.ParseAll(clusterNames);
        var scopes = new List<PruneScope>();
        foreach (var name in services)
        {
            ServiceConfig service;
            try { service = reader.LoadService(name); }
            catch (PaastaException e) { context.Sink.Error(e); continue; }
            var files = service.InstanceFiles.Where(f => InstanceTypes.IsLongRunning(f.InstanceType)).ToList();
            var clusters = new SortedSet<string>(instances.Where(i => i.Service == name).Select(i => i.Cluster), StringComparer.Ordinal);
            foreach (var p in clusterPatterns ?? Array.Empty<NamePattern>())
            {
                if (!p.IsWildcard) clusters.Add(p.Literal);
                foreach (var f in files.Where(f => p.IsMatch(f.Cluster))) clusters.Add(f.Cluster);
            }
            if (clusterPatterns is null)
                foreach (var f in files) clusters.Add(f.Cluster);
            foreach (var cluster in clusters)
            {
                var known = new Dictionary<string, string>(StringComparer.Ordinal);
                var unreadable = false;
                foreach (var r in reader.LoadInstances(service, new InstanceFilter(c => c == cluster, null, InstanceTypes.IsLongRunning)))
                {
                    if (r.Error is not null) unreadable = true;
                    else known[r.Value!.Instance] = r.Value.Namespace;
                }
                if (unreadable)
                {
                    context.Sink.Warning($"{name} on {cluster}: not pruned, because an instance file could not be read (see the errors).");
                    continue;
                }
                var drainType = files.FirstOrDefault(f => f.Cluster == cluster)?.InstanceType ?? InstanceTypes.Kubernetes;
                scopes.Add(new PruneScope(name, cluster, known, instance => reader.DefaultInstance(service, drainType, cluster, instance)));
            }
        }
        return scopes;
    }
}
