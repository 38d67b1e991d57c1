using System.Management.Automation;
using Paasta.Config;
using Paasta.Operations;

namespace Paasta.Commands;

/// <summary>
/// <para type="synopsis">Gets the effective configuration of PaaSTA instances from soa-configs.</para>
/// <para type="description">Reads kubernetes-, eks-, adhoc- and tron-CLUSTER.yaml files, merges each instance over service.yaml and the service-wide files exactly as PaaSTA does (deep merge, lists replaced, templates and YAML merge keys resolved), applies every code default, and returns one Paasta.Config.InstanceConfig per instance. Each object's Sources property says, for every value, whether it came from the instance file, a template, service.yaml, monitoring.yaml, smartstack.yaml or a default. Tron instances are job.action pairs. A file that cannot be read is reported as an error naming file and line; the other files are still read.</para>
/// </summary>
/// <example>
///   <code>Get-PaastaInstance -SoaDir ./examples/soa-configs -Service hello</code>
///   <para>Shows every instance of the hello service on every cluster.</para>
/// </example>
/// <example>
///   <code>Get-PaastaInstance -Service hello -Cluster local -Instance main | Select-Object -ExpandProperty Sources</code>
///   <para>Shows where each effective value of hello.main came from.</para>
/// </example>
/// <example>
///   <code>Get-PaastaInstance -InstanceType kubernetes | Where-Object Instances -gt 10</code>
///   <para>Finds the long-running instances that ask for more than ten copies.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "PaastaInstance")]
[OutputType(typeof(InstanceConfig))]
public sealed class GetPaastaInstance : SoaConfigCmdlet
{
    /// <summary>Service names; wildcards allowed. All services when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    public string[]? Service { get; set; }

    /// <summary>Clusters; wildcards allowed.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ClusterCompleter))]
    public string[]? Cluster { get; set; }

    /// <summary>Instance names (job.action for Tron); wildcards allowed.</summary>
    [Parameter(Position = 2, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(InstanceCompleter))]
    public string[]? Instance { get; set; }

    /// <summary>Instance file kinds to read: kubernetes, eks, adhoc, tron.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateSet("kubernetes", "eks", "adhoc", "tron")]
    [ArgumentCompleter(typeof(InstanceTypeCompleter))]
    public string[]? InstanceType { get; set; }

    protected override void Process()
    {
        var selection = new InstanceSelection { Services = Service, Clusters = Cluster, Instances = Instance, InstanceTypes = InstanceType };
        foreach (var instance in RunOrWriteError(op => InstanceQuery.Instances(op, selection)) ?? Array.Empty<InstanceConfig>()) WriteObject(instance);
    }
}
