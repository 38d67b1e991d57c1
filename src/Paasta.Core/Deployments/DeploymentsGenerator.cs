using Paasta.Git;

namespace Paasta.Deployments;

/// <summary>An instance's control branch and the deploy group whose tags it follows.</summary>
public sealed record ControlBranch(string Branch, string DeployGroup, InstanceConfig Instance);

/// <summary>
/// generate_deployments_for_service (spec §3.2): from a service's instances and its repository's refs,
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

    private static int TypeRank(string type)
    {
        var i = Array.IndexOf(TypeOrder, type);
        return i < 0 ? TypeOrder.Length : i;
    }

    /// <summary><c>services-&lt;service&gt;:paasta-&lt;sha&gt;</c>, plus <c>-&lt;image_version&gt;</c> when there is one (spec §3.5).</summary>
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
}
