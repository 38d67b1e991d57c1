using Paasta.Deployments;

namespace Paasta.Config;

/// <summary>
/// What deployments.json says an instance should run (PaaSTA's "branch dict", docs/BEHAVIOUR.md §3.4): the image and
/// sha of its deploy group, and the desired state and force_bounce of its control entry.
/// </summary>
public sealed record DeploymentBranch(string DockerImage, string GitSha, string? ImageVersion, string DesiredState, string? ForceBounce)
{
    public bool IsStopped => DesiredState == "stop";

    /// <summary>
    /// The branch of <paramref name="instance"/>, or null when it is not deployed: its deploy group has no deployment
    /// yet, or the file has no control entry for it (an instance added since deployments.json was generated; PaaSTA
    /// skips it too, docs/BEHAVIOUR.md §3.4).
    /// </summary>
    public static DeploymentBranch? For(InstanceConfig instance, DeploymentsDocument deployments)
    {
        if (instance.DeployGroup is null || !deployments.Deployments.TryGetValue(instance.DeployGroup, out var d) || d.DockerImage is null || d.GitSha is null)
            return null;
        if (!deployments.Controls.TryGetValue($"{instance.Service}:{instance.Branch}", out var control))
            return null;
        return new DeploymentBranch(d.DockerImage, d.GitSha, d.ImageVersion, control.DesiredState ?? "start", control.ForceBounce);
    }
}
