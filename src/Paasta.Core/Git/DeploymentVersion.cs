namespace Paasta.Git;

/// <summary>
/// What a deploy tag marks (docs/BEHAVIOUR.md §2.3): a commit and an optional image version. Two versions are equal when
/// both parts are; the same commit rebuilt with a new image version is a different version.
/// </summary>
public readonly record struct DeploymentVersion(string Sha, string? ImageVersion)
{
    public string ShortSha => Sha.Length > 8 ? Sha[..8] : Sha;

    /// <summary>PaaSTA's human form: the sha alone, or <c>DeploymentVersion(sha=…, image_version=…)</c>.</summary>
    public override string ToString() =>
        ImageVersion is null ? Sha : $"DeploymentVersion(sha={Sha}, image_version={ImageVersion})";
}
