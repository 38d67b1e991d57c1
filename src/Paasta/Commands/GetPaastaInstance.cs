using System.Management.Automation;
using Paasta.Config;
using Paasta.Errors;

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

    protected override void ProcessRecord()
    {
        SoaConfigReader reader;
        List<string> services;
        try
        {
            reader = Reader(ResolveSoaDir(SoaDir));
            services = SelectServices(reader, Service).ToList();
        }
        catch (PaastaException e) { WriteError(e); return; }

        var filter = new InstanceFilter(Matcher(Cluster), Matcher(Instance), Matcher(InstanceType));
        // Services load in parallel; results are written in order, on this thread.
        var loaded = services.AsParallel().AsOrdered().WithCancellation(CancellationToken)
            .Select(name => LoadAll(reader, name, filter));
        try
        {
            foreach (var results in loaded)
            {
                foreach (var r in results)
                {
                    if (r.Error is not null) WriteError(r.Error);
                    else WriteObject(r.Value);
                }
            }
        }
        catch (OperationCanceledException) { throw new PipelineStoppedException(); }
    }

    private static List<LoadResult<InstanceConfig>> LoadAll(SoaConfigReader reader, string name, InstanceFilter filter)
    {
        try { return reader.LoadInstances(reader.LoadService(name), filter).ToList(); }
        catch (PaastaException e) { return new() { LoadResult<InstanceConfig>.Fail(e) }; }
    }
}
