using System.Text.RegularExpressions;
using Paasta.Errors;

namespace Paasta.Git;

/// <summary>A <c>paasta-&lt;group&gt;[+&lt;image_version&gt;]-&lt;ts&gt;-deploy</c> (or <c>-rollback</c>) tag.</summary>
public sealed record DeployTag(string RefName, string Sha, string DeployGroup, string? ImageVersion, string Timestamp)
{
    public DeploymentVersion Version => new(Sha, ImageVersion);
    public string TagName => PaastaTags.ShortName(RefName);
    public DateTimeOffset? Time => GitTimestamp.TryParse(Timestamp);
}

/// <summary>A <c>paasta-&lt;cluster&gt;.&lt;instance&gt;-&lt;force_bounce&gt;-start|stop</c> tag.</summary>
public sealed record ControlTag(string RefName, string Sha, string Branch, string ForceBounce, string State)
{
    public string TagName => PaastaTags.ShortName(RefName);
}

/// <summary>
/// Tag names of the git contract (docs/BEHAVIOUR.md §2.2) and their parsing. Parsing is written for one pass over
/// every ref of a big repository: cheap suffix/prefix checks first, and deploy tags are split by hand
/// rather than by a regex per deploy group. Deploy-group names are matched literally (Paasta decision 3:
/// a '.' in a group is a dot, not "any character").
/// </summary>
public static partial class PaastaTags
{
    public const string TagsPrefix = "refs/tags/";
    public const string PaastaTagPrefix = "refs/tags/paasta-";
    public const string DeploySuffix = "-deploy";
    public const string RollbackSuffix = "-rollback";
    public const string Start = "start";
    public const string Stop = "stop";

    /// <summary><c>refs/tags/paasta-&lt;group&gt;[+&lt;image_version&gt;]-&lt;ts&gt;-deploy</c>; refuses names the tag cannot carry (<see cref="TagNames"/>).</summary>
    public static string DeployRefName(string deployGroup, string? imageVersion, string timestamp) =>
        GroupRefName(deployGroup, imageVersion, timestamp, DeploySuffix);

    public static string RollbackRefName(string deployGroup, string? imageVersion, string timestamp) =>
        GroupRefName(deployGroup, imageVersion, timestamp, RollbackSuffix);

    private static string GroupRefName(string deployGroup, string? imageVersion, string timestamp, string suffix)
    {
        TagNames.RequireDeployGroup(deployGroup);
        TagNames.RequireImageVersion(imageVersion);
        RequireTimestamp(timestamp);
        var name = $"{PaastaTagPrefix}{deployGroup}{(imageVersion is null ? "" : "+" + imageVersion)}-{timestamp}{suffix}";
        // The reader must see exactly what was written: the whole name as this group, with this image version.
        if (!TrySplit(name, suffix, out var rest, out var ts) || ts != timestamp
            || !GroupCandidates(rest).Contains((deployGroup, imageVersion)))
            throw Unreadable(name);
        return name;
    }

    /// <summary><c>refs/tags/paasta-&lt;cluster&gt;.&lt;instance&gt;-&lt;ts&gt;-&lt;state&gt;</c>; restart writes state <c>start</c>.</summary>
    public static string ControlRefName(string controlBranch, string timestamp, string state)
    {
        TagNames.RequireControlBranch(controlBranch);
        RequireTimestamp(timestamp);
        if (state is not (Start or Stop))
            throw new ArgumentOutOfRangeException(nameof(state), state, "A control tag's state is start or stop.");
        var name = $"{PaastaTagPrefix}{controlBranch}-{timestamp}-{state}";
        if (!TryParseControl(new GitRef(name, ""), out var read) || read.Branch != controlBranch || read.ForceBounce != timestamp || read.State != state)
            throw Unreadable(name);
        return name;
    }

    private static void RequireTimestamp(string timestamp)
    {
        if (!GitTimestamp.IsTimestamp(timestamp))
            throw new ArgumentException($"'{timestamp}' is not a tag timestamp (yyyyMMddTHHmmss).", nameof(timestamp));
    }

    private static PaastaException Unreadable(string name) =>
        new("InvalidTagName", PaastaErrorKind.InvalidArgument,
            $"'{ShortName(name)}' would not be read back as written, so it is not written.") { Target = name };

    public static string ShortName(string refName) =>
        refName.StartsWith(TagsPrefix, StringComparison.Ordinal) ? refName[TagsPrefix.Length..] : refName;

    // Start/stop tags (docs/BEHAVIOUR.md §2.4), legacy 0–2 "paasta-" prefixes included. Used only on refs that already
    // end in -start or -stop, so the regex never sees the bulk of the refs.
    [GeneratedRegex(@"^refs/tags/(?:paasta-){0,2}(?<branch>[a-zA-Z0-9_.-]+)-(?<force_bounce>[^-]+)-(?<state>start|stop)$", RegexOptions.CultureInvariant)]
    private static partial Regex ControlTagPattern();

    /// <summary>
    /// Splits <c>refs/tags/paasta-REST-TS&lt;suffix&gt;</c> into REST and TS. REST is
    /// <c>group</c> or <c>group+image_version</c>; see <see cref="GroupCandidates"/>.
    /// </summary>
    public static bool TrySplit(string refName, string suffix, out string rest, out string timestamp)
    {
        rest = timestamp = "";
        var minimum = PaastaTagPrefix.Length + 1 + 1 + GitTimestamp.Length + suffix.Length;
        if (refName.Length < minimum
            || !refName.EndsWith(suffix, StringComparison.Ordinal)
            || !refName.StartsWith(PaastaTagPrefix, StringComparison.Ordinal))
            return false;
        var tsStart = refName.Length - suffix.Length - GitTimestamp.Length;
        if (refName[tsStart - 1] != '-' || !GitTimestamp.IsTimestamp(refName.AsSpan(tsStart, GitTimestamp.Length))) return false;
        rest = refName.Substring(PaastaTagPrefix.Length, tsStart - 1 - PaastaTagPrefix.Length);
        timestamp = refName.Substring(tsStart, GitTimestamp.Length);
        return true;
    }

    /// <summary>
    /// The (group, image_version) readings of REST that the tag regex
    /// <c>paasta-G(?:\+(?P&lt;image_version&gt;.*)){0,1}-TS-deploy</c> allows: REST itself with no image
    /// version, and every split at a '+' (group before it, image version after it).
    /// </summary>
    public static IEnumerable<(string Group, string? ImageVersion)> GroupCandidates(string rest)
    {
        if (rest.Length > 0) yield return (rest, null);
        for (var i = rest.IndexOf('+'); i >= 0; i = rest.IndexOf('+', i + 1))
            if (i > 0) yield return (rest[..i], rest[(i + 1)..]);
    }

    /// <summary>Parses a start/stop tag; false for anything else.</summary>
    public static bool TryParseControl(GitRef r, out ControlTag tag)
    {
        tag = null!;
        var name = r.Name;
        if (!(name.EndsWith("-start", StringComparison.Ordinal) || name.EndsWith("-stop", StringComparison.Ordinal))) return false;
        var m = ControlTagPattern().Match(name);
        if (!m.Success) return false;
        tag = new ControlTag(name, r.Sha, m.Groups["branch"].Value, m.Groups["force_bounce"].Value, m.Groups["state"].Value);
        return true;
    }

    /// <summary>Every deploy (or rollback) tag of <paramref name="deployGroup"/>, newest first (ties: ref name order).</summary>
    public static IReadOnlyList<DeployTag> TagsOfGroup(GitRefListing refs, string deployGroup, string suffix = DeploySuffix)
    {
        var found = new List<DeployTag>();
        foreach (var r in refs.Refs)
        {
            if (!TrySplit(r.Name, suffix, out var rest, out var ts)) continue;
            if (!rest.StartsWith(deployGroup, StringComparison.Ordinal)) continue;
            if (rest.Length == deployGroup.Length) found.Add(new DeployTag(r.Name, r.Sha, deployGroup, null, ts));
            else if (rest[deployGroup.Length] == '+') found.Add(new DeployTag(r.Name, r.Sha, deployGroup, rest[(deployGroup.Length + 1)..], ts));
        }
        found.Sort(NewestFirst);
        return found;
    }

    /// <summary>Rollback tags of a group that point at <paramref name="sha"/>, newest first (docs/BEHAVIOUR.md §2.4).</summary>
    public static IReadOnlyList<DeployTag> RollbackTags(GitRefListing refs, string deployGroup, string sha) =>
        TagsOfGroup(refs, deployGroup, RollbackSuffix).Where(t => string.Equals(t.Sha, sha, StringComparison.OrdinalIgnoreCase)).ToList();

    /// <summary>
    /// The versions deployed to a group, each with its most recent deploy tag, newest first: what
    /// <c>paasta rollback</c> offers. The first entry is the group's current version.
    /// </summary>
    public static IReadOnlyList<DeployTag> DeployedVersions(GitRefListing refs, string deployGroup)
    {
        var seen = new HashSet<DeploymentVersion>();
        var versions = new List<DeployTag>();
        foreach (var tag in TagsOfGroup(refs, deployGroup))
            if (seen.Add(tag.Version)) versions.Add(tag);
        return versions;
    }

    /// <summary>Newest timestamp first; on equal timestamps the ref that sorts first (PaaSTA keeps the first one it meets, and refs are advertised sorted).</summary>
    internal static int NewestFirst(DeployTag a, DeployTag b)
    {
        var byTime = string.CompareOrdinal(b.Timestamp, a.Timestamp);
        return byTime != 0 ? byTime : string.CompareOrdinal(a.RefName, b.RefName);
    }

    /// <summary>True when <paramref name="candidate"/> replaces <paramref name="current"/> as "latest".</summary>
    internal static bool IsNewer(string candidateTs, string candidateRef, string currentTs, string currentRef)
    {
        var byTime = string.CompareOrdinal(candidateTs, currentTs);
        return byTime > 0 || (byTime == 0 && string.CompareOrdinal(candidateRef, currentRef) < 0);
    }
}

/// <summary>
/// What the refs say, computed in one pass (docs/BEHAVIOUR.md §3.2 steps 4–5): the latest deploy tag of every deploy
/// group, and for every (control branch, sha) the start/stop tag with the greatest force_bounce.
/// </summary>
public sealed class PaastaTagIndex
{
    private readonly Dictionary<string, DeployTag> _latest;
    private readonly Dictionary<(string Branch, string Sha), ControlTag> _controls;
    private readonly Dictionary<string, string> _branchLatest;

    private PaastaTagIndex(Dictionary<string, DeployTag> latest, Dictionary<(string, string), ControlTag> controls, Dictionary<string, string> branchLatest)
    {
        _latest = latest;
        _controls = controls;
        _branchLatest = branchLatest;
    }

    /// <param name="refs">The listing.</param>
    /// <param name="deployGroups">Only index these groups (null: every group any tag names).</param>
    public static PaastaTagIndex Build(GitRefListing refs, IReadOnlySet<string>? deployGroups = null)
    {
        var latest = new Dictionary<string, DeployTag>(StringComparer.Ordinal);
        var controls = new Dictionary<(string, string), ControlTag>();
        var branchLatest = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var r in refs.Refs)
        {
            if (PaastaTags.TrySplit(r.Name, PaastaTags.DeploySuffix, out var rest, out var ts))
            {
                foreach (var (group, imageVersion) in PaastaTags.GroupCandidates(rest))
                {
                    if (deployGroups is not null && !deployGroups.Contains(group)) continue;
                    if (latest.TryGetValue(group, out var current) && !PaastaTags.IsNewer(ts, r.Name, current.Timestamp, current.RefName)) continue;
                    latest[group] = new DeployTag(r.Name, r.Sha, group, imageVersion, ts);
                }
            }
            else if (PaastaTags.TryParseControl(r, out var control))
            {
                if (GitTimestamp.IsTimestamp(control.ForceBounce)
                    && (!branchLatest.TryGetValue(control.Branch, out var newest) || string.CompareOrdinal(control.ForceBounce, newest) > 0))
                    branchLatest[control.Branch] = control.ForceBounce;
                var key = (control.Branch, control.Sha);
                if (controls.TryGetValue(key, out var current) && !PaastaTags.IsNewer(control.ForceBounce, control.RefName, current.ForceBounce, current.RefName)) continue;
                controls[key] = control;
            }
        }
        return new PaastaTagIndex(latest, controls, branchLatest);
    }

    /// <summary>The deploy tag with the greatest timestamp for the group; null when the group was never marked.</summary>
    public DeployTag? LatestDeploy(string deployGroup) => _latest.TryGetValue(deployGroup, out var t) ? t : null;

    /// <summary>The start/stop tag in force for a control branch at <paramref name="sha"/>; tags on other shas never apply.</summary>
    public ControlTag? Control(string controlBranch, string sha) => _controls.TryGetValue((controlBranch, sha), out var t) ? t : null;

    /// <summary>The newest timestamp of any start/stop tag of a control branch, whatever its commit; null when it has none.</summary>
    public string? LatestControlTimestamp(string controlBranch) => _branchLatest.TryGetValue(controlBranch, out var ts) ? ts : null;

    public IReadOnlyCollection<string> DeployGroups => _latest.Keys;

    /// <summary>An index with no tags: a service without a repository.</summary>
    public static PaastaTagIndex Empty { get; } = new(new Dictionary<string, DeployTag>(StringComparer.Ordinal), new Dictionary<(string, string), ControlTag>(), new Dictionary<string, string>(StringComparer.Ordinal));
}
