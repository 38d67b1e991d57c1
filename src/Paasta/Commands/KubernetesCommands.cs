using System.Management.Automation;
using Paasta.Config;
using Paasta.Kubernetes;
using Paasta.Operations;
using Paasta.Settings;
using Paasta.Sync;

namespace Paasta.Commands;

/// <summary>
/// Shared by the cmdlets that work on long-running instances in Kubernetes clusters: instances by
/// -Service/-Cluster/-Instance or from Get-PaastaInstance, collected from all input for End.
/// </summary>
public abstract class KubeInstanceCmdlet : KubeCmdlet
{
    protected const string ByNameSet = "ByName";
    protected const string InputObjectSet = "InputObject";

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

    /// <summary>The -Service and -Cluster names of all input (ByName), for -Prune.</summary>
    protected List<string> ServicesNamed { get; } = new();
    protected List<string>? ClustersNamed { get; private set; }

    protected override PaastaSettings GivenSettings() => base.GivenSettings() with { DockerRegistry = Registry };

    protected override void Process()
    {
        if (ParameterSetName == InputObjectSet)
        {
            Instances.AddRange(RunOrWriteError(op => KubernetesInstances.Accept(op, InputObject, MyInvocation.MyCommand.Name)) ?? Array.Empty<InstanceConfig>());
            return;
        }
        ServicesNamed.AddRange(Service);
        if (Cluster is not null) (ClustersNamed ??= new()).AddRange(Cluster);
        var selection = KubernetesInstances.Selection(Service, Cluster, Instance);
        Instances.AddRange(RunOrWriteError(op => KubernetesInstances.Select(op, selection)) ?? Array.Empty<InstanceConfig>());
    }
}

/// <summary>
/// <para type="synopsis">Makes Kubernetes run what soa-configs and deployments.json ask for (setup_kubernetes_job).</para>
/// <para type="description">For each long-running (kubernetes or eks) instance, builds the objects PaaSTA would run — a Deployment (a StatefulSet when persistent_volumes is set) with its names, labels, annotations, environment, resources, probes, scheduling constraints, bounce strategy and config_sha, its PodDisruptionBudget and, when autoscaled, its HorizontalPodAutoscaler — and makes the cluster match. It reads the cluster with a few LISTs by the label paasta.yelp.com/managed=true (never one request per instance), then writes only what differs: it creates the namespace and the controller when missing, scales when only the replica count changed (no pod is replaced), bounces a Deployment whose version or config_sha changed by its bounce_method (crossover, brutal, downthenup, upthendown): the old Deployment and ReplicaSets are deleted with propagationPolicy Orphan so their pods keep serving, the new Deployment is created, and old pods are drained through the instance's drain_method and deleted only once it says they are safe to kill, a few at each pass as the method allows (a StatefulSet is replaced and rolled by Kubernetes); and writes nothing when everything matches; -Wait keeps passing until every bounce is done and the new copies are ready, with progress, for up to -TimeoutSec; a second run in a row makes no write. A stopped instance (desired_state stop) gets 0 replicas; an instance whose deploy group has no deployment yet is reported with a warning, not an error. -WhatIf prints, per instance, each object that would be created, replaced, scaled or patched with its changed fields, and changes nothing. API versions of PDB and HPA are discovered from the server. Uses the kubeconfig conventions (-KubeConfig, $env:KUBECONFIG, ~/.kube/config); each PaaSTA cluster is reached through its own context (-Context, else its entry in Set-PaastaConfiguration -ClusterContext or $env:PAASTA_CLUSTER_CONTEXT, else -KubeContext, else the current context), and instances of two clusters that would share one context are refused (MultipleClusters), since their objects would meet in the same namespaces. -Prune also removes, for the services and clusters synced, the Paasta-managed Deployments and StatefulSets (labels paasta.yelp.com/managed, service, instance and cluster) of instances that are no longer in soa-configs, with their PodDisruptionBudget and HorizontalPodAutoscaler, after draining their pods through the drain method the service's defaults give (service.yaml; the instance's own config is gone), as a stop drains them (PaaSTA's cleanup_kubernetes_jobs); -Prune looks at every instance of those services on those clusters, whatever -Instance selects, and a service whose instance file cannot be read is not pruned. An object without Paasta's labels is never touched. When soa-configs has no instance of a service on a cluster where some still run, -Prune refuses (PruneWouldRemoveAllInstances) unless -Force: that is what a soa dir mounted wrong looks like. -WhatIf lists what would be removed. Emits one Paasta.Sync.SyncResult per instance (Action Removed, or Removing while its copies drain, for pruned ones).</para>
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
///   <code>Sync-PaastaInstance -Service hello -Cluster local -Prune -WhatIf</code>
///   <para>Lists the instances of hello that run on local but are no longer in soa-configs, and the objects a prune would delete, without changing anything.</para>
/// </example>
/// <example>
///   <code>Set-PaastaConfiguration -ClusterContext @{ prod = 'ctx-prod'; canary = 'ctx-canary' }; Sync-PaastaInstance -Service hello -Cluster prod, canary</code>
///   <para>Syncs hello on two PaaSTA clusters, each through its own kubeconfig context.</para>
/// </example>
/// <example>
///   <code>Sync-PaastaInstance -Service hello -Cluster local -Wait -TimeoutSec 600</code>
///   <para>Bounces hello's instances to what deployments.json says and keeps passing, with progress, until no old copy is left and the new ones are ready; after ten minutes it stops with SyncWaitTimedOut, leaving the old copies that remain serving.</para>
/// </example>
[Cmdlet(VerbsData.Sync, "PaastaInstance", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(SyncResult))]
public sealed class SyncPaastaInstance : KubeInstanceCmdlet
{
    /// <summary>Keep making passes until every instance has converged — no old copy left, and as many copies ready as wanted — showing progress (old ready, new ready, draining); without it, one pass.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>With -Wait: seconds before giving up (default 3600). The bounce stays where it is; a later Sync continues it. Alias Timeout, its earlier name.</summary>
    [Parameter]
    [Alias("Timeout")]
    [ValidateRange(1, int.MaxValue)]
    public int TimeoutSec { get; set; } = 3600;

    /// <summary>With -Wait: seconds between passes (default 1).</summary>
    [Parameter]
    [ValidateRange(0.1, 600)]
    public double PollInterval { get; set; } = 1;

    /// <summary>Also remove the Paasta-managed objects of instances of the services synced that are no longer in soa-configs, after draining their pods.</summary>
    [Parameter]
    public SwitchParameter Prune { get; set; }

    /// <summary>With -Prune: remove them even when soa-configs has no instance of the service left on that cluster.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void End()
    {
        if (Instances.Count == 0 && !Prune) return;
        var options = new SyncOptions
        {
            Wait = Wait,
            Timeout = TimeSpan.FromSeconds(TimeoutSec),
            PollInterval = TimeSpan.FromSeconds(PollInterval),
            Prune = Prune ? new PruneSelection(ParameterSetName == ByNameSet ? ServicesNamed : null, ClustersNamed, Force) : null,
        };
        RunOrWriteError(op => SyncOperation.Run(op, Instances, options));
    }
}

/// <summary>
/// <para type="synopsis">Shows how long-running instances run on Kubernetes (paasta status).</para>
/// <para type="description">For each kubernetes or eks instance: the desired state and version from deployments.json and the config_sha the current soa-configs give; the version, config_sha and image the cluster's Deployment (or StatefulSet) runs; replicas wanted, ready and up to date; whether a bounce is in progress; the running versions; and every pod with its node, IP, readiness, restarts, age, version and, for a pod that is not ready, why (image pull error, crash loop, failing readiness probe with the probe's message, unschedulable). State sums it up: NotDeployed, NotRunning, Stopped, Stopping, OutOfSync (Sync-PaastaInstance would change something), Bouncing, Starting or Running. Each PaaSTA cluster is read through its own kubeconfig context (as Sync-PaastaInstance chooses it), with one LIST of controllers and one of pods for all its instances. The default view is a compact table; Format-List shows the details and pods.</para>
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
        if (Instances.Count == 0) return;
        foreach (var status in RunOrWriteError(op => InstanceStatusOperation.Run(op, Instances)) ?? Array.Empty<InstanceStatus>())
            WriteObject(status);
    }
}

/// <summary>
/// <para type="synopsis">Waits until the instances of a deploy group run a version and are ready (paasta wait-for-deployment).</para>
/// <para type="description">Finds the long-running instances of each -Service (names or wildcards; a service named exactly that has none is DeployGroupNotUsed, one matched by a wildcard is left out) whose deploy_group is -DeployGroup and polls the cluster until each has finished deploying the version: its Deployment runs the commit (and image version), no pod of another version is left, and at least ceil(bounce_margin_factor × replicas) pods of it are ready (a stopped instance counts as done). The version defaults to what deployments.json says the group runs. Progress is shown with Write-Progress and -Verbose reports each instance's state as it changes. When -TimeoutSec passes, a DeploymentWaitTimedOut error names every instance that did not converge and why: its pods cannot pull their image, are in a crash loop, fail their readiness check (with the probe's message), cannot be scheduled, or the cluster still runs the old version. Emits one Paasta.Kubernetes.DeploymentWaitResult per instance in either case. Instances on several PaaSTA clusters are each polled through their cluster's own kubeconfig context. Piped input waits once per service and deploy group. Waiting changes nothing; it does not sync.</para>
/// </summary>
/// <example>
///   <code>Wait-PaastaDeployment -Service hello -DeployGroup local.everything -TimeoutSec 300</code>
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
    private readonly DeploymentWaitOperation _waits = new();

    /// <summary>Services; wildcards allowed (a service matched by a wildcard that does not use the deploy group is left out). Several are waited for one after another, within one -TimeoutSec.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    [Alias("Name")]
    public string[] Service { get; set; } = Array.Empty<string>();

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

    /// <summary>Clusters whose instances to wait for; wildcards allowed. Defaults to $env:PAASTA_CLUSTER or the saved setting, else all (each through its own context).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ClusterCompleter))]
    public string[]? Cluster { get; set; }

    /// <summary>Seconds to wait before giving up (default 3600, as paasta wait-for-deployment), for all the services of the record. Alias Timeout, its earlier name.</summary>
    [Parameter]
    [Alias("Timeout")]
    [ValidateRange(1, int.MaxValue)]
    public int TimeoutSec { get; set; } = 3600;

    /// <summary>Seconds between polls of the cluster (default 2).</summary>
    [Parameter]
    [ValidateRange(1, 600)]
    public int PollInterval { get; set; } = 2;

    protected override void Process()
    {
        var request = new DeploymentWaitRequest(Service, DeployGroup)
        {
            Commit = Commit,
            ImageVersion = ImageVersion,
            Clusters = Cluster,
            Timeout = TimeSpan.FromSeconds(TimeoutSec),
            PollInterval = TimeSpan.FromSeconds(PollInterval),
        };
        RunOrWriteError(op => _waits.Wait(op, request));
    }
}

/// <summary>
/// <para type="synopsis">Shows the Kubernetes objects Sync-PaastaInstance would apply, without a cluster.</para>
/// <para type="description">For each long-running (kubernetes or eks) instance — by -Service, -Cluster and -Instance, or piped from Get-PaastaInstance — builds what Sync-PaastaInstance would apply, through the same code: the Namespace (and, for a paastasvc- namespace, its default LimitRange), the Deployment (a StatefulSet when persistent_volumes is set) with its labels, config_sha, pod template and replica count, its PodDisruptionBudget and, when autoscaled, its HorizontalPodAutoscaler. It returns them as KubernetesClient objects (k8s.Models.V1Namespace, V1LimitRange, V1Deployment, V1StatefulSet, V1PodDisruptionBudget, V2HorizontalPodAutoscaler), or with -AsYaml as one YAML manifest that kubectl apply -f accepts, for review in CI or a diff against a live cluster (kubectl diff -f). No cluster is needed: where Sync reads live state, the renderer takes the path PaaSTA takes when the object does not exist yet — an autoscaled instance gets max_instances replicas, Secrets referenced by env are not signed into config_sha, and PDB and HPA use policy/v1 and autoscaling/v2. Given -KubeConfig or -Context, it reads the cluster as Sync does (live replica counts, Secret signatures, the API versions the server serves) and changes nothing. Instances whose deploy group has no deployment yet are skipped with a warning; an instance that cannot be built is an error for that instance (the same ErrorIds as Sync, e.g. InstanceConfigInvalid, RegistryNotConfigured).</para>
/// </summary>
/// <example>
///   <code>ConvertTo-PaastaKubernetesObject -Service hello -Cluster local -AsYaml | Set-Content hello-local.yaml; kubectl apply --dry-run=server -f hello-local.yaml</code>
///   <para>Writes the manifest of every object Sync would apply for hello on local, and has the API server validate it.</para>
/// </example>
/// <example>
///   <code>Get-PaastaInstance -Service hello -Cluster local -Instance main | ConvertTo-PaastaKubernetesObject | Where-Object Kind -eq Deployment | ForEach-Object { $_.Spec.Template.Spec.Containers[0].Env }</code>
///   <para>Shows the environment the main container of hello.main would get.</para>
/// </example>
/// <example>
///   <code>ConvertTo-PaastaKubernetesObject -Service hello -Cluster local -KubeConfig ~/.kube/config -AsYaml | kubectl diff -f -</code>
///   <para>Renders with the cluster's live replica counts and Secret signatures, and diffs the result against what runs.</para>
/// </example>
[Cmdlet(VerbsData.ConvertTo, "PaastaKubernetesObject", DefaultParameterSetName = ByNameSet)]
// By name: KubernetesClient lives in the module's own load context, which PowerShell's attribute reader cannot see.
[OutputType("k8s.Models.V1Namespace", "k8s.Models.V1LimitRange", "k8s.Models.V1Deployment", "k8s.Models.V1StatefulSet", "k8s.Models.V1PodDisruptionBudget", "k8s.Models.V2HorizontalPodAutoscaler")]
[OutputType(typeof(string))]
public sealed class ConvertToPaastaKubernetesObject : KubeInstanceCmdlet
{
    /// <summary>Return one YAML manifest (documents separated by ---) instead of objects.</summary>
    [Parameter]
    public SwitchParameter AsYaml { get; set; }

    protected override void End()
    {
        if (Instances.Count == 0) return;
        var live = MyInvocation.BoundParameters.ContainsKey(nameof(KubeConfig)) || MyInvocation.BoundParameters.ContainsKey(nameof(Context));
        var objects = RunOrWriteError(op => KubernetesObjectsOperation.Render(op, Instances, live));
        if (objects is null || objects.Count == 0) return;
        if (AsYaml) WriteObject(KubernetesObjectsOperation.ToYaml(objects));
        else foreach (var o in objects) WriteObject(o);
    }
}
