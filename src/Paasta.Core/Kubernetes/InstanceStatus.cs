using k8s;
using k8s.Models;
using Paasta.Config;

namespace Paasta.Kubernetes;

/// <summary>paasta status for one long-running instance: what should run, what the cluster runs, and its pods.</summary>
public sealed class InstanceStatus
{
    public required string Service { get; init; }
    public required string Cluster { get; init; }
    public required string Instance { get; init; }
    public string? Namespace { get; init; }
    public string? Name { get; init; }
    /// <summary>Deployment or StatefulSet.</summary>
    public string? Kind { get; init; }
    /// <summary>
    /// NotDeployed (no deployment in deployments.json), NotRunning (no controller on the cluster), Stopped,
    /// Stopping, OutOfSync (the cluster runs another version or config than soa-configs ask: Sync-PaastaInstance),
    /// Bouncing, Starting (fewer ready copies than wanted) or Running.
    /// </summary>
    public required string State { get; init; }
    /// <summary>start or stop, from deployments.json.</summary>
    public string? DesiredState { get; init; }
    /// <summary>The sha deployments.json says the instance's deploy group runs.</summary>
    public string? DesiredGitSha { get; init; }
    public string? DesiredImageVersion { get; init; }
    /// <summary>The config_sha the current soa-configs give (null when it could not be computed).</summary>
    public string? DesiredConfigSha { get; init; }
    public int? DesiredReplicas { get; init; }
    /// <summary>The sha the controller on the cluster is labelled with (what is deployed).</summary>
    public string? GitSha { get; init; }
    public string? ImageVersion { get; init; }
    public string? ConfigSha { get; init; }
    public string? Image { get; init; }
    /// <summary>spec.replicas of the controller.</summary>
    public int? Replicas { get; init; }
    public int ReadyReplicas { get; init; }
    /// <summary>Copies running the controller's current template.</summary>
    public int UpToDateReplicas { get; init; }
    /// <summary>More than one version runs, or copies of the current template are still missing.</summary>
    public bool BounceInProgress { get; init; }
    public IReadOnlyList<PaastaPod> Pods { get; init; } = Array.Empty<PaastaPod>();
    /// <summary>The versions running, newest controller's first: <c>sha8,config_sha: ready/total</c>.</summary>
    public IReadOnlyList<string> Versions { get; init; } = Array.Empty<string>();
    public string? Message { get; init; }

    public string Ready => $"{ReadyReplicas}/{Replicas?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}";
    /// <summary>The running version: <c>sha8[+image_version]</c>.</summary>
    public string Version => GitSha is null ? "-" : (GitSha.Length > 8 ? GitSha[..8] : GitSha) + (ImageVersion is null ? "" : "+" + ImageVersion);
    /// <summary>One line per pod (for the list view).</summary>
    public string PodSummary => string.Join("\n", Pods.Select(p => p.ToString()));

    public override string ToString() => $"{Service}.{Instance} on {Cluster}: {State} {Ready}{(Message is null ? "" : " — " + Message)}";
}

/// <summary>The facts of a live Deployment or StatefulSet that status and wait use.</summary>
public sealed record ControllerSummary(string Kind, string Namespace, string Name, string? Cluster, string? GitSha, string? ImageVersion, string? ConfigSha,
    string? Image, int Replicas, int ReadyReplicas, int UpdatedReplicas, int AvailableReplicas, bool Observed, string? ProgressMessage)
{
    public static ControllerSummary From(V1Deployment d) => new("Deployment", d.Metadata.NamespaceProperty, d.Metadata.Name,
        KubeLabels.Of(d.Metadata, KubernetesObjectBuilder.ClusterLabel),
        KubeLabels.Of(d.Metadata, KubernetesObjectBuilder.GitShaLabel),
        KubeLabels.Of(d.Metadata, KubernetesObjectBuilder.ImageVersionLabel),
        KubeLabels.Of(d.Metadata, Paasta.Kubernetes.ConfigSha.Label),
        d.Spec?.Template?.Spec?.Containers?.FirstOrDefault()?.Image,
        d.Spec?.Replicas ?? 1, d.Status?.ReadyReplicas ?? 0, d.Status?.UpdatedReplicas ?? 0, d.Status?.AvailableReplicas ?? 0,
        d.Status?.ObservedGeneration >= d.Metadata.Generation,
        d.Status?.Conditions?.FirstOrDefault(c => c.Type == "Progressing" && c.Status == "False")?.Message);

    public static ControllerSummary From(V1StatefulSet s) => new("StatefulSet", s.Metadata.NamespaceProperty, s.Metadata.Name,
        KubeLabels.Of(s.Metadata, KubernetesObjectBuilder.ClusterLabel),
        KubeLabels.Of(s.Metadata, KubernetesObjectBuilder.GitShaLabel),
        KubeLabels.Of(s.Metadata, KubernetesObjectBuilder.ImageVersionLabel),
        KubeLabels.Of(s.Metadata, Paasta.Kubernetes.ConfigSha.Label),
        s.Spec?.Template?.Spec?.Containers?.FirstOrDefault()?.Image,
        s.Spec?.Replicas ?? 1, s.Status?.ReadyReplicas ?? 0, s.Status?.UpdatedReplicas ?? 0, s.Status?.ReadyReplicas ?? 0,
        s.Status?.ObservedGeneration >= s.Metadata.Generation, null);
}

/// <summary>What to report status for: an instance, its deployment (null: none yet) and, when known, the desired objects.</summary>
public sealed record StatusRequest(InstanceConfig Instance, DeploymentBranch? Branch, DesiredApp? Desired);

/// <summary>
/// paasta status against the cluster: the instances' controllers and pods, read with one LIST each for all
/// requested services (plus StatefulSets when one is used, and pod events when a readiness probe fails).
/// </summary>
public sealed class KubernetesStatusReader
{
    private readonly KubeConnection _kube;

    public KubernetesStatusReader(KubeConnection kube) => _kube = kube;

    public async Task<List<InstanceStatus>> ReadAsync(IReadOnlyList<StatusRequest> requests, CancellationToken cancellation, bool explain = true)
    {
        if (requests.Count == 0) return new List<InstanceStatus>();
        var services = requests.Select(r => r.Instance.Service).Distinct(StringComparer.Ordinal).ToList();
        var selector = $"{KubernetesObjectBuilder.ManagedLabel}=true,{KubernetesPods.SelectorFor(services)}";
        var deploymentsTask = _kube.Call(() => _kube.Client.AppsV1.ListDeploymentForAllNamespacesAsync(labelSelector: selector, cancellationToken: cancellation), "list Deployments");
        var needSets = requests.Any(r => KubernetesObjectBuilder.UsesStatefulSet(r.Instance));
        async Task<V1StatefulSetList?> Sets() => needSets
            ? await _kube.Call(() => _kube.Client.AppsV1.ListStatefulSetForAllNamespacesAsync(labelSelector: selector, cancellationToken: cancellation), "list StatefulSets").ConfigureAwait(false)
            : null;
        var setsTask = Sets();
        var podsTask = KubernetesPods.ListAsync(_kube, services, cancellation);

        var controllers = new Dictionary<(string, string), ControllerSummary>();
        foreach (var d in (await deploymentsTask.ConfigureAwait(false)).Items) controllers[(d.Metadata.NamespaceProperty, d.Metadata.Name)] = ControllerSummary.From(d);
        if (await setsTask.ConfigureAwait(false) is { } sets)
            foreach (var s in sets.Items) controllers[(s.Metadata.NamespaceProperty, s.Metadata.Name)] = ControllerSummary.From(s);
        var pods = await podsTask.ConfigureAwait(false);
        var byInstance = pods.ToLookup(p => (p.Namespace, p.Service, p.Instance, p.Cluster));
        if (explain)
        {
            var asked = requests.Select(r => (r.Instance.Namespace, r.Instance.Service, r.Instance.Instance, (string?)r.Instance.Cluster)).ToHashSet();
            await KubernetesPods.ExplainUnreadyAsync(_kube, pods.Where(p => asked.Contains((p.Namespace, p.Service, p.Instance, p.Cluster))).ToList(), cancellation).ConfigureAwait(false);
        }

        return requests.Select(r =>
        {
            var i = r.Instance;
            var name = KubernetesObjectBuilder.AppName(i.Service, i.Instance);
            controllers.TryGetValue((i.Namespace, name), out var controller);
            if (controller is not null && controller.Cluster is not null && controller.Cluster != i.Cluster) controller = null;
            return Compute(r, controller, byInstance[(i.Namespace, i.Service, i.Instance, i.Cluster)].ToList());
        }).ToList();
    }

    /// <summary>The status of one instance from what was read. Pure.</summary>
    public static InstanceStatus Compute(StatusRequest request, ControllerSummary? controller, IReadOnlyList<PaastaPod> pods)
    {
        var i = request.Instance;
        var branch = request.Branch;
        var live = pods.Where(p => !p.Terminating).ToList();
        var versions = live.GroupBy(p => (p.GitSha, p.ImageVersion, p.ConfigSha))
            .OrderByDescending(g => g.Key.ConfigSha == controller?.ConfigSha)
            .Select(g => $"{g.First().Version}: {g.Count(p => p.Ready)}/{g.Count()} ready")
            .ToList();
        var atController = live.Where(p => controller is not null && p.ConfigSha == controller.ConfigSha).ToList();
        var stale = live.Count - atController.Count;
        var notReady = live.Where(p => !p.Ready).ToList();
        var bounce = controller is not null && (stale > 0 || (controller.Replicas > 0 && controller.UpdatedReplicas < controller.Replicas));

        string state;
        string? message = null;
        if (branch is null)
        {
            state = "NotDeployed";
            message = DeploymentBranch.NotDeployedReason(i);
        }
        else if (controller is null)
        {
            state = "NotRunning";
            message = $"no {(KubernetesObjectBuilder.UsesStatefulSet(i) ? "StatefulSet" : "Deployment")} {i.Namespace}/{KubernetesObjectBuilder.AppName(i.Service, i.Instance)} on the cluster; run Sync-PaastaInstance";
        }
        else if (controller.Replicas == 0)
        {
            state = pods.Count == 0 ? "Stopped" : "Stopping";
            if (!branch.IsStopped) message = $"0 replicas requested although desired state is {branch.DesiredState}";
        }
        else if (controller.GitSha != branch.GitSha || controller.ImageVersion != branch.ImageVersion
            || (request.Desired is { } d && d.ConfigSha != controller.ConfigSha) || (branch.IsStopped && controller.Replicas > 0))
        {
            state = "OutOfSync";
            message = controller.GitSha != branch.GitSha
                ? $"the cluster runs {Short(controller.GitSha)}; deployments.json says {Short(branch.GitSha)}: run Sync-PaastaInstance"
                : $"the cluster runs config {controller.ConfigSha}; soa-configs give {request.Desired?.ConfigSha ?? "another"}: run Sync-PaastaInstance";
        }
        else if (bounce)
        {
            state = "Bouncing";
            message = $"bouncing to {Short(controller.GitSha)},{controller.ConfigSha}: {atController.Count(p => p.Ready)} of {controller.Replicas} new cop{(controller.Replicas == 1 ? "y" : "ies")} ready, {stale} old";
        }
        else if (controller.ReadyReplicas < controller.Replicas || notReady.Count > 0)
            state = "Starting";
        else state = "Running";

        if (notReady.Count > 0 && state is not ("NotDeployed" or "NotRunning"))
        {
            var reasons = string.Join(", ", notReady.GroupBy(p => p.Reason ?? "NotReady").Select(g => $"{g.Key} ({g.Count()})"));
            var sample = notReady.FirstOrDefault(p => p.Message is not null);
            message = (message is null ? "" : message + "; ") + $"{notReady.Count} of {live.Count} pod(s) not ready: {reasons}"
                + (sample is null ? "" : $" — {sample.Name}: {sample.Message}");
        }

        return new InstanceStatus
        {
            Service = i.Service,
            Cluster = i.Cluster,
            Instance = i.Instance,
            Namespace = i.Namespace,
            Name = KubernetesObjectBuilder.AppName(i.Service, i.Instance),
            Kind = controller?.Kind ?? request.Desired?.Kind,
            State = state,
            DesiredState = branch?.DesiredState,
            DesiredGitSha = branch?.GitSha,
            DesiredImageVersion = branch?.ImageVersion,
            DesiredConfigSha = request.Desired?.ConfigSha,
            DesiredReplicas = request.Desired?.Replicas,
            GitSha = controller?.GitSha,
            ImageVersion = controller?.ImageVersion,
            ConfigSha = controller?.ConfigSha,
            Image = controller?.Image,
            Replicas = controller?.Replicas,
            ReadyReplicas = controller?.ReadyReplicas ?? 0,
            UpToDateReplicas = controller?.UpdatedReplicas ?? 0,
            BounceInProgress = bounce,
            Pods = pods.OrderBy(p => p.Name, StringComparer.Ordinal).ToList(),
            Versions = versions,
            Message = message,
        };
    }

    private static string Short(string? sha) => sha is { Length: > 8 } ? sha[..8] : sha ?? "(none)";
}

/// <summary>
/// Whether an instance has finished deploying a version (docs/BEHAVIOUR.md §6.4, wait-for-deployment): stopped or 0 wanted;
/// or the controller runs the version, no pod of another version is left, and at least
/// ceil(bounce_margin_factor × replicas) copies of it are ready. Otherwise, the reason it has not.
/// </summary>
public static class DeploymentProgress
{
    public sealed record Verdict(bool Done, string Reason, int Ready, int Required);

    public static Verdict Evaluate(InstanceStatus status, InstanceConfig instance, string gitSha, string? imageVersion)
    {
        bool Matches(string? sha, string? iv) => sha is not null && sha.StartsWith(gitSha, StringComparison.OrdinalIgnoreCase) && (imageVersion is null || iv == imageVersion);
        var target = $"{(gitSha.Length > 8 ? gitSha[..8] : gitSha)}{(imageVersion is null ? "" : "+" + imageVersion)}";
        if (status.State == "NotDeployed") return new(false, $"not deployed: {status.Message}", 0, 0);
        if (status.DesiredState == "stop" && status.Replicas == 0) return new(true, "stopped", 0, 0);
        if (status.Replicas is null) return new(false, status.Message ?? "no controller on the cluster yet", 0, 0);
        if (!Matches(status.GitSha, status.ImageVersion))
            return new(false, $"not started bouncing yet: still runs {Version(status.GitSha, status.ImageVersion)}" +
                (Matches(status.DesiredGitSha, status.DesiredImageVersion) ? " (deployments.json has the new version: run Sync-PaastaInstance)"
                    : $" (deployments.json says {Version(status.DesiredGitSha, status.DesiredImageVersion)}: run New-PaastaDeployments and Sync-PaastaInstance)"),
                0, 0);
        var expected = status.Replicas.Value;
        if (expected == 0) return new(true, "0 replicas wanted", 0, 0);
        var live = status.Pods.Where(p => !p.Terminating).ToList();
        var current = live.Where(p => Matches(p.GitSha, p.ImageVersion) && p.ConfigSha == status.ConfigSha).ToList();
        var ready = current.Count(p => p.Ready);
        var required = (int)Math.Ceiling(instance.BounceMarginFactor * expected - 1e-9);
        var old = live.Count - current.Count;
        if (old == 0 && ready >= required) return new(true, $"{ready}/{expected} ready at {target}", ready, required);

        var problems = current.Where(p => !p.Ready).GroupBy(p => Describe(p)).Select(g => $"{g.Count()} pod(s) {g.Key}").ToList();
        var reason = old > 0 ? $"still bouncing: {old} pod(s) of an older version remain, {ready}/{expected} new ready"
            : $"only {ready} of the required {required} replica(s) ready";
        if (problems.Count > 0) reason += "; " + string.Join("; ", problems);
        else if (current.Count < expected) reason += $"; {expected - current.Count} pod(s) not created yet";
        return new(false, reason, ready, required);
    }

    /// <summary>
    /// When copies of a version count as failed for good rather than still starting (PaaSTA's crashloop rollback,
    /// docs/BEHAVIOUR.md §9.4): a copy restarted at least <see cref="MinRestarts"/> times, or one Kubernetes has given up
    /// pulling the image of (ImagePullBackOff, InvalidImageName, ErrImageNeverPull); the instance fails when at least
    /// <see cref="Fraction"/> of its copies of the version do.
    /// </summary>
    public sealed record FailingPodsRule(int MinRestarts = 2, double Fraction = 1.0);

    /// <summary>Why copies of the version fail for good under <paramref name="rule"/>, or null while they may still come up.</summary>
    public static string? Failing(InstanceStatus status, string gitSha, string? imageVersion, FailingPodsRule rule)
    {
        var current = status.Pods.Where(p => !p.Terminating && p.GitSha is not null && p.GitSha.StartsWith(gitSha, StringComparison.OrdinalIgnoreCase)
            && (imageVersion is null || p.ImageVersion == imageVersion)).ToList();
        if (current.Count == 0) return null;
        var crashing = current.Where(p => !p.Ready && p.Restarts >= Math.Max(1, rule.MinRestarts)).ToList();
        var unpullable = current.Where(p => p.Reason is "ImagePullBackOff" or "InvalidImageName" or "ErrImageNeverPull").ToList();
        var failing = crashing.Union(unpullable).Count();
        if (failing == 0 || failing < rule.Fraction * current.Count - 1e-9) return null;
        var what = new List<string>();
        if (crashing.Count > 0) what.Add($"{crashing.Count} restarted {crashing.Min(p => p.Restarts)}+ times ({crashing[0].Reason ?? "not ready"})");
        if (unpullable.Count > 0) what.Add($"{unpullable.Count} cannot pull their image ({unpullable[0].Reason}{(unpullable[0].Message is { } m ? ": " + m : "")})");
        return $"{failing} of {current.Count} new cop{(current.Count == 1 ? "y" : "ies")} of {status.Service}.{status.Instance} on {status.Cluster} failing: {string.Join("; ", what)}";
    }

    /// <summary>A not-ready pod's problem in words: image pull error, crash loop, failing readiness, cannot be scheduled.</summary>
    public static string Describe(PaastaPod pod)
    {
        var kind = pod.Reason switch
        {
            "ImagePullBackOff" or "ErrImagePull" or "InvalidImageName" or "ErrImageNeverPull" => "cannot pull their image",
            "CrashLoopBackOff" => "are in a crash loop",
            "ReadinessProbeFailing" => "fail their readiness check",
            "Unschedulable" => "cannot be scheduled",
            "CreateContainerConfigError" or "CreateContainerError" => "cannot create their container",
            null => "are not ready",
            _ => $"are {pod.Reason}",
        };
        return pod.Message is null ? kind : $"{kind} ({pod.Message})";
    }

    private static string Version(string? sha, string? iv) => $"{(sha is { Length: > 8 } ? sha[..8] : sha ?? "(none)")}{(iv is null ? "" : "+" + iv)}";
}
