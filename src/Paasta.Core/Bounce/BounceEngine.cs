using System.Collections.Concurrent;
using k8s;
using k8s.Models;
using Paasta.Config;
using Paasta.Errors;
using Paasta.Kubernetes;

namespace Paasta.Bounce;

/// <summary>What one pass saw and did to an instance's copies; filled in while the pass's writes run.</summary>
public sealed class BounceProgress
{
    public string Method { get; init; } = "crossover";
    public string DrainMethod { get; init; } = "noop";
    public int Wanted { get; init; }
    public int OldReady { get; init; }
    public int NewReady { get; init; }
    public int OldCopies { get; init; }
    /// <summary>Old copies draining when the pass started plus those it drained.</summary>
    public int Draining { get; set; }
    public int Killed => _killed;
    public string Reason { get; init; } = "";
    /// <summary>Drain-method failures of this pass; those pods were left serving.</summary>
    public ConcurrentQueue<PaastaException> Errors { get; } = new();
    /// <summary>True while old copies remain, or the new version is not yet created.</summary>
    public bool InProgress { get; init; }
    /// <summary>Stop or removal: every copy was safe to kill, and the step that follows the drain (scale to 0, delete) ran.</summary>
    public bool Finished => _finished;

    private int _killed;
    private volatile bool _finished;
    internal void CountKill() => Interlocked.Increment(ref _killed);
    internal void Finish() => _finished = true;
}

/// <summary>Limits of one bounce engine, given by its caller (no process-wide state).</summary>
public sealed record BounceOptions
{
    public static readonly BounceOptions Default = new();

    /// <summary>Longest a drain-method call may take before the pod is left serving and the call reported.</summary>
    public TimeSpan DrainCallTimeout { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// Bounces a Deployment by PaaSTA's bounce methods with drain methods, on Kubernetes (docs/BEHAVIOUR.md §6.2, §7).
///
/// Kubernetes picks its own victims when a Deployment scales down, so the old version is taken out of the
/// Deployment's hands first: the old Deployment and then its ReplicaSets are deleted with propagationPolicy
/// Orphan, which leaves their pods running and serving with no owner. The new Deployment is created under the
/// same name; its ReplicaSet does not adopt the old pods because their pod-template-hash differs, so nothing
/// but this engine ever deletes them. Each old pod is then drained through the instance's drain method and
/// deleted only once that method says it is safe to kill. The state of a bounce lives in the cluster only —
/// old pods are found by their labels (service, instance, config_sha), pods being drained carry the
/// <see cref="DrainingAnnotation"/>, and the new Deployment carries <see cref="BouncingAnnotation"/> until the
/// last old pod is gone — so any later pass, from any process, continues where the last one stopped.
/// </summary>
public sealed class BounceEngine
{
    /// <summary>On a pod: when Paasta started draining it (UTC, round-trip format).</summary>
    public const string DrainingAnnotation = "paasta.yelp.com/draining-since";
    /// <summary>On a Deployment: old copies may still be around, so passes must look at pods.</summary>
    public const string BouncingAnnotation = "paasta.yelp.com/bouncing";

    private readonly KubeConnection _kube;
    private readonly KubeWriter _writer;
    private readonly PodDrainerFactory _drainers;
    private readonly BounceOptions _options;

    public BounceEngine(KubeConnection kube, PodDrainerFactory? drainers = null, BounceOptions? options = null)
    {
        _kube = kube;
        _writer = new KubeWriter(kube);
        _drainers = drainers ?? (_ => NoopPodDrainer.Instance);
        _options = options ?? BounceOptions.Default;
    }

    public BounceOptions Options => _options;

    public static bool IsReady(V1Pod pod) =>
        pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    public static bool IsTerminating(V1Pod pod) => pod.Metadata.DeletionTimestamp is not null;

    /// <summary>
    /// Ready for at least <paramref name="minUptime"/> seconds (bounce_health_params.min_task_uptime, the
    /// Deployment's minReadySeconds): only such a copy counts as a healthy new one, as Kubernetes counts it available.
    /// </summary>
    public static bool IsAvailable(V1Pod pod, long minUptime, DateTime now)
    {
        if (!IsReady(pod)) return false;
        if (minUptime <= 0) return true;
        var since = pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.LastTransitionTime;
        return since is { } t && t.ToUniversalTime() <= now.AddSeconds(-minUptime);
    }

    public static bool IsDraining(V1Pod pod) => pod.Metadata.Annotations?.ContainsKey(DrainingAnnotation) == true;

    private static string? Sha(V1ObjectMeta meta) =>
        meta.Labels is { } l && l.TryGetValue(ConfigSha.Label, out var v) ? v : null;

    /// <summary>
    /// Plans one pass of a bounce of <paramref name="desired"/> (a Deployment) given the live Deployment (if
    /// any), the instance's ReplicaSets and pods. Returns the writes in order and the progress they report into.
    /// </summary>
    public (IReadOnlyList<KubeOperation> Operations, BounceProgress Progress) PlanBounce(
        DesiredApp desired, V1Deployment? live, IReadOnlyList<V1ReplicaSet> replicaSets, IReadOnlyList<V1Pod> pods)
    {
        var sha = desired.ConfigSha;
        var instance = desired.Instance;
        var ns = desired.Namespace;
        var drainer = _drainers(instance);
        var method = instance.BounceMethod ?? "crossover";
        var ops = new List<KubeOperation>();

        var liveIsNew = live is not null && Sha(live.Metadata) == sha;
        var oldPods = pods.Where(p => Sha(p.Metadata) != sha).ToList();
        var oldActive = oldPods.Where(p => !IsTerminating(p)).ToList();
        // Copies of the desired version that an earlier bounce drained (a rollback to them): they go back into traffic
        // first, and do not count as serving until a later pass sees them undrained.
        var toUndrain = pods.Where(p => Sha(p.Metadata) == sha && !IsTerminating(p) && IsDraining(p)).ToList();
        var now = DateTime.UtcNow;
        var newReady = pods.Count(p => Sha(p.Metadata) == sha && !IsTerminating(p) && !IsDraining(p) && IsAvailable(p, instance.MinTaskUptime, now));
        var alreadyDraining = oldActive.Where(IsDraining).ToList();
        var notDraining = oldActive.Where(p => !IsDraining(p))
            .OrderByDescending(IsReady)
            .ThenBy(p => p.Metadata.CreationTimestamp ?? DateTime.MaxValue)
            .ThenBy(p => p.Metadata.Name, StringComparer.Ordinal)
            .ToList();

        if (live is not null && !liveIsNew)
            ops.Add(new KubeOperation("orphan", "Deployment", ns, live.Metadata.Name,
                new[] { $"delete with propagationPolicy Orphan: its {oldActive.Count} pod(s) of config_sha {Sha(live.Metadata) ?? "(none)"} keep serving until drained" },
                ct => DeleteOrphaningAsync("Deployment", ns, live.Metadata.Name, ct)));
        foreach (var rs in replicaSets.Where(r => Sha(r.Metadata) != sha))
            ops.Add(new KubeOperation("orphan", "ReplicaSet", ns, rs.Metadata.Name,
                new[] { "delete with propagationPolicy Orphan, so the new Deployment cannot adopt it and scale its pods away" },
                ct => DeleteOrphaningAsync("ReplicaSet", ns, rs.Metadata.Name, ct)));

        var decision = BounceMethods.Decide(method, desired.Replicas, instance.BounceMarginFactor, newReady, oldPods.Count,
            notDraining.Select(p => p.Metadata.Name).ToList());
        var toDrain = notDraining.Where(p => decision.Drain.Contains(p.Metadata.Name)).ToList();
        var progress = new BounceProgress
        {
            Method = method,
            DrainMethod = drainer.Name,
            Wanted = desired.Replicas,
            OldReady = oldActive.Count(IsReady),
            NewReady = newReady,
            OldCopies = oldPods.Count,
            Draining = alreadyDraining.Count + toDrain.Count,
            Reason = decision.Reason,
            InProgress = oldPods.Count > 0 || !liveIsNew,
        };

        if (!liveIsNew && decision.CreateNew)
        {
            if (oldPods.Count > 0) desired.Metadata.Annotations = new Dictionary<string, string>(desired.Metadata.Annotations ?? new Dictionary<string, string>()) { [BouncingAnnotation] = "true" };
            ops.Add(new KubeOperation("create", "Deployment", ns, desired.Name, new[]
            {
                $"{desired.Replicas} replica(s) of {desired.Template.Spec.Containers[0].Image}",
                $"config_sha {sha}",
            }, ct => _writer.CreateControllerAsync(desired, ct)));
        }
        else if (liveIsNew && live!.Spec?.Replicas != desired.Replicas)
            ops.Add(new KubeOperation("scale", "Deployment", ns, desired.Name, new[] { $"replicas {live.Spec?.Replicas} -> {desired.Replicas}" },
                ct => _writer.ScaleControllerAsync(desired, ct)));

        foreach (var pod in toUndrain)
            ops.Add(new KubeOperation("undrain", "Pod", ns, pod.Metadata.Name,
                new[] { $"{drainer.Name}: back into traffic (config_sha {sha} is wanted again)" },
                ct => UndrainAsync(drainer, pod, progress, ct)));
        foreach (var pod in toDrain)
            ops.Add(new KubeOperation("drain", "Pod", ns, pod.Metadata.Name,
                new[] { $"{drainer.Name}: take out of traffic, delete once safe to kill ({(IsReady(pod) ? "ready" : "not ready")}, config_sha {Sha(pod.Metadata)})" },
                ct => DrainAndKillAsync(drainer, pod, startDrain: true, progress, ct)));
        foreach (var pod in alreadyDraining)
            ops.Add(new KubeOperation("check", "Pod", ns, pod.Metadata.Name,
                new[] { $"{drainer.Name}: draining since {pod.Metadata.Annotations![DrainingAnnotation]}; drain again if the method lost it, delete once safe to kill" },
                ct => DrainAndKillAsync(drainer, pod, startDrain: false, progress, ct)));

        if (liveIsNew && oldPods.Count == 0 && live!.Metadata.Annotations?.ContainsKey(BouncingAnnotation) == true)
            ops.Add(new KubeOperation("finish", "Deployment", ns, desired.Name, new[] { "no old copy left: the bounce is done" },
                ct => SetBouncingAsync(ns, desired.Name, false, ct)));
        return (ops, progress);
    }

    /// <summary>
    /// Stopping: every copy is drained first, and the Deployment scales to 0 only once the drain method says
    /// all of them are safe to kill (scaling is how a Deployment's own pods go without being replaced).
    /// </summary>
    public (IReadOnlyList<KubeOperation> Operations, BounceProgress Progress) PlanStop(DesiredApp desired, IReadOnlyList<V1Pod> pods) =>
        DrainAllThen(desired.Instance, "stop", "Deployment", desired.Namespace, desired.Name, pods,
            "scaling to 0", "replicas -> 0", ct => _writer.ScaleControllerAsync(desired, ct));

    /// <summary>
    /// Removing an instance gone from soa-configs (Sync -Prune): every copy is drained first, as a stop drains
    /// them, and <paramref name="remove"/> (deleting its objects) runs only once the drain method says all of them
    /// are safe to kill. <paramref name="drainAs"/> names the drain method and its parameters.
    /// </summary>
    public (IReadOnlyList<KubeOperation> Operations, BounceProgress Progress) PlanRemoval(InstanceConfig drainAs, string kind, string ns, string name,
        IReadOnlyList<V1Pod> pods, string removal, Func<CancellationToken, Task> remove) =>
        DrainAllThen(drainAs, "remove", kind, ns, name, pods, "removal", removal, remove);

    private (IReadOnlyList<KubeOperation> Operations, BounceProgress Progress) DrainAllThen(InstanceConfig instance, string method, string kind, string ns, string name,
        IReadOnlyList<V1Pod> pods, string before, string then, Func<CancellationToken, Task> next)
    {
        var drainer = _drainers(instance);
        var active = pods.Where(p => !IsTerminating(p)).ToList();
        var progress = new BounceProgress
        {
            Method = method,
            DrainMethod = drainer.Name,
            Wanted = 0,
            OldReady = active.Count(IsReady),
            OldCopies = active.Count,
            Draining = active.Count,
            Reason = $"{(method == "stop" ? "stopping" : "removing")}: {active.Count} copy(ies) drained with {drainer.Name} before {before}",
            InProgress = true,
        };
        var op = new KubeOperation("drain", kind, ns, name,
            new[] { $"{drainer.Name}: drain all {active.Count} pod(s), then {then} once every one is safe to kill" },
            async ct =>
            {
                var safe = await Task.WhenAll(active.Select(p => DrainOnlyAsync(drainer, p, !IsDraining(p), progress, ct))).ConfigureAwait(false);
                if (!safe.All(s => s)) return;
                await next(ct).ConfigureAwait(false);
                progress.Finish();
            });
        return (new[] { op }, progress);
    }

    private async Task DrainAndKillAsync(IPodDrainer drainer, V1Pod pod, bool startDrain, BounceProgress progress, CancellationToken cancellation)
    {
        if (!await DrainOnlyAsync(drainer, pod, startDrain, progress, cancellation).ConfigureAwait(false)) return;
        await _writer.DeletePodAsync(pod.Metadata.NamespaceProperty, pod.Metadata.Name, cancellation).ConfigureAwait(false);
        progress.CountKill();
    }

    /// <summary>
    /// Drains (when asked, or when a pod marked draining is no longer draining by the method's own state: a hacheck
    /// down that expired, a restarted sidecar), marks the pod, and asks whether it is safe to kill. A failing drain
    /// method leaves it serving.
    /// </summary>
    private async Task<bool> DrainOnlyAsync(IPodDrainer drainer, V1Pod pod, bool startDrain, BounceProgress progress, CancellationToken cancellation)
    {
        var name = $"{pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}";
        return await ReportingDrainFailures(drainer, name, "The pod was left serving.", progress, async () =>
        {
            var drainAgain = !startDrain && !await WithTimeout(ct => drainer.IsDrainingAsync(pod, ct), cancellation).ConfigureAwait(false);
            if (startDrain || drainAgain)
            {
                await WithTimeout(ct => drainer.DrainAsync(pod, ct), cancellation).ConfigureAwait(false);
                await AnnotateDrainingAsync(pod, restart: drainAgain, cancellation).ConfigureAwait(false);
            }
            return await WithTimeout(ct => drainer.IsSafeToKillAsync(pod, ct), cancellation).ConfigureAwait(false);
        }, cancellation).ConfigureAwait(false);
    }

    /// <summary>Puts a pod of the wanted version back into traffic and clears its mark; a failure leaves it marked, for the next pass.</summary>
    private async Task UndrainAsync(IPodDrainer drainer, V1Pod pod, BounceProgress progress, CancellationToken cancellation)
    {
        var name = $"{pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}";
        await ReportingDrainFailures(drainer, name, "The pod stays marked draining and out of the count; the next pass tries again.", progress, async () =>
        {
            await WithTimeout(ct => drainer.StopDrainingAsync(pod, ct), cancellation).ConfigureAwait(false);
            var patch = new V1Patch($"{{\"metadata\":{{\"annotations\":{{\"{DrainingAnnotation}\":null}}}}}}", V1Patch.PatchType.MergePatch);
            await _kube.Call(() => _kube.Client.CoreV1.PatchNamespacedPodAsync(patch, pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: cancellation),
                $"clear the draining mark of pod {name}").ConfigureAwait(false);
            return true;
        }, cancellation).ConfigureAwait(false);
    }

    /// <summary>Runs drain-method calls for one pod; their failures are reported on the progress and answer false.</summary>
    private async Task<bool> ReportingDrainFailures(IPodDrainer drainer, string name, string outcome, BounceProgress progress, Func<Task<bool>> body, CancellationToken cancellation)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested) { throw; }
        catch (PaastaException e) when (e.ErrorId.StartsWith("Kube", StringComparison.Ordinal)) { throw; }
        catch (PaastaException e) when (e.ErrorId.StartsWith("Drain", StringComparison.Ordinal))
        {
            // The drain method's own report (failed, timed out, bad params): the pod stays, the error is told.
            progress.Errors.Enqueue(new PaastaException(e.ErrorId, e.Kind, $"pod {name}: {e.Message} {outcome}", e) { Target = name });
            return false;
        }
        catch (Exception e)
        {
            progress.Errors.Enqueue(e is OperationCanceledException or TimeoutException
                ? new PaastaException("DrainMethodTimedOut", PaastaErrorKind.OperationTimeout,
                    $"drain method {drainer.Name} did not answer within {_options.DrainCallTimeout.TotalSeconds:0} s for pod {name}. {outcome}", e) { Target = name }
                : new PaastaException("DrainMethodFailed", PaastaErrorKind.InvalidOperation,
                    $"drain method {drainer.Name} failed for pod {name}: {e.Message}. {outcome}", e) { Target = name });
            return false;
        }
    }

    private async Task<T> WithTimeout<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellation)
    {
        var limit = _options.DrainCallTimeout;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(limit);
        var task = call(timeout.Token);
        // A drain method that ignores its token still cannot hold the bounce past the timeout.
        var finished = await Task.WhenAny(task, Task.Delay(limit + TimeSpan.FromSeconds(1), cancellation)).ConfigureAwait(false);
        if (finished != task) throw new TimeoutException($"no answer within {limit.TotalSeconds:0} s");
        return await task.ConfigureAwait(false);
    }

    private Task WithTimeout(Func<CancellationToken, Task> call, CancellationToken cancellation) =>
        WithTimeout(async ct => { await call(ct).ConfigureAwait(false); return true; }, cancellation);

    private async Task AnnotateDrainingAsync(V1Pod pod, bool restart, CancellationToken cancellation)
    {
        if (IsDraining(pod) && !restart) return;
        var since = DateTime.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        var patch = new V1Patch($"{{\"metadata\":{{\"annotations\":{{\"{DrainingAnnotation}\":\"{since}\"}}}}}}", V1Patch.PatchType.MergePatch);
        await _kube.Call(() => _kube.Client.CoreV1.PatchNamespacedPodAsync(patch, pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: cancellation),
            $"mark pod {pod.Metadata.NamespaceProperty}/{pod.Metadata.Name} as draining").ConfigureAwait(false);
    }

    private async Task SetBouncingAsync(string ns, string name, bool bouncing, CancellationToken cancellation)
    {
        var value = bouncing ? "\"true\"" : "null";
        var patch = new V1Patch($"{{\"metadata\":{{\"annotations\":{{\"{BouncingAnnotation}\":{value}}}}}}}", V1Patch.PatchType.MergePatch);
        await _kube.Call(() => _kube.Client.AppsV1.PatchNamespacedDeploymentAsync(patch, name, ns, cancellationToken: cancellation),
            $"mark Deployment {ns}/{name} {(bouncing ? "bouncing" : "done bouncing")}").ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes a Deployment or ReplicaSet leaving its dependents running, and waits until the object is gone: a
    /// ReplicaSet that still exists when the new Deployment appears would be adopted and scaled down by it.
    /// </summary>
    private async Task DeleteOrphaningAsync(string kind, string ns, string name, CancellationToken cancellation)
    {
        var orphan = new V1DeleteOptions { PropagationPolicy = "Orphan" };
        var what = $"delete {kind} {ns}/{name} (orphaning its dependents)";
        try
        {
            if (kind == "Deployment")
                await _kube.Call(() => _kube.Client.AppsV1.DeleteNamespacedDeploymentAsync(name, ns, orphan, cancellationToken: cancellation), what).ConfigureAwait(false);
            else
                await _kube.Call(() => _kube.Client.AppsV1.DeleteNamespacedReplicaSetAsync(name, ns, orphan, cancellationToken: cancellation), what).ConfigureAwait(false);
        }
        catch (PaastaException e) when (e.ErrorId == "KubeObjectNotFound") { return; }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                if (kind == "Deployment")
                    await _kube.Call(() => _kube.Client.AppsV1.ReadNamespacedDeploymentAsync(name, ns, cancellationToken: cancellation), $"read Deployment {ns}/{name}").ConfigureAwait(false);
                else
                    await _kube.Call(() => _kube.Client.AppsV1.ReadNamespacedReplicaSetAsync(name, ns, cancellationToken: cancellation), $"read ReplicaSet {ns}/{name}").ConfigureAwait(false);
            }
            catch (PaastaException e) when (e.ErrorId == "KubeObjectNotFound") { return; }
            if (DateTime.UtcNow > deadline)
                throw new PaastaException("OrphanDeleteTimedOut", PaastaErrorKind.OperationTimeout,
                    $"{kind} {ns}/{name} was deleted with propagationPolicy Orphan but is still there after 60 s (is the garbage collector of kube-controller-manager running?). The next pass tries again.")
                { Target = $"{ns}/{name}" };
            await Task.Delay(200, cancellation).ConfigureAwait(false);
        }
    }
}
