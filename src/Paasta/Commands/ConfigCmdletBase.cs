using System.Management.Automation;
using Paasta.Config;
using Paasta.Settings;
using Paasta.Errors;

namespace Paasta.Commands;

/// <summary>Shared by the cmdlets that read soa-configs: -SoaDir and -Service selection.</summary>
public abstract class SoaConfigCmdlet : PaastaCmdlet
{
    /// <summary>The soa-configs root. Defaults to $env:PAASTA_SOA_DIR, then Set-PaastaConfiguration -SoaDir, then /nail/etc/services.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? SoaDir { get; set; }

    protected override PaastaSettings GivenSettings() => base.GivenSettings() with { SoaDir = ProviderPath(SoaDir) };
}
