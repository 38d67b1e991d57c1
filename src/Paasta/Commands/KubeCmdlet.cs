using System.Management.Automation;
using Paasta.Kubernetes;
using Paasta.Settings;

namespace Paasta.Commands;

/// <summary>Base of cmdlets that talk to a Kubernetes cluster: -KubeConfig and -Context, one connection per context and call.</summary>
public abstract class KubeCmdlet : SoaConfigCmdlet
{
    /// <summary>The kubeconfig file. Defaults to the first file of $env:KUBECONFIG, then Set-PaastaConfiguration -KubeConfig, then ~/.kube/config.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KubeConfig { get; set; }

    /// <summary>The kubeconfig context. Defaults to the cluster's entry in ClusterContext, then $env:PAASTA_KUBE_CONTEXT, then Set-PaastaConfiguration -KubeContext, then the current context.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Context { get; set; }

    protected override PaastaSettings GivenSettings() => base.GivenSettings() with { KubeConfig = ProviderPath(KubeConfig), KubeContext = Context };

    /// <summary>The connection, opened on first use (so a cmdlet that fails earlier never reads the kubeconfig).</summary>
    protected KubeConnection Kube => Operation.Kube();
}
