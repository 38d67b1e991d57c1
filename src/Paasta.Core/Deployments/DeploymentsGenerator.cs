using Paasta.Git;
using Paasta.Config;

namespace Paasta.Deployments;

/// <summary>An instance's control branch and the deploy group whose tags it follows.</summary>
public sealed record ControlBranch(string Branch, string DeployGroup, InstanceConfig Instance);

/// <summary>
/// generate_deployments_for_service (docs/BEHAVIOUR.md §3.2): from a service's instances and its repository's refs,
/// the content of deployments.json. Pure: no I/O.
/// </summary>
public static class DeploymentsGenerator
{
    public const string DefaultState = PaastaTags.Start;

    // PaaSTA walks clusters, then instance types in this order, then instances in file order.
    private static readonly string[] TypeOrder = { "adhoc", "kubernetes", "eks", "tron" };

    /// <summary>
    /// control branch → deploy group, in PaaSTA's order (cluster, then instance type, then file order). A
    /// branch named twice (same cluster.instance in two files) keeps its first position and its last group,
    /// like a Python dict. Instances without a deploy group (a Tron action that names none) are left out.
    /// </summary>
    public static IReadOnlyList<ControlBranch> ControlBranches(IEnumerable<InstanceConfig> instances)
    {
        var ordered = instances
            .Select((instance, index) => (instance, index))
            .OrderBy(x => x.instance.Cluster, StringComparer.Ordinal)
            .ThenBy(x => TypeRank(x.instance.InstanceType))
            .ThenBy(x => x.index);
        var map = new OrderedMap<ControlBranch>();
        foreach (var (instance, _) in ordered)
        {
            if (string.IsNullOrEmpty(instance.DeployGroup)) continue;
            map[instance.Branch] = new ControlBranch(instance.Branch, instance.DeployGroup, instance);
        }
        return map.Values.ToList();
    }

    /// <summary>PaaSTA's order of instance types (adhoc, kubernetes, eks, tron): where one cluster.instance is in two files, this order decides.</summary>
    public static int TypeRank(string type)
    {
        var i = Array.IndexOf(TypeOrder, type);
        return i < 0 ? TypeOrder.Length : i;
    }

    /// <summary><c>services-&lt;service&gt;:paasta-&lt;sha&gt;</c>, plus <c>-&lt;image_version&gt;</c> when there is one (docs/BEHAVIOUR.md §3.5).</summary>
    public static string DockerImage(string service, string sha, string? imageVersion) =>
        $"services-{service}:paasta-{sha}{(imageVersion is null ? "" : "-" + imageVersion)}";

    /// <param name="service">The service name.</param>
    /// <param name="branches">From <see cref="ControlBranches"/>.</param>
    /// <param name="refs">The repository's refs; null when the service has no repository (git_url: null).</param>
    public static DeploymentsDocument Generate(string service, IReadOnlyList<ControlBranch> branches, GitRefListing? refs) =>
        Generate(service, branches, refs is null ? null : Index(branches, refs));

    /// <summary>The tag index for exactly the deploy groups the branches use (one pass over the refs).</summary>
    public static PaastaTagIndex Index(IReadOnlyList<ControlBranch> branches, GitRefListing refs) =>
        PaastaTagIndex.Build(refs, branches.Select(b => b.DeployGroup).ToHashSet(StringComparer.Ordinal));

    public static DeploymentsDocument Generate(string service, IReadOnlyList<ControlBranch> branches, PaastaTagIndex? tags)
    {
        var doc = new DeploymentsDocument();
        if (tags is null || branches.Count == 0) return doc;
        foreach (var b in branches)
        {
            if (tags.LatestDeploy(b.DeployGroup) is not { } deploy) continue;
            var sha = deploy.Sha;
            var image = DockerImage(service, sha, deploy.ImageVersion);
            // A start/stop tag applies only when it points at the deploy tag's commit; otherwise: start, no force_bounce.
            var control = tags.Control(b.Branch, sha);
            var state = control?.State ?? DefaultState;
            var forceBounce = control?.ForceBounce;
            doc.Deployments[b.DeployGroup] = new DeploymentEntry(image, sha, deploy.ImageVersion);
            doc.V1[$"{service}:paasta-{b.Branch}"] = new V1Entry(image, state, forceBounce);
            doc.Controls[$"{service}:{b.Branch}"] = new ControlEntry(state, forceBounce);
        }
        return doc;
    }

    /// <summary>
    /// The deploy groups whose deployment <paramref name="next"/> would drop from <paramref name="current"/> while
    /// instances still use them: written, those instances could no longer be deployed (a git_url: null, a wrong
    /// repository, deleted tags). Groups no instance uses any more are not counted: removing them from soa-configs
    /// was the user's own edit.
    /// </summary>
    public static IReadOnlyList<string> DroppedDeployGroups(DeploymentsDocument? current, DeploymentsDocument next, IReadOnlyList<ControlBranch> branches)
    {
        if (current is null) return Array.Empty<string>();
        var inUse = branches.Select(b => b.DeployGroup).ToHashSet(StringComparer.Ordinal);
        return current.Deployments
            .Where(d => d.Value.GitSha is not null && inUse.Contains(d.Key) && !next.Deployments.ContainsKey(d.Key))
            .Select(d => d.Key)
            .ToList();
    }

    /// <summary>
    /// Why deployments.json says what it says, one sentence per deploy group and per control branch, for -Verbose:
    /// which deploy tag won (the newest timestamp; on a tie the name that sorts first) and which start/stop tag
    /// applies (only those on the deploy tag's commit count). One pass over the refs; the winners come from
    /// <paramref name="tags"/>, the same index <see cref="Generate(string, IReadOnlyList{ControlBranch}, PaastaTagIndex?)"/> used.
    /// </summary>
    public static IEnumerable<string> Explain(IReadOnlyList<ControlBranch> branches, GitRefListing refs, PaastaTagIndex tags)
    {
        var groups = branches.Select(b => b.DeployGroup).ToHashSet(StringComparer.Ordinal);
        var names = branches.Select(b => b.Branch).ToHashSet(StringComparer.Ordinal);
        var deploys = new Dictionary<string, List<DeployTag>>(StringComparer.Ordinal);
        var controls = new Dictionary<string, List<ControlTag>>(StringComparer.Ordinal);
        foreach (var r in refs.Refs)
        {
            if (PaastaTags.TrySplit(r.Name, PaastaTags.DeploySuffix, out var rest, out var ts))
            {
                foreach (var (group, imageVersion) in PaastaTags.GroupCandidates(rest))
                    if (groups.Contains(group)) Add(deploys, group, new DeployTag(r.Name, r.Sha, group, imageVersion, ts));
            }
            else if (PaastaTags.TryParseControl(r, out var control) && names.Contains(control.Branch))
            {
                Add(controls, control.Branch, control);
            }
        }

        var explained = new HashSet<string>(StringComparer.Ordinal);
        foreach (var b in branches)
        {
            if (!explained.Add(b.DeployGroup)) continue;
            var winner = tags.LatestDeploy(b.DeployGroup);
            if (winner is null)
            {
                var left = branches.Where(x => x.DeployGroup == b.DeployGroup).Select(x => x.Branch);
                yield return $"Deploy group '{b.DeployGroup}': no deploy tag, so {string.Join(", ", left)} {(left.Count() == 1 ? "is" : "are")} left out of deployments.json.";
                continue;
            }
            var all = deploys.GetValueOrDefault(b.DeployGroup) ?? new List<DeployTag>();
            all.Sort(PaastaTags.NewestFirst);
            var runnerUp = all.FirstOrDefault(t => t.RefName != winner.RefName);
            var why = runnerUp is null ? "its only deploy tag"
                : runnerUp.Timestamp == winner.Timestamp
                    ? $"newest timestamp {winner.Timestamp} of {all.Count} deploy tags, shared with {runnerUp.TagName}; the name that sorts first wins"
                    : $"newest timestamp {winner.Timestamp} of {all.Count} deploy tags; next newest {runnerUp.TagName}";
            yield return $"Deploy group '{b.DeployGroup}': {winner.TagName} wins ({why}): commit {winner.Sha}" +
                (winner.ImageVersion is null ? "." : $", image version {winner.ImageVersion}.");
        }

        foreach (var b in branches)
        {
            if (tags.LatestDeploy(b.DeployGroup) is not { } deploy) continue;
            var mine = controls.GetValueOrDefault(b.Branch) ?? new List<ControlTag>();
            var onCommit = mine.Count(c => c.Sha == deploy.Sha);
            var elsewhere = mine.Count - onCommit;
            var ignored = elsewhere == 0 ? "" : $"; {elsewhere} on other commits ignored";
            yield return tags.Control(b.Branch, deploy.Sha) is { } control
                ? $"{b.Branch}: desired_state {control.State}, force_bounce {control.ForceBounce}, from {control.TagName} " +
                  $"(newest of {onCommit} start/stop tag{(onCommit == 1 ? "" : "s")} on {Short(deploy.Sha)}{ignored})."
                : $"{b.Branch}: desired_state {DefaultState}, no force_bounce (no start/stop tag on {Short(deploy.Sha)}{ignored}).";
        }
    }

    private static void Add<T>(Dictionary<string, List<T>> map, string key, T value)
    {
        if (!map.TryGetValue(key, out var list)) map[key] = list = new List<T>();
        list.Add(value);
    }

    private static string Short(string sha) => sha.Length > 8 ? sha[..8] : sha;
}
