using System.Management.Automation;
using Paasta.Docker;
using Paasta.Errors;
using Paasta.Operations;

namespace Paasta.Commands;

/// <summary>
/// <para type="synopsis">Checks that a service keeps PaaSTA's service contract (paasta check).</para>
/// <para type="description">Checks the service's checkout (-Path, default the current directory) and its soa-configs: a Dockerfile; a Makefile with test, itest and cook-image targets (detected as PaaSTA does: make --question TARGET exits 2 when there is no such target) that uses DOCKER_TAG (when make cannot be started, one Make check fails and the targets are not checked; the other checks still run); valid soa-configs (as Test-PaastaConfig); deploy.yaml; every instance's deploy group a step of the pipeline; a smartstack.yaml registration for every long-running instance that serves HTTP or TCP (its healthcheck mode is http, https or tcp, set on the instance or taken from its mesh namespace in smartstack.yaml; instances with neither are workers); and warns when the Dockerfile forces a time zone through /etc/localtime (containers should run in UTC). Emits one Paasta.Docker.ServiceCheckResult per check with Status Passed, Warning or Failed; with -Quiet only $true (nothing failed) or $false.</para>
/// </summary>
/// <example>
///   <code>Test-PaastaService -Service hello -Path ./hello</code>
///   <para>Lists each contract check of hello and whether it passed.</para>
/// </example>
/// <example>
///   <code>if (-not (Test-PaastaService -Service hello -Quiet)) { throw 'hello breaks the PaaSTA contract' }</code>
///   <para>Stops a script (run in hello's checkout) when a check failed; warnings are allowed.</para>
/// </example>
[Cmdlet(VerbsDiagnostic.Test, "PaastaService")]
[OutputType(typeof(ServiceCheckResult))]
[OutputType(typeof(bool))]
public sealed class TestPaastaService : SoaConfigCmdlet
{
    /// <summary>The service.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    public string Service { get; set; } = "";

    /// <summary>The service's checkout (Dockerfile, Makefile). Defaults to the current directory.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Return only $true when no check failed (warnings allowed), else $false.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override void Process()
    {
        try
        {
            var results = Run(op => ServiceCheck.RunAsync(op, Service.TrimEnd('/'), ProviderPath(Path)).GetAwaiter().GetResult());
            if (Quiet) WriteObject(results.All(r => r.Passed));
            else foreach (var r in results) WriteObject(r);
        }
        catch (PaastaException e)
        {
            if (Quiet) WriteObject(false);
            else WriteError(e);
        }
    }
}
