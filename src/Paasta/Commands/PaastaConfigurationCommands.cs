using System.Management.Automation;
using Paasta.Operations;
using Paasta.Settings;

namespace Paasta.Commands;

/// <summary>
/// <para type="synopsis">Shows Paasta's own per-user settings (defaults such as SoaDir and Cluster) and the values in effect; not soa-configs, which Test-PaastaConfig checks.</para>
/// <para type="description">Paasta reads each default from the cmdlet's parameter first, then an environment variable (PAASTA_SOA_DIR, PAASTA_CLUSTER, KUBECONFIG, PAASTA_KUBE_CONTEXT, PAASTA_DOCKER_REGISTRY, PAASTA_SENSU_SOCKET, PAASTA_TRON_URL, PAASTA_HACHECK_SIDECAR_IMAGE), then the settings file written by Set-PaastaConfiguration ($env:PAASTA_CONFIG, else ~/.config/paasta/settings.json). This cmdlet returns the saved settings; -Effective returns what applies now, environment and built-in defaults included (SoaDir /nail/etc/services, KubeConfig ~/.kube/config or the first file of KUBECONFIG, SensuSocket 127.0.0.1:3030). Get-Help about_Paasta, section CONFIGURATION, lists every setting and the cmdlets that use it.</para>
/// </summary>
/// <example>
///   <code>Get-PaastaConfiguration</code>
///   <para>Shows the saved per-user settings.</para>
/// </example>
/// <example>
///   <code>(Get-PaastaConfiguration -Effective).SoaDir</code>
///   <para>Shows the soa-configs folder that cmdlets use when -SoaDir is not given.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "PaastaConfiguration")]
[OutputType(typeof(PaastaSettings))]
public sealed class GetPaastaConfiguration : PaastaCmdlet
{
    /// <summary>Resolve environment variables and built-in defaults too.</summary>
    [Parameter]
    public SwitchParameter Effective { get; set; }

    protected override void End()
    {
        var effective = Effective.IsPresent;
        WriteObject(Run(op => ConfigurationOperations.Get(op, effective)));
    }
}

/// <summary>
/// <para type="synopsis">Saves Paasta's own per-user settings (defaults such as SoaDir and Cluster) so you need not repeat parameters; not soa-configs, which Test-PaastaConfig checks.</para>
/// <para type="description">Writes the given values to the settings file ($env:PAASTA_CONFIG, else ~/.config/paasta/settings.json) atomically; values not given are kept. Pass an empty string to clear a value. -SoaDir and -KubeConfig are saved as full paths, resolved against the current location. A cmdlet's own parameter, then the setting's environment variable, still take precedence over the file (Get-Help about_Paasta, section CONFIGURATION). Returns nothing unless -PassThru.</para>
/// </summary>
/// <example>
///   <code>Set-PaastaConfiguration -SoaDir ~/src/soa-configs -Cluster pnw-prod</code>
///   <para>Makes ~/src/soa-configs and pnw-prod the defaults for every Paasta cmdlet.</para>
/// </example>
/// <example>
///   <code>Set-PaastaConfiguration -SensuSocket 127.0.0.1:3030 -TronUrl http://tron.example:8089 -PassThru</code>
///   <para>Sets where Sensu events and Tron configs go, and shows the saved settings.</para>
/// </example>
[Cmdlet(VerbsCommon.Set, "PaastaConfiguration", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(PaastaSettings))]
public sealed class SetPaastaConfiguration : PaastaCmdlet
{
    /// <summary>Default soa-configs folder ($env:PAASTA_SOA_DIR overrides it); saved as a full path.</summary>
    [Parameter] public string? SoaDir { get; set; }
    /// <summary>Default cluster ($env:PAASTA_CLUSTER overrides it).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(ClusterCompleter))]
    public string? Cluster { get; set; }
    /// <summary>Default kubeconfig file ($env:KUBECONFIG overrides it); saved as a full path.</summary>
    [Parameter] public string? KubeConfig { get; set; }
    /// <summary>Default kubeconfig context ($env:PAASTA_KUBE_CONTEXT overrides it).</summary>
    [Parameter] public string? KubeContext { get; set; }
    /// <summary>The kubeconfig context of each PaaSTA cluster, as @{ prod = 'ctx-prod'; canary = 'ctx-canary' } ($env:PAASTA_CLUSTER_CONTEXT, as prod=ctx-prod,canary=ctx-canary, overrides it); an empty map clears it. Cmdlets that talk to several clusters use each cluster's own context.</summary>
    [Parameter] public System.Collections.Hashtable? ClusterContext { get; set; }
    /// <summary>Default docker registry (host:port) for services whose service.yaml names none ($env:PAASTA_DOCKER_REGISTRY overrides it).</summary>
    [Parameter] public string? DockerRegistry { get; set; }
    /// <summary>host:port of the Sensu client socket ($env:PAASTA_SENSU_SOCKET overrides it).</summary>
    [Parameter] public string? SensuSocket { get; set; }
    /// <summary>Base URL of the Tron master's API ($env:PAASTA_TRON_URL overrides it).</summary>
    [Parameter] public string? TronUrl { get; set; }
    /// <summary>The hacheck sidecar image that mesh-registered instances get ($env:PAASTA_HACHECK_SIDECAR_IMAGE overrides it; none: no sidecar, readiness stays on the main container).</summary>
    [Parameter] public string? HacheckSidecarImage { get; set; }
    /// <summary>Return the saved settings.</summary>
    [Parameter] public SwitchParameter PassThru { get; set; }

    protected override void End()
    {
        var change = new SettingsChange(new PaastaSettings
        {
            SoaDir = FullPath(SoaDir),
            Cluster = Cluster,
            KubeConfig = FullPath(KubeConfig),
            KubeContext = KubeContext,
            ClusterContext = ClusterContext?.Cast<System.Collections.DictionaryEntry>()
                .ToDictionary(e => e.Key.ToString()!, e => e.Value?.ToString() ?? "", StringComparer.Ordinal),
            DockerRegistry = DockerRegistry,
            SensuSocket = SensuSocket,
            TronUrl = TronUrl,
            HacheckSidecarImage = HacheckSidecarImage,
        });
        var saved = Run(op => ConfigurationOperations.Set(op, change));
        if (PassThru && saved is not null) WriteObject(saved);
    }

    // A path is saved resolved against the current location; an empty string (clear) stays empty.
    private string? FullPath(string? given) => given is { Length: > 0 } ? GetUnresolvedProviderPathFromPSPath(given) : given;
}
