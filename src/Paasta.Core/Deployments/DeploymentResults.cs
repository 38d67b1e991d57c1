using Paasta.Git;

namespace Paasta.Deployments;

/// <summary>What New-PaastaDeployments computed for a service, and whether deployments.json changed.</summary>
public sealed class DeploymentsFile
{
    public required string Service { get; init; }
    /// <summary>The deployments.json path.</summary>
    public required string Path { get; init; }
    /// <summary>The repository the refs came from; null when service.yaml says git_url: null.</summary>
    public string? Repository { get; init; }
    /// <summary>True when the computed content differs from the file's (a missing or invalid file counts as <c>{}</c>).</summary>
    public bool Changed { get; init; }
    /// <summary>True when the file was written by this call (changed, and not -WhatIf).</summary>
    public bool Written { get; init; }
    /// <summary>
    /// Deploy groups that instances still use whose deployment the new content drops (no deploy tag for them, git_url: null):
    /// written only with -Force. Empty when nothing is lost.
    /// </summary>
    public IReadOnlyList<string> DroppedDeployGroups { get; init; } = Array.Empty<string>();
    public required DeploymentsDocument Document { get; init; }

    public IReadOnlyDictionary<string, DeploymentEntry> Deployments => Document.Deployments;
    public IReadOnlyDictionary<string, ControlEntry> Controls => Document.Controls;
    public IReadOnlyDictionary<string, V1Entry> V1 => Document.V1;
    /// <summary>The exact file content.</summary>
    public string Json => Document.ToJson();

    public override string ToString() => Path;
}

/// <summary>What one instance (control branch) runs: its deploy group's version plus its start/stop control.</summary>
public sealed class DeploymentInfo
{
    public required string Service { get; init; }
    public required string Cluster { get; init; }
    public required string Instance { get; init; }
    public string? InstanceType { get; init; }
    /// <summary><c>cluster.instance</c> (<c>cluster.job.action</c> for Tron).</summary>
    public required string ControlBranch { get; init; }
    public string? DeployGroup { get; init; }
    /// <summary>
    /// False when the deploy group has no deployment (never marked for deployment), or, read from deployments.json, when the
    /// file has no control entry for the instance (added since the file was generated): PaaSTA does not deploy it then.
    /// </summary>
    public bool Deployed { get; init; }
    public string? GitSha { get; init; }
    public string? ShortSha => GitSha is { Length: > 8 } s ? s[..8] : GitSha;
    public string? ImageVersion { get; init; }
    public string? DockerImage { get; init; }
    /// <summary><c>start</c> or <c>stop</c> (<c>start</c> when no control applies).</summary>
    public string? DesiredState { get; init; }
    public string? ForceBounce { get; init; }
    /// <summary>The deploy tag (live reads only).</summary>
    public string? DeployTag { get; init; }
    /// <summary>When the version was marked (live reads only).</summary>
    public DateTimeOffset? DeployedAt { get; init; }
    /// <summary>The start/stop tag in force (live reads only).</summary>
    public string? ControlTag { get; init; }
    /// <summary><c>deployments.json</c> or <c>git</c>.</summary>
    public required string Source { get; init; }

    public override string ToString() => $"{Service}.{Instance} on {Cluster}: {(Deployed ? $"{ShortSha} ({DesiredState})" : "not deployed")}";
}

/// <summary>The version a deploy group runs.</summary>
public sealed class DeployGroupDeployment
{
    public required string Service { get; init; }
    public required string DeployGroup { get; init; }
    public required string GitSha { get; init; }
    public string ShortSha => GitSha.Length > 8 ? GitSha[..8] : GitSha;
    public string? ImageVersion { get; init; }
    public string? DockerImage { get; init; }
    public DeploymentVersion Version => new(GitSha, ImageVersion);
    /// <summary>The deploy tag (live reads only).</summary>
    public string? DeployTag { get; init; }
    public DateTimeOffset? DeployedAt { get; init; }
    public required string Source { get; init; }

    public override string ToString() => $"{Service} {DeployGroup}: {Version}";
}

/// <summary>The result of Start-, Stop- or Restart-PaastaInstance for one instance: the tag written.</summary>
public sealed class InstanceControlResult
{
    public required string Service { get; init; }
    public required string Cluster { get; init; }
    public required string Instance { get; init; }
    public string? InstanceType { get; init; }
    public required string DeployGroup { get; init; }
    /// <summary>Start, Stop or Restart: what was asked.</summary>
    public required string Action { get; init; }
    /// <summary><c>start</c> or <c>stop</c>: the desired state written (restart writes <c>start</c>).</summary>
    public required string State { get; init; }
    /// <summary>The commit of the deploy group's current deploy tag, which the control tag points at.</summary>
    public required string Sha { get; init; }
    public string ShortSha => Sha.Length > 8 ? Sha[..8] : Sha;
    /// <summary>The tag created (short name, without <c>refs/tags/</c>).</summary>
    public required string Tag { get; init; }
    public string RefName => PaastaTagsNames.Ref(Tag);
    /// <summary>The timestamp in the tag; deployments.json carries it as force_bounce, so it changes the config hash.</summary>
    public required string ForceBounce { get; init; }
    public required string Repository { get; init; }

    public override string ToString() => Tag;
}

/// <summary>The deploy tag Publish-PaastaDeployment wrote.</summary>
public sealed class DeployTagResult
{
    public required string Service { get; init; }
    public required string DeployGroup { get; init; }
    public required string Sha { get; init; }
    public string ShortSha => Sha.Length > 8 ? Sha[..8] : Sha;
    public string? ImageVersion { get; init; }
    public DeploymentVersion Version => new(Sha, ImageVersion);
    public required string Tag { get; init; }
    public string RefName => PaastaTagsNames.Ref(Tag);
    public required string Timestamp { get; init; }
    /// <summary>The group's version before this tag (null when it had none).</summary>
    public DeploymentVersion? Previous { get; init; }
    public required string Repository { get; init; }

    public override string ToString() => Tag;
}

/// <summary>What Undo-PaastaDeployment did for one deploy group.</summary>
public sealed class RollbackResult
{
    public required string Service { get; init; }
    public required string DeployGroup { get; init; }
    /// <summary>The version rolled back from (the bad one; the rollback tag points at its commit).</summary>
    public required DeploymentVersion From { get; init; }
    /// <summary>The version now marked for deployment.</summary>
    public required DeploymentVersion To { get; init; }
    public required string DeployTag { get; init; }
    public required string RollbackTag { get; init; }
    public required string Repository { get; init; }

    public override string ToString() => $"{Service} {DeployGroup}: {From.ShortSha} -> {To.ShortSha}";
}

internal static class PaastaTagsNames
{
    public static string Ref(string tag) => Git.PaastaTags.TagsPrefix + tag;
}
