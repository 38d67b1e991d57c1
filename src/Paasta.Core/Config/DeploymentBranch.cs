namespace Paasta.Config;

/// <summary>
/// What deployments.json says an instance should run (PaaSTA's "branch dict", docs/BEHAVIOUR.md §3.4): the image
/// and sha of its deploy group, and the desired state and force_bounce of its control entry. Read from a
/// deployments.json by <c>Paasta.Deployments.DeploymentBranches.For</c>.
/// </summary>
public sealed record DeploymentBranch(string DockerImage, string GitSha, string? ImageVersion, string DesiredState, string? ForceBounce)
{
    public bool IsStopped => DesiredState == "stop";

    /// <summary>Why an instance has no branch, for messages: its deploy group has no deployment, or it has no control entry.</summary>
    public static string NotDeployedReason(InstanceConfig instance) =>
        $"deployments.json has no deployment of deploy group '{instance.DeployGroup}', or no entry for {instance.Service}:{instance.Branch}, yet";
}
