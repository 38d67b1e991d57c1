using Paasta.Errors;

namespace Paasta.Git;

/// <summary>
/// What the names inside PaaSTA's tags can carry, checked once for every tag writer (docs/BEHAVIOUR.md §2.2,
/// §2.4). A name is writable only when PaaSTA's readers read the tag back as the same name: deploy groups and
/// control branches (<c>cluster.instance</c>) are ASCII letters, digits, '_', '.' and '-' (the character class
/// of PaaSTA's tag parsers); a '+' would split a deploy group into group and image version, and anything else
/// (spaces, '/', non-ASCII letters) is either no valid ref or a tag the readers skip. Refusing here, before a
/// ref is listed or a question asked, means a name the grammar cannot carry is never written.
/// </summary>
public static class TagNames
{
    /// <summary>The longest docker tag (<c>paasta-&lt;sha&gt;-&lt;image_version&gt;</c> must fit in 128 characters).</summary>
    public const int MaxImageVersionLength = 128 - 7 - 40 - 1;

    private const string LegacyPrefix = "paasta-";

    /// <summary>True when <paramref name="name"/> is made of the characters PaaSTA's tag parsers read back, and forms a valid ref part.</summary>
    public static bool IsTagSafe(string? name)
    {
        if (string.IsNullOrEmpty(name)) return false;
        foreach (var c in name)
            if (!IsTagCharacter(c)) return false;
        return !name.Contains("..", StringComparison.Ordinal) && !name.EndsWith(".lock", StringComparison.Ordinal);
    }

    private static bool IsTagCharacter(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-';

    /// <summary>
    /// Refuses a ref name that PaaSTA's readers would not read as a deploy, rollback, start or stop tag (InvalidTagName):
    /// the last check of every tag writer, whatever built the name.
    /// </summary>
    public static void RequirePaastaTag(string refName)
    {
        var readable = PaastaTags.TrySplit(refName, PaastaTags.DeploySuffix, out var rest, out _)
                ? PaastaTags.GroupCandidates(rest).Any(c => IsTagSafe(c.Group) && (c.ImageVersion is null || IsTagSafe(c.ImageVersion)))
            : PaastaTags.TrySplit(refName, PaastaTags.RollbackSuffix, out rest, out _)
                ? PaastaTags.GroupCandidates(rest).Any(c => IsTagSafe(c.Group))
            : PaastaTags.TryParseControl(new GitRef(refName, ""), out var control) && GitTimestamp.IsTimestamp(control.ForceBounce);
        if (!readable)
            throw new PaastaException("InvalidTagName", PaastaErrorKind.InvalidArgument,
                $"'{PaastaTags.ShortName(refName)}' is not a tag PaaSTA reads (paasta-GROUP[+IMAGE_VERSION]-TIMESTAMP-deploy|rollback, paasta-CLUSTER.INSTANCE-TIMESTAMP-start|stop), so it is not written.")
            { Target = refName };
    }

    /// <summary>Refuses a deploy group that a deploy or rollback tag cannot carry (InvalidDeployGroup).</summary>
    public static void RequireDeployGroup(string? deployGroup)
    {
        if (IsTagSafe(deployGroup)) return;
        var why = string.IsNullOrEmpty(deployGroup) ? "it is empty"
            : deployGroup.IndexOf('+') is var plus and > 0
                ? $"'+' separates the image version in a deploy tag, so the tag would be read back as deploy group '{deployGroup[..plus]}' with image version '{deployGroup[(plus + 1)..]}'"
                : "deploy groups are written into tag names, which PaaSTA reads back only when they are ASCII letters, digits, '_', '.' and '-' (no '..', not ending in '.lock')";
        throw new PaastaException("InvalidDeployGroup", PaastaErrorKind.InvalidArgument,
            $"'{deployGroup}' cannot be a deploy group: {why}.") { Target = deployGroup };
    }

    /// <summary>Refuses an image version that a deploy tag or a docker tag cannot carry (InvalidImageVersion); null is no image version.</summary>
    public static void RequireImageVersion(string? imageVersion)
    {
        if (imageVersion is null) return;
        if (IsTagSafe(imageVersion) && imageVersion.Length <= MaxImageVersionLength) return;
        throw new PaastaException("InvalidImageVersion", PaastaErrorKind.InvalidArgument,
            $"'{imageVersion}' cannot be an image version: it becomes part of a tag name and of the docker tag paasta-<sha>-<image_version>, " +
            $"so it may hold only ASCII letters, digits, '_', '.' and '-' (no '..'), at most {MaxImageVersionLength} of them.")
        { Target = imageVersion };
    }

    /// <summary>
    /// Refuses a control branch (<c>cluster.instance</c>, <c>cluster.job.action</c> for Tron) that a start/stop tag
    /// cannot carry (InstanceNameNotTaggable). A branch starting with "paasta-" is refused too: PaaSTA's reader strips
    /// up to two such prefixes (older tags carried them), so it would read another branch.
    /// </summary>
    public static void RequireControlBranch(string? controlBranch, object? target = null, string? file = null, int line = 0)
    {
        if (IsTagSafe(controlBranch) && !controlBranch!.StartsWith(LegacyPrefix, StringComparison.Ordinal)) return;
        var why = controlBranch?.StartsWith(LegacyPrefix, StringComparison.Ordinal) == true
            ? "PaaSTA's reader drops a leading 'paasta-' from start/stop tags, so it would be read back as another instance"
            : "start and stop tags carry cluster.instance in their name, which PaaSTA reads back only when it is ASCII letters, digits, '_', '.' and '-' (no '..')";
        throw new PaastaException("InstanceNameNotTaggable", PaastaErrorKind.InvalidArgument,
            $"'{controlBranch}' (cluster.instance) cannot be started, stopped or restarted: {why}. Nothing was written.")
        {
            Target = target ?? controlBranch,
            File = file,
            Line = line,
        };
    }
}
