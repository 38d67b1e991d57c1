using System.Management.Automation;
using Paasta.Config;
using Paasta.Operations;

namespace Paasta.Commands;

/// <summary>
/// <para type="synopsis">Lists the services of a soa-configs folder with their metadata.</para>
/// <para type="description">Reads service.yaml, monitoring.yaml, deploy.yaml and smartstack.yaml of each service folder and returns one Paasta.Config.ServiceConfig per service: description, git repository, team, clusters it has instance files for, deploy groups of its pipeline and mesh namespaces.</para>
/// </summary>
/// <example>
///   <code>Get-PaastaService -SoaDir ./examples/soa-configs</code>
///   <para>Lists every service in the example soa-configs.</para>
/// </example>
/// <example>
///   <code>Get-PaastaService -Name 'ex*' | Get-PaastaInstance -Cluster prod</code>
///   <para>Pipes the services whose names start with "ex" into Get-PaastaInstance.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "PaastaService")]
[OutputType(typeof(ServiceConfig))]
public sealed class GetPaastaService : SoaConfigCmdlet
{
    /// <summary>Service names; wildcards allowed. All services when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Service")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    public string[]? Name { get; set; }

    protected override void Process()
    {
        foreach (var service in RunOrWriteError(op => InstanceQuery.Services(op, Name)) ?? Array.Empty<Paasta.Config.ServiceConfig>()) WriteObject(service);
    }
}
