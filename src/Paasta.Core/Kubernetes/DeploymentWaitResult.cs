namespace Paasta.Kubernetes;

/// <summary>Where one instance stands after Wait-PaastaDeployment: converged on the version, or not and why.</summary>
public sealed record DeploymentWaitResult
{
    public required string Service { get; init; }
    public required string Cluster { get; init; }
    public required string Instance { get; init; }
    public required string DeployGroup { get; init; }
    public required string GitSha { get; init; }
    public string? ImageVersion { get; init; }
    public bool Converged { get; init; }
    public int ReadyReplicas { get; init; }
    /// <summary>ceil(bounce_margin_factor × replicas): the ready copies the version needs to count as deployed.</summary>
    public int RequiredReplicas { get; init; }
    public int? Replicas { get; init; }
    public TimeSpan Elapsed { get; init; }
    /// <summary>What was last seen: "3/3 ready at 1a2b3c4d", or why it had not converged.</summary>
    public required string Reason { get; init; }

    /// <summary>ready/required.</summary>
    public string Ready => $"{ReadyReplicas}/{RequiredReplicas}";

    public override string ToString() => $"{Service}.{Instance} on {Cluster}: {(Converged ? "converged" : "not converged")} — {Reason}";
}
