namespace Paasta;

public enum SyncAction
{
    Unchanged,
    Created,
    Updated,
    Scaled,
    NoDeployment,
    Failed,
}

/// <summary>What one Sync pass did (or, under -WhatIf, would do) to one instance.</summary>
public sealed record SyncResult
{
    public required string Service { get; init; }
    public required string Cluster { get; init; }
    public required string Instance { get; init; }
    public string? Namespace { get; init; }
    public string? Name { get; init; }
    public SyncAction Action { get; init; }
    public bool WhatIf { get; init; }
    public string? OldConfigSha { get; init; }
    public string? NewConfigSha { get; init; }
    public string? OldGitSha { get; init; }
    public string? NewGitSha { get; init; }
    public int? OldReplicas { get; init; }
    public int? NewReplicas { get; init; }
    /// <summary>Readable differences between the running object and the desired one.</summary>
    public IReadOnlyList<string> Changes { get; init; } = Array.Empty<string>();
    public string? Message { get; init; }

    public override string ToString() => $"{Service}.{Instance} on {Cluster}: {Action}{(Changes.Count > 0 ? " (" + string.Join("; ", Changes) + ")" : "")}";
}

