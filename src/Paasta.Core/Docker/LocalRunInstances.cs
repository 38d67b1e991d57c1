using System.Globalization;
using Paasta.Config;
using Paasta.Yaml;
using Paasta.Settings;
using Paasta.Errors;

namespace Paasta.Docker;

/// <summary>Which instance a local run runs (docs/BEHAVIOUR.md §9.3 step 5, §11).</summary>
public static class LocalRunInstances
{
    public const string InteractiveInstance = "interactive";

    /// <summary>The instance types local-run looks through, in the order it prefers them when a name is in several files.</summary>
    private static readonly string[] TypeOrder = { InstanceTypes.Kubernetes, InstanceTypes.Eks, InstanceTypes.Adhoc, InstanceTypes.Tron };

    /// <summary>
    /// The cluster: the given one, else the user's default (PAASTA_CLUSTER / Set-PaastaConfiguration -Cluster),
    /// else the service's only cluster.
    /// </summary>
    public static string ResolveCluster(ServiceConfig service, string? cluster, ResolvedSettings settings)
    {
        if (!string.IsNullOrWhiteSpace(cluster)) return cluster;
        if (settings.Cluster is { Length: > 0 } configured) return configured;
        if (service.Clusters.Count == 1) return service.Clusters[0];
        throw new PaastaException("ClusterRequired", PaastaErrorKind.InvalidArgument,
            service.Clusters.Count == 0
                ? $"{service.Name} has no instance files, so there is no cluster to take its settings from; pass -Cluster."
                : $"{service.Name} runs on several clusters ({string.Join(", ", service.Clusters)}); pass -Cluster, or set a default with Set-PaastaConfiguration -Cluster.")
        { Target = service.Name };
    }

    /// <summary>
    /// The named instance of any type on the cluster (kubernetes, then eks, then adhoc), or — with no name —
    /// the interactive adhoc instance.
    /// </summary>
    public static InstanceConfig Resolve(SoaConfigReader reader, ServiceConfig service, string cluster, string? instance)
    {
        if (string.IsNullOrEmpty(instance)) return Interactive(reader, service, cluster);

        var found = new List<InstanceConfig>();
        foreach (var r in reader.LoadInstances(service, new InstanceFilter(c => c == cluster, i => i == instance)))
        {
            if (r.Error is not null) throw r.Error;
            found.Add(r.Value!);
        }
        var chosen = found.OrderBy(i => Array.IndexOf(TypeOrder, i.InstanceType)).FirstOrDefault();
        if (chosen is null)
        {
            var names = reader.LoadInstances(service, new InstanceFilter(c => c == cluster))
                .Where(r => r.Value is not null).Select(r => r.Value!.Instance).Distinct().Order(StringComparer.Ordinal).ToList();
            throw new PaastaException("InstanceNotFound", PaastaErrorKind.ObjectNotFound,
                names.Count == 0
                    ? $"{service.Name} has no instances on cluster '{cluster}'. Clusters: {string.Join(", ", service.Clusters)}."
                    : $"{service.Name} has no instance '{instance}' on cluster '{cluster}'. Instances there: {string.Join(", ", names)}.")
            { Target = instance };
        }
        if (chosen.InstanceType == InstanceTypes.Tron)
            throw new PaastaException("LocalRunUnsupportedInstance", PaastaErrorKind.InvalidOperation,
                $"{chosen} is a Tron action; Invoke-PaastaLocalRun runs long-running and adhoc instances. Run its command with -Command in an adhoc instance instead.")
            { Target = chosen.ToString() };
        return chosen;
    }

    /// <summary>
    /// The interactive instance: <c>interactive</c> of adhoc-CLUSTER.yaml when there is one, else an empty
    /// config; merged over service.yaml like any adhoc instance, then cpus 4, mem 10240 and disk 1024 where
    /// nothing sets them (docs/BEHAVIOUR.md §11).
    /// </summary>
    public static InstanceConfig Interactive(SoaConfigReader reader, ServiceConfig service, string cluster)
    {
        var file = service.InstanceFiles.FirstOrDefault(f => f.InstanceType == InstanceTypes.Adhoc && f.Cluster == cluster)
            ?? new InstanceFile(InstanceTypes.Adhoc, cluster, Path.Combine(service.Directory, $"adhoc-{cluster}.yaml"));
        var root = File.Exists(file.Path) ? YamlLoader.LoadMappingFile(file.Path) : null;
        var node = root?[InteractiveInstance] as YMapping;
        var line = root?.KeyNode(InteractiveInstance)?.Line ?? 0;
        var general = reader.GeneralConfig(service);

        var config = new YMapping(file.Path, node?.Line ?? 0, node?.Column ?? 0, InteractiveInstance);
        if (node is not null)
            foreach (var (k, v) in node.Entries) config.Add(k, v, node.KeyNode(k));
        foreach (var (key, value) in new[] { ("cpus", 4L), ("mem", 10240L), ("disk", 1024L) })
        {
            if (config.ContainsKey(key) || general.ContainsKey(key)) continue;
            var text = value.ToString(CultureInfo.InvariantCulture);
            config.Add(key, new YScalar(file.Path, 0, 0, InteractiveInstance, text, value, false), null);
        }
        return InstanceBuilder.LongRunning(service, file, InteractiveInstance, line, config, general);
    }
}
