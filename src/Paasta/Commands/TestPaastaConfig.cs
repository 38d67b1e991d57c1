using System.Management.Automation;
using Paasta.Operations;
using Paasta.Validation;

namespace Paasta.Commands;

/// <summary>
/// <para type="synopsis">Validates soa-configs (paasta validate): schemas and the rules that span files.</para>
/// <para type="description">Checks every YAML file of each service against the JSON Schemas shipped in the module's schemas folder (unknown keys, wrong types, values out of range), then the rules that span files: cmd and args together, healthcheck_mode cmd without healthcheck_cmd, each instance's deploy group present in deploy.yaml's pipeline, monitoring.yaml with a team, instance-name pattern and sanitised length, the same instance name twice in one cluster (across kubernetes, eks, adhoc and Tron job.action names), a service folder without a .yaml file, cpu_burst_add above 2 cores without a '# override-cpu-burst (reason, TICKET-123)' comment on its line, autoscaling settings paasta validate refuses (including cpus on a CPU-autoscaled instance without '# override-cpu-setting (...)'), rollback conditions without a lower_bound or upper_bound (null and 0 count as unset), Tron requires naming real actions without cycles and the deploy groups of Tron actions and cleanup actions. SECRET()/SHARED_SECRET() values without their secrets/NAME.json in soa-configs are reported as warnings. Malformed YAML (syntax errors, tabs, duplicate keys, alias bombs, huge files) is reported, never thrown. Each finding is a Paasta.Validation.ConfigFinding with File, Line, Column, Path (e.g. main.cpus), Message, Severity and RuleId. With -Quiet, returns only $true (no errors) or $false.</para>
/// </summary>
/// <example>
///   <code>Test-PaastaConfig -SoaDir ./examples/soa-configs</code>
///   <para>Validates every service and lists the findings.</para>
/// </example>
/// <example>
///   <code>if (-not (Test-PaastaConfig -Service hello -Quiet)) { throw 'soa-configs are invalid' }</code>
///   <para>Stops a script when the hello service's configuration has errors.</para>
/// </example>
/// <example>
///   <code>Test-PaastaConfig | Where-Object Severity -eq Error | Group-Object RuleId</code>
///   <para>Counts the errors of every service by rule.</para>
/// </example>
[Cmdlet(VerbsDiagnostic.Test, "PaastaConfig")]
[OutputType(typeof(ConfigFinding))]
[OutputType(typeof(bool))]
public sealed class TestPaastaConfig : SoaConfigCmdlet
{
    private bool _anyError;

    /// <summary>Service names; wildcards allowed. All services when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    public string[]? Service { get; set; }

    /// <summary>Return only $true when no errors were found (warnings allowed), else $false.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override void Process()
    {
        var (services, quiet) = (Service, Quiet.IsPresent);
        var report = Run(op => ValidationOperation.Validate(op, services, reportSelectionErrors: !quiet));
        if (!report.Valid) _anyError = true;
        if (!quiet) foreach (var service in report.Services) WriteObject(service.Findings, enumerateCollection: true);
    }

    protected override void End()
    {
        if (Quiet) WriteObject(!_anyError);
    }
}
