using System.Management.Automation;
using System.Security;
using Paasta.Operations;
using Paasta.Tron;
using Paasta.Settings;

namespace Paasta.Commands;

/// <summary>
/// Shared by the cmdlets that read Tron jobs from soa-configs: -Service, -Cluster and -Registry, the
/// cluster from the configuration when not given, and one namespace config per service.
/// </summary>
public abstract class TronConfigCmdlet : SoaConfigCmdlet
{
    protected const string ByNameSet = "ByName";

    /// <summary>Services; wildcards allowed (then only services whose tron-CLUSTER.yaml has a job with a paasta, ssh or spark action, as setup_tron_namespace --all picks them). Binds by property name from Service or Name (Get-PaastaService output).</summary>
    [Parameter(ParameterSetName = ByNameSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    [Alias("Name")]
    public string[] Service { get; set; } = Array.Empty<string>();

    /// <summary>The Tron cluster (the CLUSTER of tron-CLUSTER.yaml). Defaults to $env:PAASTA_CLUSTER or Set-PaastaConfiguration -Cluster.</summary>
    [Parameter(ParameterSetName = ByNameSet, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ClusterCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Cluster { get; set; }

    /// <summary>The image registry; defaults to the action service's service.yaml docker_registry, then $env:PAASTA_DOCKER_REGISTRY, then Set-PaastaConfiguration -DockerRegistry.</summary>
    [Parameter(ParameterSetName = ByNameSet)]
    [ValidateNotNullOrEmpty]
    public string? Registry { get; set; }

    /// <summary>Also produce the MASTER namespace from &lt;soa_dir&gt;/tron/CLUSTER/MASTER.yaml, first, as setup_tron_namespace does.</summary>
    [Parameter(ParameterSetName = ByNameSet)]
    public SwitchParameter IncludeMaster { get; set; }

    /// <summary>With -IncludeMaster: the volumes (/host/path:/container/path[:ro|rw]) that become k8s_options.default_volumes of MASTER when MASTER.yaml has k8s_options, as PaaSTA fills them from its system volumes. Without it the file's own default_volumes stay.</summary>
    [Parameter(ParameterSetName = ByNameSet)]
    [ValidateNotNullOrEmpty]
    public string[]? DefaultVolume { get; set; }

    /// <summary>The generation request these parameters make.</summary>
    protected TronNamespaceRequest NamespaceRequest() => new()
    {
        Services = Service,
        Cluster = Cluster,
        IncludeMaster = IncludeMaster,
        DefaultVolumes = DefaultVolume,
    };

    protected override PaastaSettings GivenSettings() => base.GivenSettings() with { DockerRegistry = Registry };
}

/// <summary>
/// <para type="synopsis">Generates the Tron namespace config of a service, as PaaSTA's create_complete_config does (tronfig).</para>
/// <para type="description">Reads tron-CLUSTER.yaml of each service, validates it as Test-PaastaConfig does (schema, requires that name existing actions and form no cycle, deploy_group on container actions, schedule syntax) job by job: a job that fails is left out and reported as a TronJobInvalid error, the service's other jobs are still generated; problems outside any one job (templates) refuse the file. It formats every job and action as PaaSTA does for a Tron master: executor paasta becomes kubernetes with the image from deployments.json (an action whose deploy group has no deployment yet gets docker_image "" and a warning), the PAASTA_* environment, secret_env, node selectors and affinities, the zone spread PaaSTA gives Tron's pods by default (topology_spread_constraints), labels and annotations, resources, capabilities and volumes; None values are left out, and the YAML is written byte for byte as PyYAML's safe dumper writes it (sorted keys, block style). The result is one Paasta.Tron.TronNamespaceConfig per service with the namespace name (the service), the jobs, the YAML text and its SHA-1 hash. ssm_secrets are accepted but not merged into secret_env as PaaSTA does (AWS SSM is out of Paasta's scope), with a warning. With wildcards, only services whose tron-CLUSTER.yaml has a job with a paasta, ssh or spark action are included (setup_tron_namespace --all); a service named exactly is always included. -IncludeMaster adds the MASTER namespace from &lt;soa_dir&gt;/tron/CLUSTER/MASTER.yaml first; -DefaultVolume sets its k8s_options.default_volumes as PaaSTA does from its system volumes. A job one of whose actions is stopped (Stop-PaastaInstance; deployments.json says desired_state stop) is written with enabled: false until the next deploy (PaaSTA ignores the stop; docs/DIFFERENCES.md). A -Cluster that no service has a tron-CLUSTER.yaml for, and that has no tron/CLUSTER folder, is ClusterNotFound. -AsString emits only the YAML text. Nothing is sent anywhere: Sync-PaastaTronNamespace does that.</para>
/// </summary>
/// <example>
///   <code>ConvertTo-PaastaTronConfig -Service example_service -Cluster norcal-devc -AsString</code>
///   <para>Prints the YAML PaaSTA would send to the Tron master for example_service's namespace.</para>
/// </example>
/// <example>
///   <code>ConvertTo-PaastaTronConfig -Service * -Cluster local -IncludeMaster | Format-Table Namespace, Jobs, Hash</code>
///   <para>Every namespace of cluster local (MASTER first), with its jobs and the hash a Tron master would report once it stores the config.</para>
/// </example>
/// <example>
///   <code>ConvertTo-PaastaTronConfig hello local | Sync-PaastaTronNamespace -TronUrl http://tron.example:8089 -WhatIf</code>
///   <para>Generates hello's namespace and shows how it differs from what the Tron master holds.</para>
/// </example>
[Cmdlet(VerbsData.ConvertTo, "PaastaTronConfig", DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(TronNamespaceConfig), typeof(string))]
public sealed class ConvertToPaastaTronConfig : TronConfigCmdlet
{
    /// <summary>Emit the YAML text of each namespace instead of Paasta.Tron.TronNamespaceConfig objects.</summary>
    [Parameter]
    public SwitchParameter AsString { get; set; }

    protected override void Process()
    {
        var request = NamespaceRequest();
        foreach (var config in RunOrWriteError(op => TronNamespaceOperation.Generate(op, request)) ?? Array.Empty<TronNamespaceConfig>())
            WriteObject(AsString ? config.Yaml : config);
    }
}

/// <summary>
/// <para type="synopsis">Pushes Tron namespace configs to a Tron master with PaaSTA's compare-then-post protocol (setup_tron_namespace).</para>
/// <para type="description">For each namespace (MASTER first with -IncludeMaster, then each service's, sorted, as ConvertTo-PaastaTronConfig generates them, or piped from it): reads what the master holds with GET /api/config?name=NAMESPACE&amp;no_header=1, which answers the config text and its hash; when the generated YAML parses to the same data, nothing is sent (Unchanged); otherwise POST /api/config with the form fields name, config (the YAML), hash (the hash just read, so a master changed meanwhile refuses the stale update) and check=0. An answer carrying "error" is a failure (TronUpdateRefused). -WhatIf shows a unified diff from the master's config to the generated one and sends nothing. The master's URL is -TronUrl, else $env:PAASTA_TRON_URL, else Set-PaastaConfiguration -TronUrl. A bearer token (-TronToken, else $env:PAASTA_TRON_TOKEN) goes in the Authorization header of every request; with $env:TRONCTL_API_AUTH set, as PaaSTA uses it, a token is required (TronTokenNotConfigured). Piped namespace configs are sent as they are: -Cluster, -Registry, -IncludeMaster and -DefaultVolume belong to the -Service form only. Emits one Paasta.Tron.TronNamespaceSyncResult per namespace: Updated, Unchanged or Failed, with the old and new hashes and the diff.</para>
/// </summary>
/// <example>
///   <code>Sync-PaastaTronNamespace -Service hello -Cluster local -TronUrl http://tron.example:8089</code>
///   <para>Makes the Tron master's hello namespace what soa-configs say; sends nothing when it already is.</para>
/// </example>
/// <example>
///   <code>Sync-PaastaTronNamespace -Service * -Cluster local -IncludeMaster -WhatIf</code>
///   <para>Shows, namespace by namespace, the diff between the configured Tron master and soa-configs, without changing the master.</para>
/// </example>
/// <example>
///   <code>$env:PAASTA_TRON_TOKEN = Get-Content ~/.tron-token; Sync-PaastaTronNamespace -Service * -Cluster local -IncludeMaster -DefaultVolume /nail/etc:/nail/etc:ro</code>
///   <para>Syncs every namespace with a bearer token, MASTER first with its default volumes.</para>
/// </example>
/// <example>
///   <code>Sync-PaastaTronNamespace -Service * -Cluster local | Where-Object Action -eq Failed</code>
///   <para>Syncs every service and lists the namespaces the master refused.</para>
/// </example>
// InputObject is the default set: PowerShell binds pipeline input in the default set first, and a piped
// TronNamespaceConfig would otherwise bind its Cluster by property name there and then miss -Service.
[Cmdlet(VerbsData.Sync, "PaastaTronNamespace", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = InputObjectSet)]
[OutputType(typeof(TronNamespaceSyncResult))]
public sealed class SyncPaastaTronNamespace : TronConfigCmdlet
{
    private const string InputObjectSet = "InputObject";
    private readonly List<TronNamespaceConfig> _configs = new();

    /// <summary>The Tron master's base URL (http://host:8089). Defaults to $env:PAASTA_TRON_URL, then Set-PaastaConfiguration -TronUrl.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? TronUrl { get; set; }

    protected override PaastaSettings GivenSettings() => base.GivenSettings() with { TronUrl = TronUrl };

    /// <summary>Namespace configs from ConvertTo-PaastaTronConfig.</summary>
    [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, ValueFromPipeline = true)]
    public TronNamespaceConfig[] InputObject { get; set; } = Array.Empty<TronNamespaceConfig>();

    /// <summary>A bearer token for the Tron API (sent as Authorization: Bearer). Defaults to $env:PAASTA_TRON_TOKEN; with $env:TRONCTL_API_AUTH set (PaaSTA's switch for authenticated requests) one of them is required.</summary>
    [Parameter]
    [ValidateNotNull]
    public SecureString? TronToken { get; set; }

    /// <summary>Seconds to wait for each answer of the Tron master.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = 30;

    protected override void Process()
    {
        if (ParameterSetName == InputObjectSet)
        {
            _configs.AddRange(InputObject);
            return;
        }
        var request = NamespaceRequest();
        _configs.AddRange(RunOrWriteError(op => TronNamespaceOperation.Generate(op, request, "Sync-PaastaTronNamespace")) ?? Array.Empty<TronNamespaceConfig>());
    }

    protected override void End()
    {
        if (_configs.Count == 0) return;
        var request = new TronSyncRequest
        {
            Token = TronToken is null ? null : new System.Net.NetworkCredential("", TronToken).Password,
            Timeout = TimeSpan.FromSeconds(TimeoutSec),
        };
        foreach (var result in RunOrWriteError(op => TronNamespaceOperation.Sync(op, _configs, request)) ?? Array.Empty<TronNamespaceSyncResult>())
            WriteObject(result);
    }
}
