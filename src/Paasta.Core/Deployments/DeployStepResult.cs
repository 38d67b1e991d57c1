using Paasta.Git;

namespace Paasta.Deployments;

/// <summary>How a step of the pipeline ended in Deploy-PaastaService.</summary>
// long: ConvertTo-Json writes 64-bit enums by name (docs/OUTPUT.md).
public enum DeployStepState : long
{
    /// <summary>Every instance of the deploy group on every cluster runs the version and is ready.</summary>
    Deployed,
    /// <summary>The version failed and the group was marked back to the version it ran before.</summary>
    RolledBack,
    /// <summary>Not run by Paasta: a build or check step, a command step, or a disabled step.</summary>
    Skipped,
    /// <summary>The step before it asks for a manual trigger (trigger_next_step_manually) and none was given.</summary>
    WaitingForApproval,
    /// <summary>The version did not come up (or could not be marked), and was not rolled back.</summary>
    Failed,
}

/// <summary>One step of deploy.yaml's pipeline as Deploy-PaastaService walked it.</summary>
public sealed class DeployStepResult
{
    public string Service { get; init; } = "";
    /// <summary>The step: a deploy group, or the name of a step Paasta does not run.</summary>
    public string DeployGroup { get; init; } = "";
    /// <summary>The PaaSTA clusters with long-running instances in the deploy group (waited for).</summary>
    public IReadOnlyList<string> Clusters { get; init; } = Array.Empty<string>();
    /// <summary>The version the group was marked with before this deploy; null when it had none.</summary>
    public DeploymentVersion? FromVersion { get; init; }
    /// <summary>The version deployed (for a rolled-back step: the one that failed).</summary>
    public DeploymentVersion? ToVersion { get; init; }
    public DeployStepState State { get; init; }
    /// <summary>Why the step ended in its state (the failure, the approval asked for, the step's kind); null when deployed without remark.</summary>
    public string? Reason { get; init; }
    public TimeSpan Duration { get; init; }
    /// <summary>The git tags written for this step (deploy, and on a rollback the new deploy and rollback tags).</summary>
    public IReadOnlyList<string> TagsWritten { get; init; } = Array.Empty<string>();

    /// <summary>FromVersion → ToVersion as short shas, for the table view.</summary>
    public string Change => ToVersion is not { } to ? "" : FromVersion is { } from && from != to ? $"{Short(from)}->{Short(to)}" : Short(to);

    private static string Short(DeploymentVersion v) => v.ShortSha + (v.ImageVersion is null ? "" : "+" + v.ImageVersion);

    public override string ToString() => $"{Service} {DeployGroup}: {State}{(Reason is null ? "" : " — " + Reason)}";
}
