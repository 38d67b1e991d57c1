using Paasta.Config;
using Paasta.Deployments;
using Paasta.Errors;
using Paasta.Kubernetes;
using Paasta.Sync;

namespace Paasta.Operations;

/// <summary>
/// The long-running (kubernetes, eks) instances the Kubernetes operations work on: selected by name through
/// <see cref="InstanceQuery"/>, or given (from Get-PaastaInstance), where an instance of another type is an error.
/// </summary>
public static class KubernetesInstances
{
    /// <summary>The selection by service, cluster and instance names: long-running types only; the Cluster setting when no cluster is named.</summary>
    public static InstanceSelection Selection(IReadOnlyList<string>? services, IReadOnlyList<string>? clusters, IReadOnlyList<string>? instances) => new()
    {
        Services = services,
        Clusters = clusters,
        Instances = instances,
        DefaultClusterFromSettings = true,
        TypeFilter = InstanceTypes.IsLongRunning,
        TypeDescription = "long-running",
    };

    public static IReadOnlyList<InstanceConfig> Select(OperationContext context, InstanceSelection selection) =>
        InstanceQuery.Instances(context, selection with { TypeFilter = InstanceTypes.IsLongRunning, DefaultClusterFromSettings = true, TypeDescription = "long-running" });

    /// <summary>Instances given as objects: long-running ones are kept; any other is an InstanceNotLongRunning error.</summary>
    public static IReadOnlyList<InstanceConfig> Accept(OperationContext context, IEnumerable<InstanceConfig> given, string command)
    {
        var kept = new List<InstanceConfig>();
        foreach (var i in given)
        {
            if (InstanceTypes.IsLongRunning(i.InstanceType)) kept.Add(i);
            else context.Sink.Error(new PaastaException("InstanceNotLongRunning", PaastaErrorKind.InvalidArgument,
                $"{i} is a {i.InstanceType} instance; {command} works on long-running (kubernetes, eks) instances.") { Target = i.ToString() });
        }
        return kept;
    }
}

/// <summary>
/// What Sync, status and rendering need besides an instance's config, read once per call: its service's
/// deployments.json (its branch), the image registry (<see cref="OperationContext.RegistryFor(InstanceConfig)"/>),
/// the soa-configs sha and the hacheck sidecar image (settings). Failures go to the sink, for that service or
/// instance only.
/// </summary>
public sealed class SyncInputs
{
    private readonly OperationContext _context;
    private readonly Dictionary<string, DeploymentsDocument?> _deployments = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _soaShas = new(StringComparer.Ordinal);

    public SyncInputs(OperationContext context) => _context = context;

    /// <summary>The instance's deployments.json (read once per service); null after an error.</summary>
    public DeploymentsDocument? Deployments(InstanceConfig instance)
    {
        var dir = Path.Combine(instance.SoaDir, instance.Service);
        if (_deployments.TryGetValue(dir, out var doc)) return doc;
        try { doc = DeploymentsFileStore.Load(DeploymentsFileStore.PathFor(dir), instance.Service); }
        catch (PaastaException e) { _context.Sink.Error(e); doc = null; }
        return _deployments[dir] = doc;
    }

    /// <summary>The cluster-wide inputs of object building; null (after RegistryNotConfigured when asked) without a registry.</summary>
    public KubernetesBuildContext? BuildContext(InstanceConfig instance, bool reportMissingRegistry)
    {
        string registry;
        try { registry = _context.RequireRegistryFor(instance); }
        catch (PaastaException e)
        {
            if (reportMissingRegistry) _context.Sink.Error(e);
            return null;
        }
        return new KubernetesBuildContext(registry, SoaConfigsSha(instance.SoaDir))
        {
            HacheckSidecarImage = _context.Settings.HacheckSidecarImage,
        };
    }

    /// <summary>
    /// One request per instance that can be planned: its branch (null when its deploy group has no deployment
    /// yet) and build context. Instances whose deployments.json or registry is missing are reported and left out.
    /// </summary>
    public List<SyncRequest> Requests(IEnumerable<InstanceConfig> instances)
    {
        var requests = new List<SyncRequest>();
        foreach (var i in instances)
        {
            if (Deployments(i) is not { } doc) continue;
            if (BuildContext(i, reportMissingRegistry: true) is not { } build) continue;
            requests.Add(new SyncRequest(i, DeploymentBranches.For(i, doc), build));
        }
        return requests;
    }

    /// <summary>git_sha of &lt;soa_dir&gt;/.metadata.json (PAASTA_SOA_CONFIGS_SHA), or "".</summary>
    public string SoaConfigsSha(string soaDir)
    {
        if (_soaShas.TryGetValue(soaDir, out var sha)) return sha;
        return _soaShas[soaDir] = SoaMetadata.GitSha(soaDir, _context.Sink.Warning);
    }
}

/// <summary>PaaSTA clusters that one call talks to through one kubeconfig context.</summary>
public sealed record ClusterGroup(string? Context, IReadOnlyList<string> Clusters)
{
    /// <summary>The connection of this group's context (opened on first use, shared by the call).</summary>
    public KubeConnection Connect(OperationContext context) => context.Kube(Clusters[0]);

    public bool Contains(string cluster) => Clusters.Contains(cluster, StringComparer.Ordinal);
}

/// <summary>
/// Which kubeconfig context serves each PaaSTA cluster (docs/CONFIGURATION.md: -Context, else the cluster's
/// ClusterContext entry, else KubeContext, else the kubeconfig's current context). Clusters of distinct contexts
/// are talked to each through its own. Two clusters that would share one context are refused to an operation that
/// writes, since their objects would land in the same namespaces under the same names; one that only reads
/// (status, wait) reads them through the one connection, telling them apart by the cluster label.
/// </summary>
public static class ClusterConnections
{
    public static IReadOnlyList<ClusterGroup> Group(OperationContext context, IEnumerable<string> clusters, bool readOnly = false)
    {
        var distinct = clusters.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (distinct.Count <= 1) return distinct.Select(c => new ClusterGroup(context.Settings.ContextFor(c).Value, new[] { c })).ToList();
        var current = new Lazy<string?>(() => CurrentContext(context));
        var groups = distinct.GroupBy(c => context.Settings.ContextFor(c).Value ?? current.Value, StringComparer.Ordinal)
            .Select(g => new ClusterGroup(g.Key, g.ToList())).ToList();
        var shared = groups.FirstOrDefault(g => g.Clusters.Count > 1);
        if (shared is not null && !readOnly)
            throw new PaastaException("MultipleClusters", PaastaErrorKind.InvalidArgument,
                $"The instances given belong to clusters {string.Join(", ", shared.Clusters)}, which would all be reached through " +
                (shared.Context is null ? "the kubeconfig's current context" : $"context '{shared.Context}'") +
                "; one Kubernetes context serves one PaaSTA cluster. Map each cluster to its own context (Set-PaastaConfiguration -ClusterContext @{ cluster = 'context' }, or $env:PAASTA_CLUSTER_CONTEXT), or pass -Cluster.")
            { Target = string.Join(",", shared.Clusters) };
        return groups;
    }

    /// <summary>The kubeconfig's current-context, which a cluster with no context of its own uses; null when unreadable.</summary>
    private static string? CurrentContext(OperationContext context)
    {
        try
        {
            var path = Path.GetFullPath(context.Settings.KubeConfig, context.CurrentDirectory);
            return File.Exists(path) ? KubeConfigFile.Load(path).CurrentContext : null;
        }
        catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException or UnauthorizedAccessException or YamlDotNet.Core.YamlException)
        {
            return null; // the connection reports the kubeconfig's problem when it is opened
        }
    }
}
