using Paasta.Config;
using Paasta.Git;
using Paasta.Errors;

namespace Paasta.Deployments;

/// <summary>What Start-, Stop- and Restart-PaastaInstance ask for.</summary>
public enum ControlAction { Start, Stop, Restart }

/// <summary>A start/stop/restart about to be written: the instance, the state, and the deploy tag whose commit the control tag will point at.</summary>
/// <param name="NewestControlTimestamp">The instance's newest start/stop timestamp: the new tag gets a later one.</param>
public sealed record ControlPlan(InstanceConfig Instance, ControlAction Action, string State, DeployTag DeployTag, GitRepositoryLocation Location,
    string? NewestControlTimestamp = null)
{
    public string ControlBranch => Instance.Branch;
}

/// <summary>A rollback about to be written for one deploy group.</summary>
public sealed record RollbackPlan(string Service, string DeployGroup, DeployTag Current, DeploymentVersion Target, GitRepositoryLocation Location)
{
    /// <summary>True when the target is already the current version: there is nothing to roll back.</summary>
    public bool NothingToDo => Target == Current.Version;
}

/// <summary>
/// The git contract's building blocks (docs/BEHAVIOUR.md §2.6, §2.7, §9.5): mark-for-deployment,
/// start/stop/restart and rollback, each planned from a ref listing first and then written through a
/// <see cref="TagWriter"/>, and the views of what is deployed. Operations/DeploymentOperations composes them.
/// </summary>
public sealed class DeploymentService
{
    public DeploymentService(GitRemoteClient? client = null, TimeProvider? clock = null)
    {
        Client = client ?? new GitRemoteClient();
        Writer = new TagWriter(Client, clock);
    }

    public GitRemoteClient Client { get; }
    public TagWriter Writer { get; init; }

    // ---------------------------------------------------------------- deployments.json

    /// <summary>Every instance of every type and cluster; a file that does not load stops generation (a partial file would silently drop instances).</summary>
    public static IReadOnlyList<InstanceConfig> LoadAllInstances(SoaConfigReader reader, ServiceConfig service)
    {
        var instances = new List<InstanceConfig>();
        foreach (var result in reader.LoadInstances(service))
        {
            if (result.Error is not null) throw result.Error;
            instances.Add(result.Value!);
        }
        return instances;
    }

    // ---------------------------------------------------------------- mark-for-deployment

    /// <summary>Writes <c>paasta-&lt;group&gt;[+&lt;image_version&gt;]-&lt;ts&gt;-deploy</c> at <paramref name="sha"/> (a full sha; see <see cref="CommitResolver"/>).</summary>
    public DeployTagResult MarkForDeployment(string service, GitRepositoryLocation location, GitRefListing refs, string deployGroup,
        string sha, string? imageVersion, CancellationToken cancellation = default)
    {
        TagNames.RequireDeployGroup(deployGroup);
        TagNames.RequireImageVersion(imageVersion);
        var latest = PaastaTagIndex.Build(refs, new HashSet<string>(StringComparer.Ordinal) { deployGroup }).LatestDeploy(deployGroup);
        // Later than the group's current tag, so the new one is "latest" even when both fall in one second.
        var written = Writer.Write(location, ts => PaastaTags.DeployRefName(deployGroup, imageVersion, ts), sha, force: true, refs, null,
            cancellation, after: latest?.Timestamp);
        var previous = latest?.Version;
        return new DeployTagResult
        {
            Service = service,
            DeployGroup = deployGroup,
            Sha = written.Sha,
            ImageVersion = imageVersion,
            Tag = written.TagName,
            Timestamp = written.Timestamp,
            Previous = previous,
            Repository = location.Url,
        };
    }

    /// <summary>The group's current version, or null when it was never marked.</summary>
    public static DeployTag? CurrentDeployment(GitRefListing refs, string deployGroup) =>
        PaastaTagIndex.Build(refs, new HashSet<string>(StringComparer.Ordinal) { deployGroup }).LatestDeploy(deployGroup);

    // ---------------------------------------------------------------- start / stop / restart

    /// <summary>
    /// Plans a start/stop/restart: the control tag will point at the commit of the instance's deploy group's
    /// latest deploy tag. Refuses (NoDeployTag) when the group was never marked for deployment.
    /// </summary>
    /// <param name="tags">An index of <paramref name="refs"/> (build it once for many instances).</param>
    public static ControlPlan PlanControl(InstanceConfig instance, GitRepositoryLocation location, PaastaTagIndex tags, ControlAction action)
    {
        if (string.IsNullOrEmpty(instance.DeployGroup))
            throw new PaastaException("InstanceHasNoDeployGroup", PaastaErrorKind.InvalidOperation,
                $"{instance.Service}.{instance.Instance} on {instance.Cluster} has no deploy_group, so no deploy tag it could be started or stopped at.")
            { Target = instance, File = instance.File, Line = instance.Line };
        TagNames.RequireControlBranch(instance.Branch, instance, instance.File, instance.Line);
        var deploy = tags.LatestDeploy(instance.DeployGroup)
            ?? throw new PaastaException("NoDeployTag", PaastaErrorKind.ObjectNotFound,
                $"Deploy group '{instance.DeployGroup}' of {instance.Service}.{instance.Instance} on {instance.Cluster} has no deploy tag in {location.Url}: " +
                $"it was never marked for deployment, so there is nothing to {action.ToString().ToLowerInvariant()}. " +
                $"Mark a version first: Publish-PaastaDeployment -Service {instance.Service} -DeployGroup {instance.DeployGroup} -Commit <sha>.")
            { Target = instance };
        var state = action == ControlAction.Stop ? PaastaTags.Stop : PaastaTags.Start;
        return new ControlPlan(instance, action, state, deploy, location, tags.LatestControlTimestamp(instance.Branch));
    }

    /// <summary>Writes <c>paasta-&lt;cluster&gt;.&lt;instance&gt;-&lt;ts&gt;-start|stop</c> (never moving an existing ref).</summary>
    public InstanceControlResult ApplyControl(ControlPlan plan, GitRefListing refs, CancellationToken cancellation = default)
    {
        var branch = plan.ControlBranch;
        var written = Writer.Write(plan.Location, ts => PaastaTags.ControlRefName(branch, ts, plan.State), plan.DeployTag.Sha,
            force: false, refs, plan.DeployTag.RefName, cancellation, after: plan.NewestControlTimestamp);
        return new InstanceControlResult
        {
            Service = plan.Instance.Service,
            Cluster = plan.Instance.Cluster,
            Instance = plan.Instance.Instance,
            InstanceType = plan.Instance.InstanceType,
            DeployGroup = plan.DeployTag.DeployGroup,
            Action = plan.Action.ToString(),
            State = plan.State,
            Sha = written.Sha,
            Tag = written.TagName,
            ForceBounce = written.Timestamp,
            Repository = plan.Location.Url,
        };
    }

    // ---------------------------------------------------------------- rollback

    /// <summary>
    /// Plans a rollback of one deploy group: to <paramref name="commit"/> (+ <paramref name="imageVersion"/>)
    /// when given, else to the most recent version before the current one.
    /// </summary>
    /// <param name="allowNeverDeployed">Accept a version that was never deployed to this group (-Force).</param>
    public static RollbackPlan PlanRollback(string service, GitRepositoryLocation location, GitRefListing refs, string deployGroup,
        string? commit, string? imageVersion, bool allowNeverDeployed)
    {
        TagNames.RequireDeployGroup(deployGroup);
        TagNames.RequireImageVersion(imageVersion);
        var history = PaastaTags.DeployedVersions(refs, deployGroup);
        if (history.Count == 0)
            throw new PaastaException("NoDeployTag", PaastaErrorKind.ObjectNotFound,
                $"Deploy group '{deployGroup}' of {service} has no deploy tag in {location.Url}: there is nothing to roll back.")
            { Target = deployGroup };
        var current = history[0];
        DeploymentVersion target;
        if (commit is null)
        {
            if (history.Count < 2)
                throw new PaastaException("NoPreviousVersion", PaastaErrorKind.ObjectNotFound,
                    $"Deploy group '{deployGroup}' of {service} has only ever run {current.Version}; there is no earlier version to roll back to.")
                { Target = deployGroup };
            target = history[1].Version;
        }
        else
        {
            target = new DeploymentVersion(ResolveRollbackCommit(refs, history, commit), imageVersion);
            if (!allowNeverDeployed && !history.Any(h => h.Version == target))
                throw new PaastaException("VersionNeverDeployed", PaastaErrorKind.InvalidArgument,
                    $"{target} was never deployed to '{deployGroup}'. Versions it ran, newest first: " +
                    string.Join(", ", history.Take(10).Select(h => $"{h.Version} ({h.Timestamp})")) +
                    ". Pass -Force to mark it anyway.")
                { Target = commit };
        }
        return new RollbackPlan(service, deployGroup, current, target, location);
    }

    /// <summary>A sha prefix is matched against the group's deployed versions first, then against the remote's refs.</summary>
    private static string ResolveRollbackCommit(GitRefListing refs, IReadOnlyList<DeployTag> history, string commit)
    {
        var wanted = commit.Trim().ToLowerInvariant();
        if (wanted.Length is >= 4 and < 40 && wanted.All(char.IsAsciiHexDigit))
        {
            var deployed = history.Select(h => h.Sha).Where(s => s.StartsWith(wanted, StringComparison.Ordinal)).Distinct().ToList();
            if (deployed.Count == 1) return deployed[0];
        }
        return CommitResolver.Resolve(refs, commit);
    }

    /// <summary>Marks the target version, then writes the rollback tag on the bad (rolled-back-from) commit.</summary>
    public RollbackResult ApplyRollback(RollbackPlan plan, GitRefListing refs, CancellationToken cancellation = default)
    {
        if (plan.NothingToDo)
            throw new PaastaException("NothingToRollBack", PaastaErrorKind.InvalidOperation,
                $"{plan.Target} is already the current version of '{plan.DeployGroup}'; nothing was rolled back.")
            { Target = plan.DeployGroup };
        var deploy = Writer.Write(plan.Location, ts => PaastaTags.DeployRefName(plan.DeployGroup, plan.Target.ImageVersion, ts),
            plan.Target.Sha, force: true, refs, null, cancellation, after: plan.Current.Timestamp);
        var bad = plan.Current;
        var rollback = Writer.Write(plan.Location, ts => PaastaTags.RollbackRefName(plan.DeployGroup, bad.ImageVersion, ts),
            bad.Sha, force: true, refs, bad.RefName, cancellation);
        return new RollbackResult
        {
            Service = plan.Service,
            DeployGroup = plan.DeployGroup,
            From = bad.Version,
            To = plan.Target,
            DeployTag = deploy.TagName,
            RollbackTag = rollback.TagName,
            Repository = plan.Location.Url,
        };
    }

    // ---------------------------------------------------------------- what is deployed

    /// <summary>Per instance, from a deployments.json (docs/BEHAVIOUR.md §3.4: v2 only).</summary>
    public static IEnumerable<DeploymentInfo> DescribeFromFile(string service, IEnumerable<InstanceConfig> instances, DeploymentsDocument document)
    {
        foreach (var i in instances)
        {
            DeploymentEntry? deployment = null;
            if (i.DeployGroup is not null) document.Deployments.TryGetValue(i.DeployGroup, out deployment);
            // PaaSTA's loaders need both the group's deployment and the instance's control entry (docs/BEHAVIOUR.md §3.4).
            var hasControl = document.Controls.TryGetValue($"{service}:{i.Branch}", out var control);
            var deployed = deployment is not null && hasControl;
            yield return new DeploymentInfo
            {
                Service = service,
                Cluster = i.Cluster,
                Instance = i.Instance,
                InstanceType = i.InstanceType,
                ControlBranch = i.Branch,
                DeployGroup = i.DeployGroup,
                GitSha = deployment?.GitSha,
                ImageVersion = deployment?.ImageVersion,
                DockerImage = deployment?.DockerImage,
                Deployed = deployed,
                DesiredState = deployed ? control?.DesiredState ?? DeploymentsGenerator.DefaultState : null,
                ForceBounce = deployed ? control?.ForceBounce : null,
                Source = DeploymentsFileStore.FileName,
            };
        }
    }

    /// <summary>Per instance, straight from the repository's refs: what the next deployments.json will say.</summary>
    public static IEnumerable<DeploymentInfo> DescribeLive(string service, IEnumerable<InstanceConfig> instances, PaastaTagIndex tags)
    {
        foreach (var i in instances)
        {
            var deploy = i.DeployGroup is null ? null : tags.LatestDeploy(i.DeployGroup);
            var control = deploy is null ? null : tags.Control(i.Branch, deploy.Sha);
            yield return new DeploymentInfo
            {
                Service = service,
                Cluster = i.Cluster,
                Instance = i.Instance,
                InstanceType = i.InstanceType,
                ControlBranch = i.Branch,
                DeployGroup = i.DeployGroup,
                Deployed = deploy is not null,
                GitSha = deploy?.Sha,
                ImageVersion = deploy?.ImageVersion,
                DockerImage = deploy is null ? null : DeploymentsGenerator.DockerImage(service, deploy.Sha, deploy.ImageVersion),
                DesiredState = deploy is null ? null : control?.State ?? DeploymentsGenerator.DefaultState,
                ForceBounce = control?.ForceBounce,
                DeployTag = deploy?.TagName,
                DeployedAt = deploy?.Time,
                ControlTag = control?.TagName,
                Source = "git",
            };
        }
    }

    /// <summary>Per deploy group, from a deployments.json.</summary>
    public static IEnumerable<DeployGroupDeployment> GroupsFromFile(string service, DeploymentsDocument document) =>
        document.Deployments.Where(d => d.Value.GitSha is not null).Select(d => new DeployGroupDeployment
        {
            Service = service,
            DeployGroup = d.Key,
            GitSha = d.Value.GitSha!,
            ImageVersion = d.Value.ImageVersion,
            DockerImage = d.Value.DockerImage,
            Source = DeploymentsFileStore.FileName,
        });

    /// <summary>Per deploy group (the ones given that have a deploy tag), from the refs.</summary>
    public static IEnumerable<DeployGroupDeployment> GroupsLive(string service, IEnumerable<string> deployGroups, PaastaTagIndex tags)
    {
        foreach (var group in deployGroups.Distinct(StringComparer.Ordinal))
        {
            if (tags.LatestDeploy(group) is not { } deploy) continue;
            yield return new DeployGroupDeployment
            {
                Service = service,
                DeployGroup = group,
                GitSha = deploy.Sha,
                ImageVersion = deploy.ImageVersion,
                DockerImage = DeploymentsGenerator.DockerImage(service, deploy.Sha, deploy.ImageVersion),
                DeployTag = deploy.TagName,
                DeployedAt = deploy.Time,
                Source = "git",
            };
        }
    }
}
