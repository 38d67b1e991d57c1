using System.Diagnostics;
using System.Management.Automation;
using System.Text.Json;
using Paasta.Config;
using Paasta.Deployments;
using Paasta.Kubernetes;
using Paasta.Bounce;
using Paasta.Errors;
using Paasta.Settings;

namespace Paasta.Commands;

/// <summary>
/// Shared by the cmdlets that work on long-running instances in a Kubernetes cluster: instances by
/// -Service/-Cluster/-Instance or from Get-PaastaInstance, their deployments.json, and the build context
/// (registry, soa-configs sha, hacheck sidecar image).
/// </summary>
public abstract class KubeInstanceCmdlet : KubeCmdlet
{
    protected const string ByNameSet = "ByName";
    protected const string InputObjectSet = "InputObject";

    private readonly Dictionary<string, DeploymentsDocument?> _deployments = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _soaShas = new(StringComparer.Ordinal);

    /// <summary>Services; wildcards allowed.</summary>
    [Parameter(ParameterSetName = ByNameSet, Position = 0, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    [Alias("Name")]
    public string[] Service { get; set; } = Array.Empty<string>();

    /// <summary>Clusters; wildcards allowed. Defaults to $env:PAASTA_CLUSTER or Set-PaastaConfiguration -Cluster, else every cluster the service has instance files for.</summary>
    [Parameter(ParameterSetName = ByNameSet, Position = 1, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ClusterCompleter))]
    public string[]? Cluster { get; set; }

    /// <summary>Instances; wildcards allowed. Defaults to every long-running (kubernetes, eks) instance.</summary>
    [Parameter(ParameterSetName = ByNameSet, Position = 2, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(InstanceCompleter))]
    public string[]? Instance { get; set; }

    /// <summary>Instances from Get-PaastaInstance (kubernetes and eks ones).</summary>
    [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, ValueFromPipeline = true)]
    public InstanceConfig[] InputObject { get; set; } = Array.Empty<InstanceConfig>();

    /// <summary>The image registry; defaults to service.yaml docker_registry, then $env:PAASTA_DOCKER_REGISTRY, then Set-PaastaConfiguration -DockerRegistry.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Registry { get; set; }

    /// <summary>The instances collected from all input, in order.</summary>
    protected List<InstanceConfig> Instances { get; } = new();

    protected override void Process()
    {
        try
        {
            if (ParameterSetName == InputObjectSet)
            {
                foreach (var i in InputObject)
                {
                    if (InstanceTypes.IsLongRunning(i.InstanceType)) Instances.Add(i);
                    else WriteError(new PaastaException("InstanceNotLongRunning", PaastaErrorKind.InvalidArgument,
                        $"{i} is a {i.InstanceType} instance; {MyInvocation.MyCommand.Name} works on long-running (kubernetes, eks) instances.") { Target = i.ToString() });
                }
                return;
            }
            var reader = Reader(ResolveSoaDir(SoaDir));
            var clusters = Cluster ?? (Operation.Settings.Cluster is { } fallback ? new[] { fallback } : null);
            if (Cluster is null && clusters is not null) WriteVerbose($"Cluster {clusters[0]} (from $env:PAASTA_CLUSTER or Set-PaastaConfiguration -Cluster).");
            var filter = new InstanceFilter(Matcher(clusters), Matcher(Instance), InstanceTypes.IsLongRunning);
            foreach (var name in SelectServices(reader, Service))
            {
                var found = 0;
                foreach (var r in reader.LoadInstances(reader.LoadService(name), filter))
                {
                    if (r.Error is not null) WriteError(r.Error);
                    else { Instances.Add(r.Value!); found++; }
                }
                if (found == 0 && !HasWildcards(name) && (Instance ?? Array.Empty<string>()).All(n => !HasWildcards(n)))
                    WriteError(new PaastaException("InstanceNotFound", PaastaErrorKind.ObjectNotFound,
                        $"{name} has no long-running instance{(Instance is null ? "" : " " + string.Join(", ", Instance))}{(clusters is null ? "" : " on " + string.Join(", ", clusters))}.")
                    { Target = name });
            }
        }
        catch (PaastaException e) { WriteError(e); }
    }

    /// <summary>
    /// One Kubernetes connection serves one PaaSTA cluster: instances of several clusters at once would land in the
    /// same namespaces under the same names. Returns false (after an error) in that case.
    /// </summary>
    protected bool RequireOneCluster()
    {
        var clusters = Instances.Select(i => i.Cluster).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (clusters.Count <= 1) return true;
        WriteError(new PaastaException("MultipleClusters", PaastaErrorKind.InvalidArgument,
            $"The instances given belong to clusters {string.Join(", ", clusters)}; one Kubernetes context serves one cluster. Pass -Cluster (and -Context for that cluster), or set $env:PAASTA_CLUSTER.")
        { Target = string.Join(",", clusters) });
        return false;
    }

    /// <summary>The service's deployments.json (read once per call); null after an error.</summary>
    protected DeploymentsDocument? DeploymentsOf(InstanceConfig i)
    {
        var dir = Path.Combine(i.SoaDir, i.Service);
        if (_deployments.TryGetValue(dir, out var doc)) return doc;
        try { doc = DeploymentsFileStore.Load(DeploymentsFileStore.PathFor(dir), i.Service); }
        catch (PaastaException e) { WriteError(e); doc = null; }
        return _deployments[dir] = doc;
    }

    /// <summary>The registry for an instance's image: -Registry, service.yaml docker_registry, $env:PAASTA_DOCKER_REGISTRY, the saved setting.</summary>
    protected string? RegistryOf(InstanceConfig i) =>
        Registry
        ?? (i.Config.TryGetValue("docker_registry", out var fromService) ? fromService as string : null)
        ?? Operation.Settings.DockerRegistry;

    protected KubernetesBuildContext? BuildContext(InstanceConfig i, bool reportMissingRegistry)
    {
        var registry = RegistryOf(i);
        if (string.IsNullOrEmpty(registry))
        {
            if (reportMissingRegistry)
                WriteError(new PaastaException("RegistryNotConfigured", PaastaErrorKind.InvalidOperation,
                    $"{i}: no docker registry: set docker_registry in service.yaml, pass -Registry, set $env:PAASTA_DOCKER_REGISTRY or Set-PaastaConfiguration -DockerRegistry.") { Target = i.ToString() });
            return null;
        }
        return new KubernetesBuildContext(registry, SoaConfigsSha(i.SoaDir))
        {
            HacheckSidecarImage = Operation.Settings.HacheckSidecarImage,
        };
    }

    /// <summary>git_sha of &lt;soa_dir&gt;/.metadata.json (PAASTA_SOA_CONFIGS_SHA), or "".</summary>
    private string SoaConfigsSha(string soaDir)
    {
        if (_soaShas.TryGetValue(soaDir, out var sha)) return sha;
        sha = "";
        var path = Path.Combine(soaDir, ".metadata.json");
        if (File.Exists(path))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(path));
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("git_sha", out var s) && s.ValueKind == JsonValueKind.String)
                    sha = s.GetString() ?? "";
            }
            catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
            {
                WriteWarning($"{path} is not readable JSON ({e.Message}); PAASTA_SOA_CONFIGS_SHA will be empty.");
            }
        }
        return _soaShas[soaDir] = sha;
    }

    protected static string Short(string? sha) => sha is { Length: > 8 } ? sha[..8] : sha ?? "(none)";
}

/// <summary>
/// <para type="synopsis">Makes Kubernetes run what soa-configs and deployments.json ask for (setup_kubernetes_job).</para>
/// <para type="description">For each long-running (kubernetes or eks) instance, builds the objects PaaSTA would run — a Deployment (a StatefulSet when persistent_volumes is set) with its names, labels, annotations, environment, resources, probes, scheduling constraints, bounce strategy and config_sha, its PodDisruptionBudget and, when autoscaled, its HorizontalPodAutoscaler — and makes the cluster match. It reads the cluster with a few LISTs by the label paasta.yelp.com/managed=true (never one request per instance), then writes only what differs: it creates the namespace and the controller when missing, scales when only the replica count changed (no pod is replaced), bounces a Deployment whose version or config_sha changed by its bounce_method (crossover, brutal, downthenup, upthendown): the old Deployment and ReplicaSets are deleted with propagationPolicy Orphan so their pods keep serving, the new Deployment is created, and old pods are drained through the instance's drain_method and deleted only once it says they are safe to kill, a few at each pass as the method allows (a StatefulSet is replaced and rolled by Kubernetes); and writes nothing when everything matches; -Wait keeps passing until every bounce is done and the new copies are ready, with progress; a second run in a row makes no write. A stopped instance (desired_state stop) gets 0 replicas; an instance whose deploy group has no deployment yet is reported with a warning, not an error. -WhatIf prints, per instance, each object that would be created, replaced, scaled or patched with its changed fields, and changes nothing. API versions of PDB and HPA are discovered from the server. Uses the kubeconfig conventions (-KubeConfig, $env:KUBECONFIG, ~/.kube/config, -Context); all instances must belong to one cluster. Emits one Paasta.Kubernetes.SyncResult per instance.</para>
/// </summary>
/// <example>
///   <code>Sync-PaastaInstance -Service hello -Cluster local</code>
///   <para>Brings every long-running instance of hello on cluster local in line with soa-configs and deployments.json.</para>
/// </example>
/// <example>
///   <code>Get-PaastaInstance -Service hello -Cluster local | Sync-PaastaInstance -WhatIf</code>
///   <para>Shows, instance by instance, what a sync would create, scale or replace and which fields differ, without changing the cluster.</para>
/// </example>
/// <example>
///   <code>Sync-PaastaInstance -Service * -Cluster local -Verbose | Where-Object Action -ne Unchanged</code>
///   <para>Syncs every service on local and lists only the instances that changed; -Verbose reports the API requests and writes made.</para>
/// </example>
/// <example>
///   <code>Sync-PaastaInstance -Service hello -Cluster local -Wait -Timeout 600</code>
///   <para>Bounces hello's instances to what deployments.json says and keeps passing, with progress, until no old copy is left and the new ones are ready; after ten minutes it stops with SyncWaitTimedOut, leaving the old copies that remain serving.</para>
/// </example>
[Cmdlet(VerbsData.Sync, "PaastaInstance", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(SyncResult))]
public sealed class SyncPaastaInstance : KubeInstanceCmdlet
{
    private const int ProgressId = 0x5A5A;

    /// <summary>Keep making passes until every instance has converged — no old copy left, and as many copies ready as wanted — showing progress (old ready, new ready, draining); without it, one pass.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>With -Wait: seconds before giving up (default 3600). The bounce stays where it is; a later Sync continues it.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Timeout { get; set; } = 3600;

    /// <summary>With -Wait: seconds between passes (default 1).</summary>
    [Parameter]
    [ValidateRange(0.1, 600)]
    public double PollInterval { get; set; } = 1;

    protected override void End()
    {
        var progress = new ProgressRecord(ProgressId, "Sync-PaastaInstance", "Reading soa-configs and deployments.json");
        try
        {
            if (Instances.Count == 0 || !RequireOneCluster()) return;
            var requests = new List<SyncRequest>();
            foreach (var i in Instances)
            {
                if (DeploymentsOf(i) is not { } doc) continue;
                if (BuildContext(i, reportMissingRegistry: true) is not { } context) continue;
                requests.Add(new SyncRequest(i, DeploymentBranch.For(i, doc), context));
            }
            if (requests.Count == 0) return;

            using var drainers = new SyncDrainers(hacheckSidecar: requests.Any(r => r.Context.HacheckSidecarImage is not null));
            var reconciler = new KubernetesReconciler(Kube, bounce: new BounceEngine(Kube, drainers.For));
            var watch = Stopwatch.StartNew();
            var pass = 0;
            var declined = new HashSet<string>(StringComparer.Ordinal);
            while (true)
            {
                pass++;
                progress.StatusDescription = pass == 1 ? $"Reading the cluster for {requests.Count} instance(s)" : $"Pass {pass} ({(int)watch.Elapsed.TotalSeconds} s)";
                WriteProgress(progress);
                var requestsBefore = Kube.Counter.Requests;
                var passWatch = Stopwatch.StartNew();
                var plan = Await(reconciler.PlanAsync(requests, CancellationToken));
                WriteVerbose($"Pass {pass}: planned {plan.Count} instance(s) from {Kube.Counter.Requests - requestsBefore} API request(s) in {passWatch.ElapsedMilliseconds} ms: " +
                    string.Join(", ", plan.GroupBy(p => p.Result.Action).Select(g => $"{g.Count()} {g.Key}")) + ".");

                var results = new List<SyncResult>();
                var done = 0;
                foreach (var item in plan)
                {
                    if (!Wait) progress.PercentComplete = (int)(100.0 * done++ / plan.Count);
                    progress.CurrentOperation = $"{item.Result.Service}.{item.Result.Instance}: {item.Result.Action}";
                    WriteProgress(progress);
                    var key = $"{item.Result.Service}.{item.Result.Instance}";
                    if (declined.Contains(key)) continue;
                    var result = Apply(reconciler, item, emit: !Wait);
                    if (result.WhatIf) declined.Add(key);
                    results.Add(result);
                }
                if (!Wait) return;

                var pending = results.Where(r => r.Converging).ToList();
                if (pending.Count == 0 || watch.Elapsed.TotalSeconds >= Timeout)
                {
                    foreach (var r in results) WriteObject(r);
                    if (pending.Count > 0)
                        WriteError(new PaastaException("SyncWaitTimedOut", PaastaErrorKind.OperationTimeout,
                            $"After {Timeout} s these instances have not converged: " + string.Join("; ", pending.Select(Describe)) +
                            ". Nothing was rolled back: old copies that remain keep serving, and the next Sync continues from here.")
                        { Target = string.Join(",", pending.Select(r => $"{r.Service}.{r.Instance}")) });
                    return;
                }
                var bouncing = pending.Where(r => r.Bounce is not null).ToList();
                progress.StatusDescription = $"{pending.Count} instance(s) converging: new ready {pending.Sum(r => r.Bounce?.NewReady ?? r.ReadyReplicas ?? 0)}/{pending.Sum(r => r.NewReplicas ?? 0)}, " +
                    $"old ready {bouncing.Sum(r => r.Bounce!.OldReady)}, draining {bouncing.Sum(r => r.Bounce!.Draining)} ({(int)watch.Elapsed.TotalSeconds} s)";
                progress.PercentComplete = -1;
                WriteProgress(progress);
                Await(Task.Delay(TimeSpan.FromSeconds(PollInterval), CancellationToken));
            }
        }
        catch (PaastaException e) { WriteError(e); }
        finally
        {
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
            base.End();
        }
    }

    private static string Describe(SyncResult r) => r.Bounce is { } b
        ? $"{r.Service}.{r.Instance}: {b.NewReady} of {b.Wanted} new copies ready, {b.OldCopies} old left ({b.Draining} draining) — {b.Reason}"
        : $"{r.Service}.{r.Instance}: {r.ReadyReplicas ?? 0} of {r.NewReplicas} copies ready (Get-PaastaInstanceStatus says why)";

    /// <summary>Applies one instance's plan after ShouldProcess; returns what happened and, unless -Wait collects them, writes it.</summary>
    private SyncResult Apply(KubernetesReconciler reconciler, SyncPlanItem item, bool emit)
    {
        var result = item.Result;
        var target = $"{result.Service}.{result.Instance} on {result.Cluster}";
        if (result.Message is not null && result.Action is not (SyncAction.NoDeployment or SyncAction.Failed)) WriteVerbose($"{target}: {result.Message}.");
        SyncResult Emit(SyncResult r)
        {
            if (emit) WriteObject(r);
            return r;
        }
        switch (result.Action)
        {
            case SyncAction.NoDeployment:
                WriteWarning($"{target}: {result.Message}.");
                return Emit(result);
            case SyncAction.Failed:
                WriteError(item.Error ?? new PaastaException("InstanceConfigInvalid", PaastaErrorKind.InvalidData, result.Message ?? "cannot be synced") { Target = target });
                return Emit(result);
        }
        if (item.Operations.Count == 0)
        {
            WriteVerbose(result.Action == SyncAction.Unchanged
                ? $"{target}: {result.Kind} {result.Namespace}/{result.Name} already runs {Short(result.NewGitSha)} with {result.NewConfigSha} and {result.NewReplicas} replica(s)."
                : $"{target}: {result.Action}, nothing to write this pass.");
            return Emit(result);
        }
        var description = $"{target}: {result.Action}\n{Indent(result.Diff)}";
        if (!ShouldProcess(description, $"{description}\nMake these changes?", "Sync-PaastaInstance"))
            return Emit(result with { WhatIf = true });
        WriteVerbose(description);
        try
        {
            var applied = Await(reconciler.ApplyAsync(item, CancellationToken));
            if (applied.Bounce is { } bounce)
            {
                while (bounce.Errors.TryDequeue(out var error)) WriteError(error);
                if (bounce.Killed > 0) WriteVerbose($"{target}: {bounce.Killed} old pod(s) drained with {bounce.DrainMethod} and deleted.");
            }
            return Emit(applied);
        }
        catch (PaastaException e)
        {
            WriteError(e);
            return Emit(result with { Action = SyncAction.Failed, Message = e.Message });
        }
    }

    private static string Indent(string text) => string.Join("\n", text.Split('\n').Select(l => "  " + l));
}

/// <summary>
/// <para type="synopsis">Shows how long-running instances run on Kubernetes (paasta status).</para>
/// <para type="description">For each kubernetes or eks instance: the desired state and version from deployments.json and the config_sha the current soa-configs give; the version, config_sha and image the cluster's Deployment (or StatefulSet) runs; replicas wanted, ready and up to date; whether a bounce is in progress; the running versions; and every pod with its node, IP, readiness, restarts, age, version and, for a pod that is not ready, why (image pull error, crash loop, failing readiness probe with the probe's message, unschedulable). State sums it up: NotDeployed, NotRunning, Stopped, Stopping, OutOfSync (Sync-PaastaInstance would change something), Bouncing, Starting or Running. The cluster is read with one LIST of controllers and one of pods for all instances. The default view is a compact table; Format-List shows the details and pods.</para>
/// </summary>
/// <example>
///   <code>Get-PaastaInstanceStatus -Service hello -Cluster local</code>
///   <para>One line per instance of hello: state, version, config, ready/wanted replicas.</para>
/// </example>
/// <example>
///   <code>Get-PaastaInstanceStatus -Service hello -Instance main | Format-List</code>
///   <para>Everything about hello.main, including its pods and why any of them is not ready.</para>
/// </example>
/// <example>
///   <code>(Get-PaastaInstanceStatus -Service hello -Instance main).Pods | Where-Object { -not $_.Ready }</code>
///   <para>The pods of hello.main that are not ready, with their reasons.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "PaastaInstanceStatus", DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(InstanceStatus))]
public sealed class GetPaastaInstanceStatus : KubeInstanceCmdlet
{
    protected override void End()
    {
        try
        {
            if (Instances.Count == 0) return;
            var requests = new List<StatusRequest>();
            // The desired config_sha signs referenced secrets as Sync does, or status would see a bounce Sync would not make.
            var secrets = Await(SecretSignatures.ReadAsync(Kube, Instances, CancellationToken));
            foreach (var i in Instances)
            {
                var doc = DeploymentsOf(i);
                var branch = doc is null ? null : DeploymentBranch.For(i, doc);
                DesiredApp? desired = null;
                if (branch is not null && BuildContext(i, reportMissingRegistry: false) is { } context)
                {
                    if (secrets.For(i) is { } signatures) context = context with { SecretSignatures = signatures };
                    try { desired = KubernetesObjectBuilder.Build(i, branch, context); }
                    catch (PaastaException e) { WriteVerbose($"{i}: cannot compute the desired config_sha: {e.Message}"); }
                }
                requests.Add(new StatusRequest(i, branch, desired));
            }
            foreach (var status in Await(new KubernetesStatusReader(Kube).ReadAsync(requests, CancellationToken)))
                WriteObject(status);
        }
        catch (PaastaException e) { WriteError(e); }
        finally { base.End(); }
    }
}

/// <summary>
/// <para type="synopsis">Waits until the instances of a deploy group run a version and are ready (paasta wait-for-deployment).</para>
/// <para type="description">Finds the long-running instances of -Service whose deploy_group is -DeployGroup and polls the cluster until each has finished deploying the version: its Deployment runs the commit (and image version), no pod of another version is left, and at least ceil(bounce_margin_factor × replicas) pods of it are ready (a stopped instance counts as done). The version defaults to what deployments.json says the group runs. Progress is shown with Write-Progress and -Verbose reports each instance's state as it changes. When -Timeout passes, a DeploymentWaitTimedOut error names every instance that did not converge and why: its pods cannot pull their image, are in a crash loop, fail their readiness check (with the probe's message), cannot be scheduled, or the cluster still runs the old version. Emits one Paasta.Kubernetes.DeploymentWaitResult per instance in either case. Waiting changes nothing; it does not sync.</para>
/// </summary>
/// <example>
///   <code>Wait-PaastaDeployment -Service hello -DeployGroup local.everything -Timeout 300</code>
///   <para>Waits up to five minutes for every instance in local.everything to run the version deployments.json names.</para>
/// </example>
/// <example>
///   <code>Publish-PaastaDeployment hello local.everything $sha; New-PaastaDeployments hello; Sync-PaastaInstance hello local -Wait; Wait-PaastaDeployment hello local.everything -Commit $sha</code>
///   <para>The deploy path end to end: mark, regenerate deployments.json, sync, and wait until the new version is ready.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Wait, "PaastaDeployment")]
[OutputType(typeof(DeploymentWaitResult))]
public sealed class WaitPaastaDeployment : KubeCmdlet
{
    private const int ProgressId = 0x5A5B;

    /// <summary>The service.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    [Alias("Name")]
    public string Service { get; set; } = "";

    /// <summary>The deploy group whose instances to wait for.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(DeployGroupCompleter))]
    public string DeployGroup { get; set; } = "";

    /// <summary>The commit (full sha or a prefix of at least 4 hex digits). Defaults to the group's git_sha in deployments.json.</summary>
    [Parameter(Position = 2, ValueFromPipelineByPropertyName = true)]
    [Alias("Sha", "GitSha")]
    [ValidatePattern("^[0-9a-fA-F]{4,40}$")]
    public string? Commit { get; set; }

    /// <summary>The image version, when the deploy tag has one. Defaults to deployments.json's when -Commit is not given.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? ImageVersion { get; set; }

    /// <summary>Clusters whose instances to wait for; wildcards allowed. Defaults to $env:PAASTA_CLUSTER or the saved setting, else all (which must then be one).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ClusterCompleter))]
    public string[]? Cluster { get; set; }

    /// <summary>Seconds to wait before giving up (default 3600, as paasta wait-for-deployment).</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Timeout { get; set; } = 3600;

    /// <summary>Seconds between polls of the cluster (default 2).</summary>
    [Parameter]
    [ValidateRange(1, 600)]
    public int PollInterval { get; set; } = 2;

    protected override void Process()
    {
        var progress = new ProgressRecord(ProgressId, $"Wait-PaastaDeployment {Service} {DeployGroup}", "Reading soa-configs");
        try
        {
            var reader = Reader(ResolveSoaDir(SoaDir));
            SoaConfigReader.ValidateServiceName(Service);
            var svc = reader.LoadService(Service);
            var clusters = Cluster ?? (Operation.Settings.Cluster is { } c ? new[] { c } : null);
            var instances = new List<InstanceConfig>();
            foreach (var r in reader.LoadInstances(svc, new InstanceFilter(Matcher(clusters), null, InstanceTypes.IsLongRunning)))
            {
                if (r.Error is not null) WriteError(r.Error);
                else if (r.Value!.DeployGroup == DeployGroup) instances.Add(r.Value);
            }
            if (instances.Count == 0)
                throw new PaastaException("DeployGroupNotUsed", PaastaErrorKind.InvalidArgument,
                    $"No long-running instance of {Service}{(clusters is null ? "" : " on " + string.Join(", ", clusters))} uses deploy group '{DeployGroup}'. Groups in deploy.yaml: {string.Join(", ", svc.DeployGroups)}.")
                { Target = DeployGroup };
            var clusterNames = instances.Select(i => i.Cluster).Distinct().ToList();
            if (clusterNames.Count > 1)
                throw new PaastaException("MultipleClusters", PaastaErrorKind.InvalidArgument,
                    $"Deploy group '{DeployGroup}' has instances on {string.Join(", ", clusterNames)}; one Kubernetes context serves one cluster. Pass -Cluster (and -Context for that cluster).")
                { Target = string.Join(",", clusterNames) };

            var doc = TryLoadDeployments(svc);
            var (sha, imageVersion) = TargetVersion(doc);
            var target = $"{Short(sha)}{(imageVersion is null ? "" : "+" + imageVersion)}";
            progress.Activity = $"Waiting for {Service} {DeployGroup} to run {target}";
            WriteVerbose($"Waiting up to {Timeout} s for {instances.Count} instance(s) on {clusterNames[0]} to run {target}: {string.Join(", ", instances.Select(i => i.Instance))}.");

            var reader2 = new KubernetesStatusReader(Kube);
            var watch = Stopwatch.StartNew();
            var deadline = TimeSpan.FromSeconds(Timeout);
            var last = new Dictionary<string, string>(StringComparer.Ordinal);
            List<(InstanceConfig Instance, InstanceStatus Status, DeploymentProgress.Verdict Verdict)> states;
            while (true)
            {
                var requests = instances.Select(i => new StatusRequest(i, doc is null ? null : DeploymentBranch.For(i, doc), null)).ToList();
                var statuses = Await(reader2.ReadAsync(requests, CancellationToken, explain: false));
                states = instances.Zip(statuses, (i, s) => (i, s, DeploymentProgress.Evaluate(s, i, sha, imageVersion))).ToList();
                foreach (var (i, _, v) in states)
                {
                    if (!last.TryGetValue(i.Instance, out var before) || before != v.Reason) WriteVerbose($"{i.Service}.{i.Instance} on {i.Cluster}: {v.Reason}");
                    last[i.Instance] = v.Reason;
                }
                var converged = states.Count(s => s.Verdict.Done);
                progress.PercentComplete = (int)(100.0 * converged / states.Count);
                progress.StatusDescription = $"{converged} of {states.Count} instance(s) ready at {target} ({(int)watch.Elapsed.TotalSeconds} s)";
                var pending = states.FirstOrDefault(s => !s.Verdict.Done);
                progress.CurrentOperation = pending.Instance is null ? "" : $"{pending.Instance.Instance}: {pending.Verdict.Reason}";
                WriteProgress(progress);
                if (converged == states.Count || watch.Elapsed >= deadline) break;
                var wait = TimeSpan.FromSeconds(Math.Min(PollInterval, Math.Max(0.1, (deadline - watch.Elapsed).TotalSeconds)));
                Await(Task.Delay(wait, CancellationToken));
            }

            var failed = states.Where(s => !s.Verdict.Done).ToList();
            if (failed.Count > 0)
            {
                // The final word gets the pods' own explanations (probe messages from events), fetched once.
                var explained = Await(reader2.ReadAsync(failed.Select(f => new StatusRequest(f.Instance, doc is null ? null : DeploymentBranch.For(f.Instance, doc), null)).ToList(), CancellationToken));
                failed = failed.Zip(explained, (f, s) => (f.Instance, s, DeploymentProgress.Evaluate(s, f.Instance, sha, imageVersion))).ToList();
                states = states.Select(s => failed.FirstOrDefault(f => f.Instance == s.Instance) is { Instance: not null } f ? f : s).ToList();
            }
            foreach (var (i, status, verdict) in states)
                WriteObject(new DeploymentWaitResult
                {
                    Service = i.Service,
                    Cluster = i.Cluster,
                    Instance = i.Instance,
                    DeployGroup = DeployGroup,
                    GitSha = sha,
                    ImageVersion = imageVersion,
                    Converged = verdict.Done,
                    ReadyReplicas = verdict.Ready,
                    RequiredReplicas = verdict.Required,
                    Replicas = status.Replicas,
                    Elapsed = watch.Elapsed,
                    Reason = verdict.Reason,
                });
            if (failed.Count > 0)
                WriteError(new PaastaException("DeploymentWaitTimedOut", PaastaErrorKind.OperationTimeout,
                    $"{failed.Count} of {states.Count} instance(s) of {Service} in {DeployGroup} did not run {target} within {Timeout} s (PaaSTA keeps deploying; see Get-PaastaInstanceStatus -Service {Service}):" +
                    string.Concat(failed.Select(f => $"\n  {f.Instance.Instance} on {f.Instance.Cluster}: {f.Verdict.Reason}")))
                { Target = $"{Service}:{DeployGroup}" });
        }
        catch (PaastaException e) { WriteError(e); }
        finally
        {
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
        }
    }

    private DeploymentsDocument? TryLoadDeployments(ServiceConfig svc)
    {
        try { return DeploymentsFileStore.Load(DeploymentsFileStore.PathFor(svc.Directory), svc.Name); }
        catch (PaastaException e) when (Commit is not null)
        {
            WriteVerbose($"No usable deployments.json ({e.Message}); waiting on the cluster only.");
            return null;
        }
    }

    private (string Sha, string? ImageVersion) TargetVersion(DeploymentsDocument? doc)
    {
        if (Commit is not null) return (Commit.ToLowerInvariant(), ImageVersion);
        if (doc is not null && doc.Deployments.TryGetValue(DeployGroup, out var d) && d.GitSha is not null)
        {
            WriteVerbose($"Version from deployments.json: {d.GitSha}{(d.ImageVersion is null ? "" : " image version " + d.ImageVersion)}.");
            return (d.GitSha, ImageVersion ?? d.ImageVersion);
        }
        throw new PaastaException("DeployGroupNotDeployed", PaastaErrorKind.ObjectNotFound,
            $"deployments.json of {Service} has no deployment for '{DeployGroup}'; pass -Commit, or mark a version (Publish-PaastaDeployment) and run New-PaastaDeployments.")
        { Target = DeployGroup };
    }

    private static string Short(string sha) => sha.Length > 8 ? sha[..8] : sha;

}
