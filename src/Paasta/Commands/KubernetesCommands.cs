using System.Management.Automation;
using System.Text.Json;
using Paasta.Config;
using Paasta.Deployments;
using Paasta.Kubernetes;

namespace Paasta.Commands;

/// <summary>
/// Base of cmdlets over long-running instances: selects them by -Service/-Cluster/-Instance or from the
/// pipeline, and pairs each with what deployments.json says it should run.
/// </summary>
public abstract class LongRunningInstanceCmdlet : KubeCmdlet
{
    protected const string ByNameSet = "ByName";
    protected const string InputObjectSet = "InputObject";
    private readonly List<InstanceConfig> _instances = new();

    /// <summary>Services to sync; wildcards allowed.</summary>
    [Parameter(ParameterSetName = ByNameSet, Position = 0, Mandatory = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    public string[] Service { get; set; } = Array.Empty<string>();

    /// <summary>Clusters to sync; wildcards allowed. Defaults to every cluster with instance files.</summary>
    [Parameter(ParameterSetName = ByNameSet, Position = 1)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ClusterCompleter))]
    public string[]? Cluster { get; set; }

    /// <summary>Instances to sync; wildcards allowed. Defaults to all long-running instances.</summary>
    [Parameter(ParameterSetName = ByNameSet, Position = 2)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(InstanceCompleter))]
    public string[]? Instance { get; set; }

    /// <summary>Instances from Get-PaastaInstance.</summary>
    [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, ValueFromPipeline = true)]
    public InstanceConfig[] InputObject { get; set; } = Array.Empty<InstanceConfig>();

    protected override void ProcessRecord()
    {
        try
        {
            if (ParameterSetName == InputObjectSet)
            {
                foreach (var i in InputObject)
                {
                    if (InstanceTypes.IsLongRunning(i.InstanceType)) _instances.Add(i);
                    else WriteError(new PaastaException("InstanceNotLongRunning", PaastaErrorKind.InvalidArgument,
                        $"{i} is a {i.InstanceType} instance; {MyInvocation.MyCommand.Name} works on long-running (kubernetes, eks) instances.") { Target = i.ToString() });
                }
                return;
            }
            var reader = Reader(ResolveSoaDir(SoaDir));
            var filter = new InstanceFilter(Matcher(Cluster), Matcher(Instance), t => InstanceTypes.IsLongRunning(t));
            foreach (var name in SelectServices(reader, Service))
                foreach (var r in reader.LoadInstances(reader.LoadService(name), filter))
                {
                    if (r.Error is not null) WriteError(r.Error);
                    else _instances.Add(r.Value!);
                }
        }
        catch (PaastaException e) { WriteError(e); }
    }

    /// <summary>The selected instances with their deployment (null: nothing deployed yet); services without deployments.json are reported.</summary>
    protected IEnumerable<(InstanceConfig Instance, DeploymentBranch? Branch)> InstancesWithBranches()
    {
        var documents = new Dictionary<string, DeploymentsDocument?>();
        foreach (var i in _instances)
        {
            var key = Path.Combine(i.SoaDir, i.Service);
            if (!documents.TryGetValue(key, out var doc))
            {
                try { doc = DeploymentsFileStore.Load(DeploymentsFileStore.PathFor(key), i.Service); }
                catch (PaastaException e) { WriteError(e); doc = null; }
                documents[key] = doc;
            }
            if (doc is not null) yield return (i, DeploymentBranch.For(i, doc));
        }
    }
}

/// <summary>
/// <para type="synopsis">Makes Kubernetes run what soa-configs and deployments.json ask for (setup_kubernetes_job).</para>
/// <para type="description">For each long-running (kubernetes or eks) instance, builds the Deployment PaaSTA would run — names, labels, environment, resources, probes, bounce strategy and config_sha — and makes the cluster match: creates the namespace and the Deployment when missing, scales when only the replica count changed (no pods are replaced), replaces the Deployment when the version or the config_sha changed (a rollout), and writes nothing when it already matches. The cluster is read with two LISTs whatever the number of instances. A stopped instance gets 0 replicas; an instance whose deploy group has no deployment yet is reported, not an error. -WhatIf lists what would change and changes nothing. Uses the kubeconfig conventions (-KubeConfig, $env:KUBECONFIG, ~/.kube/config, -Context).</para>
/// </summary>
/// <example>
///   <code>Sync-PaastaInstance -Service hello -Cluster local</code>
///   <para>Brings every long-running instance of hello on cluster local in line with soa-configs and deployments.json.</para>
/// </example>
/// <example>
///   <code>Get-PaastaInstance -Service hello -Cluster local | Sync-PaastaInstance -WhatIf</code>
///   <para>Shows, instance by instance, what a sync would create, scale or replace, without changing the cluster.</para>
/// </example>
[Cmdlet(VerbsData.Sync, "PaastaInstance", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(SyncResult))]
public sealed class SyncPaastaInstance : LongRunningInstanceCmdlet
{
    /// <summary>The image registry; defaults to service.yaml docker_registry, then $env:PAASTA_DOCKER_REGISTRY, then Set-PaastaConfiguration -DockerRegistry.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Registry { get; set; }

    protected override void EndProcessing()
    {
        try
        {
            var requests = new List<SyncRequest>();
            foreach (var (i, branch) in InstancesWithBranches())
            {
                var context = BuildContext(i);
                if (context is not null) requests.Add(new SyncRequest(i, branch, context));
            }
            if (requests.Count == 0) return;

            var reconciler = new KubernetesReconciler(Kube);
            var plan = Await(reconciler.PlanAsync(requests, CancellationToken));
            foreach (var item in plan)
            {
                var result = item.Result;
                var target = $"{result.Service}.{result.Instance} on {result.Cluster} ({result.Namespace}/{result.Name})";
                switch (result.Action)
                {
                    case SyncAction.NoDeployment:
                        WriteWarning($"{result.Service}.{result.Instance} on {result.Cluster}: {result.Message}");
                        WriteObject(result);
                        continue;
                    case SyncAction.Failed:
                        WriteError(new ErrorRecord(new PaastaException("SyncFailed", PaastaErrorKind.InvalidData, result.Message ?? "sync failed"),
                            "SyncFailed", ErrorCategory.InvalidData, target));
                        WriteObject(result);
                        continue;
                    case SyncAction.Unchanged:
                        WriteVerbose($"{target}: already runs config {result.NewConfigSha} at {result.NewGitSha?[..8]} with {result.NewReplicas} replica(s).");
                        WriteObject(result);
                        continue;
                }
                var action = $"{result.Action}: {string.Join("; ", result.Changes)}";
                if (!ShouldProcess(target, action))
                {
                    WriteObject(result with { WhatIf = true });
                    continue;
                }
                WriteVerbose($"{target}: {action}");
                try
                {
                    Await(reconciler.ApplyAsync(item, CancellationToken));
                    WriteObject(result);
                }
                catch (PaastaException e)
                {
                    WriteError(e);
                    WriteObject(result with { Action = SyncAction.Failed, Message = e.Message });
                }
            }
        }
        catch (PaastaException e) { WriteError(e); }
        base.EndProcessing();
    }

    private KubernetesBuildContext? BuildContext(InstanceConfig i)
    {
        var registry = Registry
            ?? (i.Config.TryGetValue("docker_registry", out var fromService) ? fromService as string : null)
            ?? (Environment.GetEnvironmentVariable("PAASTA_DOCKER_REGISTRY") is { Length: > 0 } fromEnv ? fromEnv : null)
            ?? PaastaSettingsStore.Current.DockerRegistry;
        if (string.IsNullOrEmpty(registry))
        {
            WriteError(new PaastaException("RegistryNotConfigured", PaastaErrorKind.InvalidOperation,
                $"{i}: no docker registry: set docker_registry in service.yaml, pass -Registry, set $env:PAASTA_DOCKER_REGISTRY or Set-PaastaConfiguration -DockerRegistry.") { Target = i.ToString() });
            return null;
        }
        return new KubernetesBuildContext(registry, SoaConfigsSha(i.SoaDir));
    }

    private static string SoaConfigsSha(string soaDir)
    {
        var path = Path.Combine(soaDir, ".metadata.json");
        if (!File.Exists(path)) return "";
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            return doc.RootElement.TryGetProperty("git_sha", out var sha) ? sha.GetString() ?? "" : "";
        }
        catch (JsonException) { return ""; }
    }
}

/// <summary>
/// <para type="synopsis">Shows what long-running instances run on Kubernetes (paasta status).</para>
/// <para type="description">For each instance: the desired state and the version deployments.json asks for, the version and config_sha the cluster runs, replicas desired, ready and up to date, whether a bounce is in progress, and its pods (name, node, IP, ready, restarts, age, version). Reads the cluster with one LIST of Deployments and one of pods per namespace. The default view is a compact table; Format-List shows everything, and the Pods property holds the pods.</para>
/// </summary>
/// <example>
///   <code>Get-PaastaInstanceStatus -Service hello -Cluster local</code>
///   <para>Shows ready and desired copies of every hello instance on cluster local.</para>
/// </example>
/// <example>
///   <code>Get-PaastaInstanceStatus -Service hello -Cluster local -Instance main | Select-Object -ExpandProperty Pods</code>
///   <para>Lists the pods of hello.main with their node, IP, readiness, restarts and version.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "PaastaInstanceStatus", DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(InstanceStatus))]
public sealed class GetPaastaInstanceStatus : LongRunningInstanceCmdlet
{
    protected override void EndProcessing()
    {
        try
        {
            var selected = InstancesWithBranches().ToList();
            if (selected.Count > 0)
                WriteObject(Await(new InstanceStatusReader(Kube).ReadAsync(selected, CancellationToken)), enumerateCollection: true);
        }
        catch (PaastaException e) { WriteError(e); }
        base.EndProcessing();
    }
}
