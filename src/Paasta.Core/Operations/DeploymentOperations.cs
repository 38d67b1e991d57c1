using Paasta.Config;
using Paasta.Deployments;
using Paasta.Errors;
using Paasta.Git;

namespace Paasta.Operations;

/// <summary>New-PaastaDeployments: the services to generate deployments.json for.</summary>
public sealed record GenerateDeploymentsRequest(IReadOnlyList<string> Services)
{
    /// <summary>-Repository: used instead of every service's git_url.</summary>
    public string? Repository { get; init; }
    /// <summary>Write even when deploy groups that instances use would lose their deployment.</summary>
    public bool Force { get; init; }
}

/// <summary>Get-PaastaDeployment: which instances (or deploy groups) to describe, and from where.</summary>
public sealed record DeploymentQuery
{
    public IReadOnlyList<string>? Services { get; init; }
    public IReadOnlyList<string>? Clusters { get; init; }
    public IReadOnlyList<string>? Instances { get; init; }
    public IReadOnlyList<string>? DeployGroups { get; init; }
    /// <summary>Read the repository's tags instead of deployments.json.</summary>
    public bool Live { get; init; }
    public string? Repository { get; init; }
}

/// <summary>One version to mark for one deploy group (one pipeline record of Publish-PaastaDeployment).</summary>
public sealed record PublishTarget(string Service, string DeployGroup, string Commit, string? ImageVersion = null);

/// <summary>Publish-PaastaDeployment: every record of the call, acted on once per (service, deploy group).</summary>
public sealed record PublishRequest(IReadOnlyList<PublishTarget> Targets)
{
    public string? Repository { get; init; }
}

/// <summary>The deploy groups of a service to roll back; null groups: every deploy group that has a deploy tag.</summary>
public sealed record RollbackTarget(string Service, IReadOnlyList<string>? DeployGroups);

/// <summary>Undo-PaastaDeployment: every record of the call, acted on once per (service, deploy group).</summary>
public sealed record RollbackRequest(IReadOnlyList<RollbackTarget> Targets)
{
    /// <summary>The version to go back to (a sha or prefix); null: each group's previous version.</summary>
    public string? Commit { get; init; }
    public string? ImageVersion { get; init; }
    /// <summary>Accept a -Commit that the group never ran.</summary>
    public bool Force { get; init; }
    public string? Repository { get; init; }
}

/// <summary>
/// The tag → deployments.json route (docs/ARCHITECTURE.md): generating deployments.json, reading what is deployed,
/// marking versions for deployment and rolling them back. One instance serves one cmdlet call, so every repository's
/// refs are listed once however many records the pipeline brings. Actions take every record of the call at once and
/// act once per (service, deploy group): piping six instances of one group into Undo-PaastaDeployment rolls it back once.
/// </summary>
public sealed class DeploymentOperations
{
    public const string GenerateActivity = "New-PaastaDeployments";
    public const string GetActivity = "Get-PaastaDeployment";
    public const string PublishActivity = "Publish-PaastaDeployment";
    public const string UndoActivity = "Undo-PaastaDeployment";

    public DeploymentOperations(GitSession? git = null) => Git = git ?? new GitSession();

    public GitSession Git { get; }

    // ---------------------------------------------------------------- New-PaastaDeployments

    /// <summary>
    /// generate_deployments_for_service for each service selected (each once): lists the repository's refs while the
    /// instances load, computes deployments.json (docs/BEHAVIOUR.md §3.2) and writes it atomically when it changed and
    /// the caller confirms. A new file that would drop the deployment of a deploy group instances still use is refused
    /// (DeployGroupsWouldBeDropped) unless <see cref="GenerateDeploymentsRequest.Force"/>; the question asked names the loss.
    /// Failures are per service (to the sink); the result has one entry per service generated.
    /// </summary>
    public IReadOnlyList<DeploymentsFile> Generate(OperationContext context, GenerateDeploymentsRequest request)
    {
        var names = InstanceQuery.ServiceNames(context, request.Services);
        var results = new List<DeploymentsFile>();
        for (var index = 0; index < names.Count; index++)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            var percent = names.Count > 1 ? 100 * index / names.Count : -1;
            try { results.Add(GenerateOne(context, names[index], request, percent)); }
            catch (PaastaException e) { context.Sink.Error(e); }
        }
        return results;
    }

    private DeploymentsFile GenerateOne(OperationContext context, string name, GenerateDeploymentsRequest request, int percent)
    {
        var sink = context.Sink;
        sink.Verbose($"Generating deployments for {name}");
        var svc = context.Reader.LoadService(name);
        var location = GitSession.Location(context, svc, request.Repository);
        var (branches, refs, tags, document) = Git.Step(context, GenerateActivity, $"{name}: listing the repository's refs and loading the instances", percent, _ =>
        {
            var listing = location is null ? null : Git.RefsAsync(context, location);
            IReadOnlyList<ControlBranch> controlBranches;
            try { controlBranches = DeploymentsGenerator.ControlBranches(DeploymentService.LoadAllInstances(context.Reader, svc)); }
            catch
            {
                listing?.ContinueWith(t => t.Exception, TaskScheduler.Default); // the instance error is the one reported
                throw;
            }
            var listed = listing?.GetAwaiter().GetResult();
            var tags = listed is null ? null : DeploymentsGenerator.Index(controlBranches, listed.Refs);
            return (controlBranches, listed, tags, DeploymentsGenerator.Generate(svc.Name, controlBranches, tags));
        });
        if (sink.VerboseWanted)
        {
            if (refs is null) sink.Verbose($"{svc.Name} has no repository (git_url: null): its deployments are empty.");
            else foreach (var line in DeploymentsGenerator.Explain(branches, refs.Refs, tags!)) sink.Verbose(line);
        }

        var path = DeploymentsFileStore.PathFor(svc.Directory);
        var existing = DeploymentsFileStore.ReadExisting(path);
        var json = document.ToJson();
        var changed = DeploymentsFileStore.Differs(existing, json);
        var dropped = changed ? DeploymentsGenerator.DroppedDeployGroups(existing.Document, document, branches) : Array.Empty<string>();
        foreach (var gone in existing.Document?.Deployments.Keys.Where(g => !document.Deployments.ContainsKey(g) && !dropped.Contains(g)) ?? Enumerable.Empty<string>())
            sink.Verbose($"Deploy group '{gone}' leaves deployments.json: no instance uses it any more.");
        DeploymentsFile Result(bool written) => new()
        {
            Service = svc.Name,
            Path = path,
            Repository = location?.Url,
            Changed = changed,
            Written = written,
            DroppedDeployGroups = dropped,
            Document = document,
        };

        if (!changed)
        {
            sink.Verbose($"{path} is up to date");
            return Result(false);
        }
        var loss = dropped.Count == 0 ? ""
            : $"; drops the deployment of deploy group{(dropped.Count == 1 ? "" : "s")} {string.Join(", ", dropped)}{(request.Force ? "" : ", which needs -Force")}";
        if (!sink.ShouldProcess(path, $"Write deployments.json ({document.Deployments.Count} deploy groups, {document.Controls.Count} instances{loss})"))
            return Result(false);
        if (dropped.Count > 0 && !request.Force)
        {
            var why = location is null ? "service.yaml says git_url: null" : $"{location.Url} has no deploy tag for them";
            throw new PaastaException("DeployGroupsWouldBeDropped", PaastaErrorKind.InvalidOperation,
                $"{path} has deployments for {string.Join(", ", dropped.Select(g => $"'{g}'"))}, which instances of {svc.Name} use, and the new file would drop them " +
                $"({why}): those instances could no longer be deployed. Nothing was written. Check git_url (or -Repository); pass -Force to write the file anyway.")
            { Target = svc.Name, File = path };
        }
        if (dropped.Count > 0) sink.Warning($"{path}: dropping the deployment of {string.Join(", ", dropped)} (-Force).");
        DeploymentsFileStore.Write(path, json);
        return Result(true);
    }

    // ---------------------------------------------------------------- Get-PaastaDeployment

    /// <summary>
    /// What each selected instance runs, from deployments.json (or, <see cref="DeploymentQuery.Live"/>, from the refs:
    /// what the next generation will write). Selection and its not-found errors are <see cref="InstanceQuery"/>'s.
    /// </summary>
    public IReadOnlyList<DeploymentInfo> DescribeInstances(OperationContext context, DeploymentQuery query)
    {
        var instances = InstanceQuery.Instances(context, new InstanceSelection
        {
            Services = query.Services,
            Clusters = query.Clusters,
            Instances = query.Instances,
            DeployGroups = query.DeployGroups,
        });
        var infos = new List<DeploymentInfo>();
        foreach (var group in instances.GroupBy(i => i.Service, StringComparer.Ordinal))
        {
            try
            {
                var svc = context.Reader.LoadService(group.Key);
                infos.AddRange(query.Live
                    ? DeploymentService.DescribeLive(svc.Name, group, LiveTags(context, svc, query.Repository))
                    : DeploymentService.DescribeFromFile(svc.Name, group, DeploymentsFileStore.Load(DeploymentsFileStore.PathFor(svc.Directory), svc.Name)));
            }
            catch (PaastaException e) { context.Sink.Error(e); }
        }
        return infos;
    }

    /// <summary>What each deploy group of the selected services runs, from deployments.json or (live) from the refs.</summary>
    public IReadOnlyList<DeployGroupDeployment> DescribeDeployGroups(OperationContext context, DeploymentQuery query)
    {
        var services = InstanceQuery.Services(context, query.Services);
        if (services.Count == 0) return Array.Empty<DeployGroupDeployment>();
        // The instance query reports literal deploy groups that no instance uses, and gives the groups in use.
        var instances = InstanceQuery.Instances(context, new InstanceSelection { Services = services.Select(s => s.Name).ToList(), DeployGroups = query.DeployGroups });
        var groupMatch = NamePattern.Any(NamePattern.ParseAll(query.DeployGroups));
        var result = new List<DeployGroupDeployment>();
        foreach (var svc in services)
        {
            try
            {
                IEnumerable<DeployGroupDeployment> groups;
                if (query.Live)
                {
                    var inUse = instances.Where(i => i.Service == svc.Name).Select(i => i.DeployGroup).OfType<string>();
                    groups = DeploymentService.GroupsLive(svc.Name, svc.DeployGroups.Concat(inUse), LiveTags(context, svc, query.Repository));
                }
                else groups = DeploymentService.GroupsFromFile(svc.Name, DeploymentsFileStore.Load(DeploymentsFileStore.PathFor(svc.Directory), svc.Name));
                result.AddRange(groups.Where(g => groupMatch is null || groupMatch(g.DeployGroup)));
            }
            catch (PaastaException e) { context.Sink.Error(e); }
        }
        return result;
    }

    private PaastaTagIndex LiveTags(OperationContext context, ServiceConfig svc, string? repository) =>
        GitSession.Location(context, svc, repository) is { } location ? Git.Refs(context, location, GetActivity).Tags : PaastaTagIndex.Empty;

    // ---------------------------------------------------------------- Publish-PaastaDeployment

    /// <summary>
    /// paasta mark-for-deployment (docs/BEHAVIOUR.md §2.6, §9.4) for every target, once per (service, deploy group):
    /// records asking for the same version of one group are marked once; records asking for different versions of
    /// one group are refused (ConflictingDeployVersions), since which one would win depends on the order of the
    /// pipeline. Warns as PaaSTA does (group used by no instance, version already current, version rolled back from
    /// before), asks the sink before each tag, and returns the tags written.
    /// </summary>
    public IReadOnlyList<DeployTagResult> Publish(OperationContext context, PublishRequest request)
    {
        var sink = context.Sink;
        var planned = new List<(string Key, ServiceConfig Service, PublishTarget Target, GitRepositoryLocation Location, RepositoryRefs Refs, DeploymentVersion Version)>();
        foreach (var target in request.Targets)
        {
            try
            {
                TagNames.RequireDeployGroup(target.DeployGroup);
                TagNames.RequireImageVersion(target.ImageVersion);
                var svc = PublishedService(context, target.Service);
                var location = GitSession.RequireLocation(context, svc, request.Repository);
                var refs = Git.Refs(context, location, PublishActivity);
                var sha = CommitResolver.Resolve(refs.Refs, target.Commit);
                planned.Add(($"{svc.Name}\0{target.DeployGroup}", svc, target, location, refs, new DeploymentVersion(sha, target.ImageVersion)));
            }
            catch (PaastaException e) { sink.Error(e); }
        }

        var results = new List<DeployTagResult>();
        var groups = planned.GroupBy(p => p.Key, StringComparer.Ordinal).ToList();
        for (var index = 0; index < groups.Count; index++)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            var asks = groups[index].ToList();
            var (_, svc, target, location, refs, version) = asks[0];
            var group = target.DeployGroup;
            try
            {
                var versions = asks.Select(a => a.Version).Distinct().ToList();
                if (versions.Count > 1)
                    throw new PaastaException("ConflictingDeployVersions", PaastaErrorKind.InvalidArgument,
                        $"The pipeline asked to mark {string.Join(" and ", versions)} for {svc.Name}'s deploy group '{group}'; only one version can be current, " +
                        "so none was marked. Filter the input down to one version per deploy group.")
                    { Target = group };
                if (asks.Count > 1) sink.Verbose($"{svc.Name} deploy group {group}: asked {asks.Count} times for {version}; marking it once.");

                var inUse = GroupsInUse(context.Reader, svc);
                if (!inUse.Contains(group))
                    sink.Warning($"No instance of {svc.Name} uses deploy group '{group}' (a typo?). Groups in use: {(inUse.Count == 0 ? "none" : string.Join(", ", inUse.Order(StringComparer.Ordinal)))}.");
                if (refs.Tags.LatestDeploy(group) is { } current && current.Version == version)
                    sink.Warning($"{version} is already the current version of '{group}' (tag {current.TagName}); marking it again.");
                var rollbacks = PaastaTags.RollbackTags(refs.Refs, group, version.Sha);
                if (rollbacks.Count > 0)
                    sink.Warning($"{version.ShortSha} was rolled back from in '{group}' before ({string.Join(", ", rollbacks.Take(3).Select(r => r.TagName))}). Make sure the problem was fixed.");

                if (!sink.ShouldProcess($"{svc.Name} deploy group {group} ({location.Url})",
                        $"Mark {version} for deployment (tag paasta-{group}{(version.ImageVersion is null ? "" : "+" + version.ImageVersion)}-<UTC now>-deploy)"))
                    continue;
                var percent = groups.Count > 1 ? 100 * index / groups.Count : -1;
                var result = Git.Step(context, PublishActivity, $"{svc.Name}: marking {version} for deployment to {group}", percent, writer =>
                    new DeploymentService(Git.Client) { Writer = writer }
                        .MarkForDeployment(svc.Name, location, refs.Refs, group, version.Sha, version.ImageVersion, context.Cancellation));
                sink.Verbose($"Wrote {result.Tag} at {result.Sha}");
                results.Add(result);
            }
            catch (PaastaException e) { sink.Error(e); }
        }
        return results;
    }

    /// <summary>Like paasta mark-for-deployment: a trailing '/' and a leading "services-" (the image name) are dropped.</summary>
    private static ServiceConfig PublishedService(OperationContext context, string name)
    {
        var trimmed = name.TrimEnd('/');
        if (trimmed.StartsWith("services-", StringComparison.Ordinal) && !Directory.Exists(Path.Combine(context.Reader.SoaDir, trimmed)))
            trimmed = trimmed["services-".Length..];
        return InstanceQuery.Service(context, trimmed);
    }

    // ---------------------------------------------------------------- Undo-PaastaDeployment

    /// <summary>
    /// paasta rollback (docs/BEHAVIOUR.md §9.5) once per (service, deploy group) of the targets: marks the earlier
    /// version and writes the rollback tag on the commit rolled back from. Each group is planned from the refs and
    /// confirmed through the sink before anything is written; a group already at the target is NothingToRollBack.
    /// </summary>
    public IReadOnlyList<RollbackResult> Undo(OperationContext context, RollbackRequest request)
    {
        var sink = context.Sink;
        if (request.ImageVersion is not null && request.Commit is null)
        {
            sink.Error(new PaastaException("ImageVersionNeedsCommit", PaastaErrorKind.InvalidArgument,
                "-ImageVersion names the image of a -Commit; give -Commit too."));
            return Array.Empty<RollbackResult>();
        }
        try { TagNames.RequireImageVersion(request.ImageVersion); }
        catch (PaastaException e)
        {
            sink.Error(e);
            return Array.Empty<RollbackResult>();
        }

        var work = new List<(ServiceConfig Service, GitRepositoryLocation Location, RepositoryRefs Refs, string Group)>();
        foreach (var byService in request.Targets.GroupBy(t => t.Service.TrimEnd('/'), StringComparer.Ordinal))
        {
            try
            {
                var svc = InstanceQuery.Service(context, byService.Key);
                var location = GitSession.RequireLocation(context, svc, request.Repository);
                var refs = Git.Refs(context, location, UndoActivity);
                var inUse = GroupsInUse(context.Reader, svc);
                var groups = new List<string>();
                if (byService.Any(t => t.DeployGroups is null))
                {
                    foreach (var g in svc.DeployGroups.Concat(inUse.Order(StringComparer.Ordinal)))
                    {
                        if (refs.Tags.LatestDeploy(g) is null) sink.Verbose($"Skipping '{g}': never deployed");
                        else groups.Add(g);
                    }
                }
                foreach (var g in byService.SelectMany(t => t.DeployGroups ?? Array.Empty<string>()))
                {
                    if (groups.Contains(g, StringComparer.Ordinal)) continue;
                    if (!inUse.Contains(g) && !svc.DeployGroups.Contains(g))
                        sink.Warning($"'{g}' is not a deploy group of {svc.Name}'s instances or pipeline.");
                    groups.Add(g);
                }
                var asked = byService.Sum(t => t.DeployGroups?.Count ?? 0);
                if (asked > groups.Count) sink.Verbose($"{svc.Name}: {asked} deploy groups asked for, {groups.Count} distinct; each is rolled back once.");
                work.AddRange(groups.Distinct(StringComparer.Ordinal).Select(g => (svc, location, refs, g)));
            }
            catch (PaastaException e) { sink.Error(e); }
        }

        var results = new List<RollbackResult>();
        for (var index = 0; index < work.Count; index++)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            var (svc, location, refs, group) = work[index];
            try
            {
                var plan = DeploymentService.PlanRollback(svc.Name, location, refs.Refs, group, request.Commit, request.ImageVersion, request.Force);
                if (plan.NothingToDo)
                    throw new PaastaException("NothingToRollBack", PaastaErrorKind.InvalidOperation,
                        $"{plan.Target} is already the current version of '{group}'; nothing was rolled back.") { Target = group };
                if (!sink.ShouldProcess($"{svc.Name} deploy group {group} ({location.Url})",
                        $"Roll back from {plan.Current.Version} to {plan.Target}: deploy tag on {Short(plan.Target.Sha)}, rollback tag on {Short(plan.Current.Sha)}"))
                    continue;
                var percent = work.Count > 1 ? 100 * index / work.Count : -1;
                var result = Git.Step(context, UndoActivity, $"{svc.Name}: rolling {group} back to {plan.Target}", percent, writer =>
                    new DeploymentService(Git.Client) { Writer = writer }.ApplyRollback(plan, refs.Refs, context.Cancellation));
                sink.Verbose($"Wrote {result.DeployTag} and {result.RollbackTag}. Revert the bad commits in git too.");
                results.Add(result);
            }
            catch (PaastaException e) { sink.Error(e); }
        }
        return results;
    }

    // ---------------------------------------------------------------- shared

    /// <summary>The deploy groups a service's instances use (files that do not load are skipped: this only feeds warnings).</summary>
    internal static HashSet<string> GroupsInUse(SoaConfigReader reader, ServiceConfig service) =>
        reader.LoadInstances(service).Where(r => r.Value?.DeployGroup is not null).Select(r => r.Value!.DeployGroup!).ToHashSet(StringComparer.Ordinal);

    private static string Short(string sha) => sha.Length > 8 ? sha[..8] : sha;
}
