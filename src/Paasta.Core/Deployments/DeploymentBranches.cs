using Paasta.Config;

namespace Paasta.Deployments;

/// <summary>An instance's branch (image, sha, desired state, force_bounce) out of its service's deployments.json.</summary>
public static class DeploymentBranches
{
    /// <summary>The branch of <paramref name="instance"/>, or null when its deploy group has no deployment yet.</summary>
    public static DeploymentBranch? For(InstanceConfig instance, DeploymentsDocument deployments)
    {
        if (instance.DeployGroup is null || !deployments.Deployments.TryGetValue(instance.DeployGroup, out var d) || d.DockerImage is null || d.GitSha is null)
            return null;
        // No control entry: an instance added since deployments.json was generated is not deployed (PaaSTA skips it
        // too, docs/BEHAVIOUR.md §3.4).
        if (!deployments.Controls.TryGetValue($"{instance.Service}:{instance.Branch}", out var control))
            return null;
        return new DeploymentBranch(d.DockerImage, d.GitSha, d.ImageVersion, control.DesiredState ?? "start", control.ForceBounce);
    }

    /// <summary>The branch of <paramref name="instance"/> in this document (null: its deploy group has no deployment yet).</summary>
    public static DeploymentBranch? BranchFor(this DeploymentsDocument deployments, InstanceConfig instance) => For(instance, deployments);
}
