using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Paasta.Bounce;
using Paasta.Config;
using Paasta.Errors;
using Paasta.Kubernetes;

namespace Paasta.Sync;

/// <summary>One instance to sync: its config and what deployments.json says it should run (null: nothing yet).</summary>
public sealed record SyncRequest(InstanceConfig Instance, DeploymentBranch? Branch, KubernetesBuildContext Context);

/// <summary>A decided change for one instance: the result to report, the objects involved, and the writes to make, in order.</summary>
public sealed record SyncPlanItem(SyncResult Result, DesiredApp? Desired, IKubernetesObject<V1ObjectMeta>? Live, IReadOnlyList<KubeOperation> Operations)
{
    /// <summary>Why the instance cannot be synced (Action Failed).</summary>
    public PaastaException? Error { get; init; }

    /// <summary>Work order: new code first, then config-only changes, then scaling and side objects (docs/BEHAVIOUR.md §5.1 step 7).</summary>
    public int Priority => Result.Action switch
    {
        SyncAction.Created => 0,
        SyncAction.Updated when Result.OldGitSha != Result.NewGitSha || Result.OldImageVersion != Result.NewImageVersion => 0,
        SyncAction.Updated => 1,
        SyncAction.Scaled or SyncAction.Reconciled => 2,
        _ => 3,
    };
}

/// <summary>
/// What the cluster holds that a sync compares with: Paasta-managed controllers, PDBs and HPAs (each read with one
/// LIST by label across all namespaces), the API versions in use, and which namespaces exist.
/// </summary>
public sealed class ClusterState
{
    /// <summary>Live Deployments; read from the cluster, each is a summary (<see cref="LiveControllers"/>) and its JSON is in <see cref="ControllerJson"/>.</summary>
    public Dictionary<(string Namespace, string Name), V1Deployment> Deployments { get; } = new();
    public Dictionary<(string Namespace, string Name), V1StatefulSet> StatefulSets { get; } = new();
    /// <summary>The live controllers as the server sent them, by kind ("Deployment", "StatefulSet"), namespace and name.</summary>
    public Dictionary<(string Kind, string Namespace, string Name), JsonElement> ControllerJson { get; } = new();
    public Dictionary<(string Namespace, string Name), JsonObject> PodDisruptionBudgets { get; } = new();
    public Dictionary<(string Namespace, string Name), JsonObject> HorizontalPodAutoscalers { get; } = new();
    public bool StatefulSetsListed { get; set; }
    public bool HorizontalPodAutoscalersListed { get; set; }
    public string PdbApiVersion { get; set; } = "policy/v1";
    public string? HpaApiVersion { get; set; }
    public HashSet<string> Namespaces { get; } = new(StringComparer.Ordinal);
    public HashSet<string> MissingNamespaces { get; } = new(StringComparer.Ordinal);
    /// <summary>Signatures of the Secrets referenced by the instances' env (read only when some instance uses one).</summary>
    public SecretSignatures Secrets { get; set; } = SecretSignatures.None;

    /// <summary>
    /// A cluster where nothing exists yet, as offline rendering assumes: no live controller (so autoscaled
    /// instances start at max_instances), no Secret signature, every namespace missing, and the newest API
    /// versions PaaSTA writes (policy/v1, autoscaling/v2).
    /// </summary>
    /// <summary>Adds the Deployments of a LIST response, read as JSON (<see cref="LiveControllers"/>).</summary>
    public void AddDeployments(JsonElement list)
    {
        foreach (var item in KubeJson.Items(list))
        {
            var d = LiveControllers.Deployment(item);
            Deployments[(d.Metadata.NamespaceProperty, d.Metadata.Name)] = d;
            ControllerJson[("Deployment", d.Metadata.NamespaceProperty ?? "", d.Metadata.Name ?? "")] = item;
        }
    }

    /// <summary>Adds the StatefulSets of a LIST response, read as JSON; StatefulSets count as listed from then on.</summary>
    public void AddStatefulSets(JsonElement list)
    {
        StatefulSetsListed = true;
        foreach (var item in KubeJson.Items(list))
        {
            var s = LiveControllers.StatefulSet(item);
            StatefulSets[(s.Metadata.NamespaceProperty, s.Metadata.Name)] = s;
            ControllerJson[("StatefulSet", s.Metadata.NamespaceProperty ?? "", s.Metadata.Name ?? "")] = item;
        }
    }

    /// <summary>
    /// A live controller as JSON, for a field diff: as the server sent it when it was read as JSON, else serialized
    /// from its model (a state built in memory).
    /// </summary>
    public JsonNode? ControllerAsJson(IKubernetesObject<V1ObjectMeta> live)
    {
        var kind = live is V1StatefulSet ? "StatefulSet" : "Deployment";
        return ControllerJson.TryGetValue((kind, live.Metadata?.NamespaceProperty ?? "", live.Metadata?.Name ?? ""), out var json)
            ? ObjectDiff.ToJson(json)
            : ObjectDiff.ToJson(live);
    }

    public static ClusterState Empty(IEnumerable<string> namespaces)
    {
        var state = new ClusterState { PdbApiVersion = "policy/v1", HpaApiVersion = "autoscaling/v2", StatefulSetsListed = true, HorizontalPodAutoscalersListed = true };
        foreach (var ns in namespaces) state.MissingNamespaces.Add(ns);
        return state;
    }
}

/// <summary>
/// How a controller that exists but is out of date gets updated. The default replaces it and lets the
/// Deployment strategy (docs/BEHAVIOUR.md §6.3) roll the pods; the bounce engine (bounce methods with drain
/// methods) plugs in after planning with its own plan for the same inputs.
/// </summary>
public interface IControllerUpdater
{
    IReadOnlyList<KubeOperation> PlanUpdate(DesiredApp desired, IKubernetesObject<V1ObjectMeta> live, IReadOnlyList<string> details, KubeWriter writer);
}

/// <summary>Full replace (PUT) of the controller, as PaaSTA's setup_kubernetes_job does.</summary>
public sealed class ReplaceControllerUpdater : IControllerUpdater
{
    public IReadOnlyList<KubeOperation> PlanUpdate(DesiredApp desired, IKubernetesObject<V1ObjectMeta> live, IReadOnlyList<string> details, KubeWriter writer) =>
        new[] { new KubeOperation("replace", desired.Kind, desired.Namespace, desired.Name, details, ct => writer.ReplaceControllerAsync(desired, live, ct)) };
}

/// <summary>One pass's plan: a decision per instance to sync and per instance to remove, and the prunes refused.</summary>
public sealed record SyncPlan(List<SyncPlanItem> Items, IReadOnlyList<PaastaException> Refusals)
{
    public int Count => Items.Count;
}

/// <summary>
/// setup_kubernetes_job: makes the cluster run what soa-configs and deployments.json ask for. Level-triggered and
/// idempotent: it observes the cluster with a few LISTs by label (never one GET per instance), plans per instance
/// without touching the cluster, then writes only what differs — a replica-only change is a scale (no rollout),
/// a new version or config_sha replaces the controller, PDB and HPA are patched only when a field they set
/// differs. With prune scopes, it also removes the controllers of instances gone from soa-configs
/// (<see cref="PrunePlanner"/>). A pass interrupted anywhere converges on the next one.
/// </summary>
public sealed class KubernetesReconciler
{
    private readonly KubeConnection _kube;
    private readonly KubeWriter _writer;
    private readonly IControllerUpdater _updater;
    private readonly BounceEngine? _bounce;

    /// <param name="bounce">Bounces Deployments by bounce method and drain method; null leaves rollouts to the Deployment strategy.</param>
    public KubernetesReconciler(KubeConnection kube, IControllerUpdater? updater = null, BounceEngine? bounce = null)
    {
        _kube = kube;
        _writer = new KubeWriter(kube);
        _updater = updater ?? new ReplaceControllerUpdater();
        _bounce = bounce;
    }

    public KubeConnection Connection => _kube;

    public KubeWriter Writer => _writer;

    /// <summary>How many pod writes of one instance (drains and their checks) run at once.</summary>
    public const int PodOperationConcurrency = 8;

    /// <summary>Observes, then plans. Writes nothing.</summary>
    public async Task<List<SyncPlanItem>> PlanAsync(IReadOnlyList<SyncRequest> requests, CancellationToken cancellation) =>
        (await PlanAsync(requests, null, cancellation).ConfigureAwait(false)).Items;

    /// <summary>
    /// Observes, then plans the sync of <paramref name="requests"/> and the prune of <paramref name="prune"/>. Writes
    /// nothing. <paramref name="observed"/> is told "read the cluster" between the two (for PhaseTimings).
    /// </summary>
    public async Task<SyncPlan> PlanAsync(IReadOnlyList<SyncRequest> requests, PruneRequest? prune, CancellationToken cancellation, Action<string>? observed = null)
    {
        var pruning = prune is { Scopes.Count: > 0 };
        if (requests.Count == 0 && !pruning) return new SyncPlan(new List<SyncPlanItem>(), Array.Empty<PaastaException>());
        var state = await ObserveAsync(requests, cancellation, pruning).ConfigureAwait(false);
        observed?.Invoke("read the cluster");
        var plan = Plan(requests, state);
        var removals = pruning ? PrunePlanner.Candidates(prune!, state) : new PruneCandidates(new List<PruneCandidate>(), Array.Empty<PaastaException>());
        if (_bounce is null || (!plan.Any(NeedsBounceEngine) && removals.Remove.Count == 0))
            return new SyncPlan(plan.Concat(removals.Remove.Select(c => PrunePlanner.WithoutDrain(c, _writer))).ToList(), removals.Refusals);

        var (pods, sets) = await ListPodsAndReplicaSetsAsync(plan.Any(NeedsBounceEngine), cancellation).ConfigureAwait(false);
        var items = plan.Select(item => NeedsBounceEngine(item) ? Rebounce(item, pods, sets) : item).ToList();
        foreach (var c in removals.Remove)
            items.Add(PrunePlanner.WithDrain(c, _bounce, _writer, pods[(c.Namespace, c.Service, c.Instance)].Where(p => KubeLabels.Of(p.Metadata, KubernetesObjectBuilder.ClusterLabel) == c.Cluster).ToList()));
        return new SyncPlan(items, removals.Refusals);
    }

    // ------------------------------------------------------------------------------------------ bounce

    private static bool NeedsBounceEngine(SyncPlanItem item) =>
        item.Error is null && item.Desired?.Deployment is not null && (
            item.Result.Action is SyncAction.Created or SyncAction.Updated
            || (item.Live?.Metadata?.Annotations?.ContainsKey(BounceEngine.BouncingAnnotation) ?? false)
            || (item.Result.Action == SyncAction.Scaled && item.Result.NewReplicas == 0 && item.Result.OldReplicas > 0));

    /// <summary>
    /// Pods and ReplicaSets are read (one LIST each) only when some instance needs them, so a pass with nothing to
    /// do stays cheap.
    /// </summary>
    private async Task<(ILookup<(string, string, string), V1Pod> Pods, ILookup<(string, string, string), V1ReplicaSet> Sets)> ListPodsAndReplicaSetsAsync(bool replicaSets, CancellationToken cancellation)
    {
        var selector = $"{KubernetesObjectBuilder.ManagedLabel}=true";
        var podsTask = _kube.Call(() => _kube.Client.CoreV1.ListPodForAllNamespacesAsync(labelSelector: selector, cancellationToken: cancellation), "list Paasta-managed pods");
        async Task<IList<V1ReplicaSet>> Sets() => replicaSets
            ? (await _kube.Call(() => _kube.Client.AppsV1.ListReplicaSetForAllNamespacesAsync(labelSelector: selector, cancellationToken: cancellation), "list Paasta-managed ReplicaSets").ConfigureAwait(false)).Items
            : Array.Empty<V1ReplicaSet>();
        var setsTask = Sets();
        var pods = (await podsTask.ConfigureAwait(false)).Items.ToLookup(p => OwnerKey(p.Metadata));
        var sets = (await setsTask.ConfigureAwait(false)).ToLookup(r => OwnerKey(r.Metadata));
        return (pods, sets);
    }

    private static (string, string, string) OwnerKey(V1ObjectMeta m) =>
        (m.NamespaceProperty, KubeLabels.Of(m, KubernetesObjectBuilder.ServiceLabel) ?? "", KubeLabels.Of(m, KubernetesObjectBuilder.InstanceLabel) ?? "");

    /// <summary>Hands a Deployment that is bouncing, about to bounce or stopping to the bounce engine.</summary>
    private SyncPlanItem Rebounce(SyncPlanItem item, ILookup<(string, string, string), V1Pod> pods, ILookup<(string, string, string), V1ReplicaSet> sets)
    {
        var desired = item.Desired!;
        var key = (desired.Namespace, desired.Instance.Service, desired.Instance.Instance);
        var stopping = item.Result.Action == SyncAction.Scaled && item.Result.NewReplicas == 0;
        IReadOnlyList<KubeOperation> bounceOps;
        BounceProgress progress;
        try
        {
            (bounceOps, progress) = stopping
                ? _bounce!.PlanStop(desired, pods[key].ToList())
                : _bounce!.PlanBounce(desired, item.Live as V1Deployment, sets[key].ToList(), pods[key].ToList());
        }
        catch (PaastaException e) // e.g. an unknown drain method or bad drain_method_params: this instance only
        {
            return item with { Operations = Array.Empty<KubeOperation>(), Result = item.Result with { Action = SyncAction.Failed, Message = e.Message }, Error = e };
        }
        // The engine's writes replace the controller writes; namespace creation stays first, PDB and HPA last.
        var ops = item.Operations.Where(o => o.Kind == "Namespace").Concat(bounceOps)
            .Concat(item.Operations.Where(o => o.Kind is not ("Namespace" or "Deployment"))).ToList();
        var fieldDiff = item.Operations.FirstOrDefault(o => o.Kind == "Deployment" && o.Verb == "replace")?.Details ?? Array.Empty<string>();
        var action = item.Result.Action switch
        {
            SyncAction.Unchanged or SyncAction.Reconciled when progress.InProgress => SyncAction.Bouncing,
            SyncAction.Unchanged when ops.Count > 0 => SyncAction.Reconciled,
            var a => a,
        };
        var diff = string.Join("\n", fieldDiff.Select(d => "  " + d).Prepend(fieldDiff.Count > 0 ? $"{desired.Kind} {desired.Namespace}/{desired.Name} changes ({progress.Method} bounce, {progress.DrainMethod} drain):" : null)
            .Concat(ops.Select(o => o.Describe())).Where(l => l is not null));
        return item with
        {
            Operations = ops,
            Result = item.Result with
            {
                Action = action,
                Changes = ops.Select(o => o.Summary).ToList(),
                Diff = diff,
                Bounce = progress,
                Message = string.Join("; ", new[] { item.Result.Message, progress.Reason }.Where(m => !string.IsNullOrEmpty(m))),
            },
        };
    }

    // ------------------------------------------------------------------------------------------ observe

    /// <summary>
    /// Reads what the requests need: managed Deployments and PDBs (one LIST each), StatefulSets only when an
    /// instance uses one, HPAs only when an instance is or was autoscaled, API discovery once per server (cached
    /// for the process and, for ten minutes, on disk), and a GET per namespace only for namespaces where something must be created and no
    /// Paasta object lives yet. Pruning needs every managed controller, PDB and HPA.
    /// </summary>
    public async Task<ClusterState> ObserveAsync(IReadOnlyList<SyncRequest> requests, CancellationToken cancellation, bool pruning = false)
    {
        var state = new ClusterState();
        var running = requests.Where(r => r.Branch is not null).ToList();
        var selector = $"{KubernetesObjectBuilder.ManagedLabel}=true";

        // Controllers are read as JSON into summaries (LiveControllers), not as V1DeploymentList: see there why.
        var deploymentsTask = ListControllersAsync("deployments", selector, "list Paasta-managed Deployments", cancellation);
        var needStatefulSets = pruning || running.Any(r => KubernetesObjectBuilder.UsesStatefulSet(r.Instance));
        var statefulSetsTask = needStatefulSets
            ? ListControllersAsync("statefulsets", selector, "list Paasta-managed StatefulSets", cancellation)
            : Task.FromResult<JsonElement?>(null);
        // The PDB LIST goes out beside the controllers' (its version known from discovery, often cached on disk).
        var pdbTask = ListByServedVersionAsync("PodDisruptionBudget", new[] { "policy/v1", "policy/v1beta1" }, "poddisruptionbudgets", selector, cancellation);
        var secretsTask = SecretSignatures.ReadAsync(_kube, running.Select(r => r.Instance), cancellation);

        state.AddDeployments((await deploymentsTask.ConfigureAwait(false))!.Value);
        if (await statefulSetsTask.ConfigureAwait(false) is { } sets) state.AddStatefulSets(sets);

        // HPAs matter for instances that are autoscaled now, or whose live Deployment says it was (its HPA must go).
        var names = running.Select(r => (r.Instance.Namespace, KubernetesObjectBuilder.AppName(r.Instance.Service, r.Instance.Instance))).ToList();
        var needHpas = pruning || running.Any(r => r.Instance.IsAutoscaled)
            || names.Any(n => state.Deployments.TryGetValue(n, out var d) && KubeLabels.Of(d.Metadata, KubernetesObjectBuilder.AutoscaledLabel) == "true");
        var hpaTask = needHpas
            ? ListByServedVersionAsync("HorizontalPodAutoscaler", new[] { "autoscaling/v2", "autoscaling/v2beta2" }, "horizontalpodautoscalers", selector, cancellation)
            : null;
        (state.PdbApiVersion, var pdbs) = await pdbTask.ConfigureAwait(false);
        foreach (var p in pdbs) state.PodDisruptionBudgets[Key(p)] = p;
        if (hpaTask is not null)
        {
            state.HorizontalPodAutoscalersListed = true;
            (state.HpaApiVersion, var hpas) = await hpaTask.ConfigureAwait(false);
            foreach (var h in hpas) state.HorizontalPodAutoscalers[Key(h)] = h;
        }

        state.Secrets = await secretsTask.ConfigureAwait(false);
        foreach (var (ns, _) in state.Deployments.Keys.Concat(state.StatefulSets.Keys).Concat(state.PodDisruptionBudgets.Keys)) state.Namespaces.Add(ns);
        var unknown = running.Select(r => r.Instance.Namespace).Distinct(StringComparer.Ordinal).Where(ns => !state.Namespaces.Contains(ns)).ToList();
        var checks = unknown.Select(async ns => (ns, exists: await _writer.NamespaceExistsAsync(ns, cancellation).ConfigureAwait(false))).ToList();
        foreach (var (ns, exists) in await Task.WhenAll(checks).ConfigureAwait(false))
            (exists ? state.Namespaces : state.MissingNamespaces).Add(ns);
        return state;
    }

    // The newest served version of a kind (discovery) and its Paasta-managed objects under it.
    private Task<(string Version, List<JsonObject> Items)> ListByServedVersionAsync(string kind, string[] versions, string plural, string selector, CancellationToken cancellation) =>
        _kube.WithCurrentDiscoveryAsync(async () =>
        {
            var version = await _kube.PickVersionAsync(kind, versions, cancellation).ConfigureAwait(false);
            return (version, await _writer.ListCustomAsync(version, plural, selector, cancellation).ConfigureAwait(false));
        });

    // The list's root, copied out of the pooled document: the items stay readable for the state's lifetime.
    private async Task<JsonElement?> ListControllersAsync(string plural, string selector, string what, CancellationToken cancellation)
    {
        using var list = await _kube.Call(() => _kube.GetJsonAsync(LiveControllers.ListUri(plural, selector), cancellation), what).ConfigureAwait(false);
        return list.RootElement.Clone();
    }

    private static (string, string) Key(JsonObject o) =>
        (o["metadata"]?["namespace"]?.GetValue<string>() ?? "", o["metadata"]?["name"]?.GetValue<string>() ?? "");

    // ------------------------------------------------------------------------------------------ plan

    /// <summary>Decides, per instance, what must change. Pure: reads only <paramref name="state"/>.</summary>
    public List<SyncPlanItem> Plan(IReadOnlyList<SyncRequest> requests, ClusterState state)
    {
        var plan = new List<SyncPlanItem>(requests.Count);
        var namespacesPlanned = new HashSet<string>(StringComparer.Ordinal);
        foreach (var request in requests) plan.Add(PlanOne(request, state, namespacesPlanned));
        return plan.OrderBy(p => p.Priority).ToList(); // stable: requests keep their order within a priority
    }

    /// <summary>The live controller of a request's instance (of the kind it wants), or null.</summary>
    public static IKubernetesObject<V1ObjectMeta>? LiveController(InstanceConfig instance, ClusterState state)
    {
        var key = (instance.Namespace, KubernetesObjectBuilder.AppName(instance.Service, instance.Instance));
        return KubernetesObjectBuilder.UsesStatefulSet(instance)
            ? state.StatefulSets.GetValueOrDefault(key)
            : state.Deployments.GetValueOrDefault(key);
    }

    /// <summary>
    /// The namespace of a Paasta-managed copy of the instance (same service, instance and PaaSTA cluster) that runs
    /// in a namespace other than the one soa-configs names now, or null: the instance has moved and the old copy is
    /// still there (only -Prune removes it, as PaaSTA's cleanup job does).
    /// </summary>
    public static string? OldNamespaceOf(InstanceConfig instance, ClusterState state) =>
        state.Deployments.Values.Select(d => d.Metadata).Concat(state.StatefulSets.Values.Select(s => s.Metadata))
            .Where(m => m.NamespaceProperty != instance.Namespace && KubeLabels.IsPaastaManaged(m)
                && KubeLabels.Of(m, KubernetesObjectBuilder.ServiceLabel) == instance.Service
                && KubeLabels.Of(m, KubernetesObjectBuilder.InstanceLabel) == instance.Instance
                && KubeLabels.Of(m, KubernetesObjectBuilder.ClusterLabel) == instance.Cluster)
            .Select(m => m.NamespaceProperty).Order(StringComparer.Ordinal).FirstOrDefault();

    private static int? ReplicasOf(IKubernetesObject<V1ObjectMeta>? live) =>
        live switch { V1Deployment d => d.Spec?.Replicas, V1StatefulSet s => s.Spec?.Replicas, _ => null };

    /// <summary>
    /// The objects Sync wants for a request, given what the cluster holds: the live replica count of an autoscaled
    /// instance and the signatures of the Secrets its env references. This is the one place both Sync and
    /// ConvertTo-PaastaKubernetesObject build from (with <see cref="ClusterState.Empty"/> when offline).
    /// Throws the builder's PaastaException for an instance that cannot be built.
    /// </summary>
    public static DesiredApp Desire(SyncRequest request, ClusterState state)
    {
        var (instance, branch, context) = request;
        if (branch is null) throw new ArgumentException("no deployment to build", nameof(request));
        var signed = state.Secrets.For(instance) is { } signatures ? context with { SecretSignatures = signatures } : context;
        return KubernetesObjectBuilder.Build(instance, branch, signed, ReplicasOf(LiveController(instance, state)));
    }

    /// <summary>The result of an instance whose deploy group has no deployment yet.</summary>
    public static SyncResult NoDeployment(InstanceConfig instance) => new()
    {
        Service = instance.Service,
        Cluster = instance.Cluster,
        Instance = instance.Instance,
        Namespace = instance.Namespace,
        Name = KubernetesObjectBuilder.AppName(instance.Service, instance.Instance),
        Action = SyncAction.NoDeployment,
        Message = $"{DeploymentBranch.NotDeployedReason(instance)} (mark a version for deployment, then run New-PaastaDeployments)",
    };

    private SyncPlanItem PlanOne(SyncRequest request, ClusterState state, HashSet<string> namespacesPlanned)
    {
        var (instance, branch, _) = request;
        if (branch is null) return new SyncPlanItem(NoDeployment(instance), null, null, Array.Empty<KubeOperation>());
        var result = new SyncResult
        {
            Service = instance.Service,
            Cluster = instance.Cluster,
            Instance = instance.Instance,
            Namespace = instance.Namespace,
            Name = KubernetesObjectBuilder.AppName(instance.Service, instance.Instance),
            DesiredState = branch.DesiredState,
        };

        var key = (instance.Namespace, result.Name!);
        var wantsStatefulSet = KubernetesObjectBuilder.UsesStatefulSet(instance);
        var live = LiveController(instance, state);
        var liveReplicas = ReplicasOf(live);

        DesiredApp desired;
        try
        {
            desired = Desire(request, state);
        }
        catch (PaastaException e)
        {
            return new SyncPlanItem(result with { Action = SyncAction.Failed, Message = e.Message }, null, live, Array.Empty<KubeOperation>()) { Error = e };
        }
        result = result with
        {
            Kind = desired.Kind,
            NewConfigSha = desired.ConfigSha,
            NewGitSha = branch.GitSha,
            NewImageVersion = branch.ImageVersion,
            NewReplicas = desired.Replicas,
        };
        if (live is not null && KubeLabels.Of(live.Metadata, KubernetesObjectBuilder.ClusterLabel) is { } liveCluster && liveCluster != instance.Cluster)
        {
            var error = new PaastaException("ClusterMismatch", PaastaErrorKind.InvalidOperation,
                $"{desired.Kind} {key.Item1}/{key.Item2} on this Kubernetes cluster belongs to PaaSTA cluster '{liveCluster}', not '{instance.Cluster}'; check -Cluster and -Context. Nothing was changed.")
            { Target = $"{key.Item1}/{key.Item2}" };
            return new SyncPlanItem(result with { Action = SyncAction.Failed, Message = error.Message }, desired, live, Array.Empty<KubeOperation>()) { Error = error };
        }

        var ops = new List<KubeOperation>();
        var notes = new List<string>(desired.Notes);
        var otherKind = wantsStatefulSet ? state.Deployments.ContainsKey(key) : state.StatefulSetsListed && state.StatefulSets.ContainsKey(key);
        if (otherKind) notes.Add($"a {(wantsStatefulSet ? "Deployment" : "StatefulSet")} of the same name also exists; it is left for cleanup");

        // downthenup promises no overlap: a moved instance starts in its new namespace only once the old copy is
        // gone (docs/BEHAVIOUR.md §6.2; PaaSTA's setup_kubernetes_job skips the create the same way).
        if (live is null && (instance.BounceMethod ?? "crossover") == "downthenup" && OldNamespaceOf(instance, state) is { } oldNamespace)
            return new SyncPlanItem(result with
            {
                Action = SyncAction.Bouncing,
                Message = $"downthenup: the copy in namespace {oldNamespace} must be gone before {instance.Namespace} gets one; Sync-PaastaInstance -Prune drains and removes it",
            }, desired, null, Array.Empty<KubeOperation>());

        SyncAction action;
        if (live is null)
        {
            if (state.MissingNamespaces.Contains(instance.Namespace) && namespacesPlanned.Add(instance.Namespace))
                ops.Add(new KubeOperation("create", "Namespace", "", instance.Namespace, Array.Empty<string>(), ct => _writer.EnsureNamespaceAsync(instance.Namespace, ct)));
            ops.Add(new KubeOperation("create", desired.Kind, desired.Namespace, desired.Name, new[]
            {
                $"{desired.Replicas} replica(s) of {desired.Template.Spec.Containers[0].Image}",
                $"config_sha {desired.ConfigSha}",
            }, ct => _writer.CreateControllerAsync(desired, ct)));
            action = SyncAction.Created;
        }
        else
        {
            result = result with
            {
                OldConfigSha = KubeLabels.Of(live.Metadata, ConfigSha.Label),
                OldGitSha = KubeLabels.Of(live.Metadata, KubernetesObjectBuilder.GitShaLabel),
                OldImageVersion = KubeLabels.Of(live.Metadata, KubernetesObjectBuilder.ImageVersionLabel),
                OldReplicas = liveReplicas,
                ReadyReplicas = live switch { V1Deployment d => d.Status?.ReadyReplicas ?? 0, V1StatefulSet s => s.Status?.ReadyReplicas ?? 0, _ => 0 },
            };
            var versionChanged = result.OldGitSha != result.NewGitSha || result.OldImageVersion != result.NewImageVersion;
            var configChanged = result.OldConfigSha != result.NewConfigSha;
            var replicasChanged = result.OldReplicas != result.NewReplicas;
            if (versionChanged || configChanged)
            {
                var details = new List<string>();
                if (versionChanged)
                    details.Add($"version {Short(result.OldGitSha)}{Iv(result.OldImageVersion)} -> {Short(result.NewGitSha)}{Iv(result.NewImageVersion)}");
                if (configChanged) details.Add($"config_sha {result.OldConfigSha ?? "(none)"} -> {result.NewConfigSha}");
                if (replicasChanged) details.Add($"replicas {result.OldReplicas} -> {result.NewReplicas}");
                var skip = new HashSet<string>(ObjectDiff.VersionLabels) { "replicas", "apiVersion", "kind" };
                details.AddRange(ObjectDiff.Describe(state.ControllerAsJson(live), ObjectDiff.ToJson(desired.Controller), skipKeys: skip)
                    .Where(l => !l.StartsWith("spec.template.spec.containers[", StringComparison.Ordinal) || !l.Contains("].image:", StringComparison.Ordinal) || !versionChanged));
                ops.AddRange(_updater.PlanUpdate(desired, live, details, _writer));
                action = SyncAction.Updated;
            }
            else if (replicasChanged)
            {
                ops.Add(new KubeOperation("scale", desired.Kind, desired.Namespace, desired.Name,
                    new[] { $"replicas {result.OldReplicas} -> {result.NewReplicas} (same config_sha {desired.ConfigSha}: no rollout)" },
                    ct => _writer.ScaleControllerAsync(desired, ct)));
                action = SyncAction.Scaled;
            }
            else action = SyncAction.Unchanged;
        }

        ops.AddRange(PlanPodDisruptionBudget(desired, state));
        if (desired.StatefulSet is null) ops.AddRange(PlanHorizontalPodAutoscaler(desired, state));
        if (action == SyncAction.Unchanged && ops.Count > 0) action = SyncAction.Reconciled;

        var diff = string.Join("\n", ops.Select(o => o.Describe()));
        return new SyncPlanItem(result with
        {
            Action = action,
            Changes = ops.Select(o => o.Summary).ToList(),
            Diff = diff,
            Message = notes.Count == 0 ? null : string.Join("; ", notes),
        }, desired, live, ops);
    }

    private IEnumerable<KubeOperation> PlanPodDisruptionBudget(DesiredApp desired, ClusterState state)
    {
        if (desired.PodDisruptionBudget is not { } pdb) yield break;
        var version = state.PdbApiVersion;
        if (!state.PodDisruptionBudgets.TryGetValue((desired.Namespace, desired.Name), out var live))
        {
            yield return new KubeOperation("create", "PodDisruptionBudget", desired.Namespace, desired.Name,
                new[] { $"maxUnavailable {pdb["spec"]!["maxUnavailable"]!.ToJsonString()} ({version})" },
                ct => _writer.CreateCustomAsync(version, "poddisruptionbudgets", pdb, ct));
            yield break;
        }
        // PaaSTA never touches a budget that uses minAvailable.
        if (live["spec"]?["minAvailable"] is not null) yield break;
        var diff = ObjectDiff.Describe(live["spec"], pdb["spec"], "spec");
        if (diff.Count == 0) yield break;
        var patch = new JsonObject { ["spec"] = pdb["spec"]!.DeepClone() };
        yield return new KubeOperation("patch", "PodDisruptionBudget", desired.Namespace, desired.Name, diff,
            ct => _writer.PatchCustomAsync(version, "poddisruptionbudgets", desired.Namespace, desired.Name, patch, ct));
    }

    private IEnumerable<KubeOperation> PlanHorizontalPodAutoscaler(DesiredApp desired, ClusterState state)
    {
        if (!state.HorizontalPodAutoscalersListed || state.HpaApiVersion is not { } version) yield break;
        state.HorizontalPodAutoscalers.TryGetValue((desired.Namespace, desired.Name), out var live);
        var wanted = desired.HorizontalPodAutoscaler;
        if (wanted is null)
        {
            if (live is not null)
                yield return new KubeOperation("delete", "HorizontalPodAutoscaler", desired.Namespace, desired.Name,
                    new[] { desired.Branch.IsStopped ? "the instance is stopped" : "the instance is not autoscaled" },
                    ct => _writer.DeleteCustomAsync(version, "horizontalpodautoscalers", desired.Namespace, desired.Name, ct));
            yield break;
        }
        if (live is null)
        {
            yield return new KubeOperation("create", "HorizontalPodAutoscaler", desired.Namespace, desired.Name,
                new[] { $"{wanted["spec"]!["minReplicas"]}..{wanted["spec"]!["maxReplicas"]} replicas ({version})" },
                ct => _writer.CreateCustomAsync(version, "horizontalpodautoscalers", wanted, ct));
            yield break;
        }
        var diff = ObjectDiff.Describe(live["spec"], wanted["spec"], "spec");
        if (diff.Count == 0) yield break;
        var patch = new JsonObject { ["spec"] = wanted["spec"]!.DeepClone() };
        yield return new KubeOperation("patch", "HorizontalPodAutoscaler", desired.Namespace, desired.Name, diff,
            ct => _writer.PatchCustomAsync(version, "horizontalpodautoscalers", desired.Namespace, desired.Name, patch, ct));
    }

    private static string? Short(string? sha) => sha is { Length: > 8 } ? sha[..8] : sha ?? "(none)";
    private static string Iv(string? imageVersion) => imageVersion is null ? "" : $" (image_version {imageVersion})";

    // ------------------------------------------------------------------------------------------ apply

    /// <summary>
    /// Makes the planned writes in order. A failed write stops this instance (the result says which and why);
    /// the next pass picks up from whatever state the cluster is in.
    /// </summary>
    public async Task<SyncResult> ApplyAsync(SyncPlanItem item, CancellationToken cancellation)
    {
        var ops = item.Operations;
        var done = 0;
        try
        {
            while (done < ops.Count)
            {
                // Writes to single pods (drain, check, undrain) do not depend on one another: a run of them goes
                // together, a few at a time, so one slow drain method does not hold up the others' copies.
                var run = ops.Skip(done).TakeWhile(o => o.Kind == "Pod").ToList();
                if (run.Count > 1)
                {
                    using var slots = new SemaphoreSlim(PodOperationConcurrency);
                    await Task.WhenAll(run.Select(async op =>
                    {
                        await slots.WaitAsync(cancellation).ConfigureAwait(false);
                        try { await op.Run(cancellation).ConfigureAwait(false); }
                        finally { slots.Release(); }
                    })).ConfigureAwait(false);
                    done += run.Count;
                    continue;
                }
                await ops[done].Run(cancellation).ConfigureAwait(false);
                done++;
            }
            return item.Result;
        }
        catch (PaastaException e)
        {
            var failed = item.Operations[Math.Min(done, item.Operations.Count - 1)];
            throw new PaastaException(e.ErrorId, e.Kind,
                $"{item.Result.Service}.{item.Result.Instance} on {item.Result.Cluster}: could not {failed.Summary}" +
                (done > 0 ? $" (after {done} of {item.Operations.Count} change(s) were made)" : "") + $": {e.Message}", e)
            { Target = e.Target };
        }
    }
}
