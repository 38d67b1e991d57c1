using k8s.Models;

namespace Paasta;

/// <summary>One pod of an instance as paasta status shows it.</summary>
public sealed record PodStatus(string Name, string? Node, string? IP, bool Ready, int Restarts, DateTime? Started, string? GitSha, string? ConfigSha, string Phase)
{
    public TimeSpan? Age => Started is { } s ? DateTime.UtcNow - s : null;
    public string? Version => GitSha is { Length: >= 8 } ? GitSha[..8] : GitSha;
}

/// <summary>paasta status for one long-running instance: what should run, what runs, and its pods.</summary>
public sealed record InstanceStatus
{
    public required string Service { get; init; }
    public required string Cluster { get; init; }
    public required string Instance { get; init; }
    public required string Namespace { get; init; }
    public string DesiredState { get; init; } = "start";
    /// <summary>The sha deployments.json says should run (null: nothing deployed yet).</summary>
    public string? GitSha { get; init; }
    public string? Image { get; init; }
    /// <summary>What the cluster runs now (the Deployment's labels); null when it has no Deployment.</summary>
    public string? RunningGitSha { get; init; }
    public string? ConfigSha { get; init; }
    public int DesiredReplicas { get; init; }
    public int ReadyReplicas { get; init; }
    public int UpToDateReplicas { get; init; }
    public bool DeploymentExists { get; init; }
    /// <summary>True while pods of another version or config are still around, or new ones are not all up.</summary>
    public bool BounceInProgress { get; init; }
    public IReadOnlyList<PodStatus> Pods { get; init; } = Array.Empty<PodStatus>();

    public override string ToString() => $"{Service}.{Instance} on {Cluster}: {ReadyReplicas}/{DesiredReplicas} ready{(BounceInProgress ? ", bouncing" : "")}";
}
