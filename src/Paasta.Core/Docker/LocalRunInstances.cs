using System.Globalization;
using Paasta.Config;
using Paasta.Yaml;

namespace Paasta.Docker;

/// <summary>Which instance a local run runs (docs/BEHAVIOUR.md §9.3 step 5, §11).</summary>
public static class LocalRunInstances
{
    public const string InteractiveInstance = "interactive";

    /// <summary>The instance types local-run looks through, in PaaSTA's order: a name in several files is taken from the first.</summary>
    public static readonly IReadOnlyList<string> TypeOrder = new[] { InstanceTypes.Adhoc, InstanceTypes.Kubernetes, InstanceTypes.Eks, InstanceTypes.Tron };

    /// <summary>Of instances of one name on one cluster, the one PaaSTA's local-run runs (adhoc, then kubernetes, eks, tron); null for none.</summary>
    public static InstanceConfig? Preferred(IEnumerable<InstanceConfig> sameName) =>
        sameName.Where(i => TypeOrder.Contains(i.InstanceType))
            .OrderBy(i => TypeOrder.ToList().IndexOf(i.InstanceType))
            .FirstOrDefault();

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
