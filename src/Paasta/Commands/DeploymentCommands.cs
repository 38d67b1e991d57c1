using System.Management.Automation;
using Paasta.Config;
using Paasta.Deployments;
using Paasta.Git;
using Paasta.Errors;

namespace Paasta.Commands;

/// <summary>
/// Shared by the cmdlets that read or write a service's git repository: -Repository, -Credential, one ref
/// listing per repository per call, and the translation of engine failures into ErrorRecords.
/// </summary>
public abstract class PaastaGitCmdlet : SoaConfigCmdlet
{
    /// <summary>The service's git repository (URL, or path / file:// URL of a repository on this machine). Overrides service.yaml's git_url, including git_url: null.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [Alias("GitUrl")]
    public string? Repository { get; set; }

    /// <summary>User name and password (or token) for an https repository. ssh repositories use your ssh agent and ~/.ssh/config instead; without -Credential, PAASTA_GIT_USERNAME/PAASTA_GIT_PASSWORD and your git credential helpers are tried.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    private DeploymentService? _service;
    private readonly Dictionary<string, (GitRefListing Refs, PaastaTagIndex Tags)> _listings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ServiceConfig> _services = new(StringComparer.Ordinal);

    /// <summary>The engine, with this call's credential; its tag writer reports each attempt as progress.</summary>
    protected DeploymentService Deployments
    {
        get
        {
            if (_service is not null) return _service;
            var client = new GitRemoteClient(new GitClientOptions
            {
                Credential = Credential is null ? null : new GitCredential(Credential.UserName, Credential.GetNetworkCredential().Password),
            });
            return _service = new DeploymentService(client) { Writer = new TagWriter(client) { Report = ReportGitStep } };
        }
    }

    // One activity id for every git step of a call: a step's record is completed before the next one starts.
    private const int GitProgressId = 0x6A17;
    private (string Status, int Percent, int Thread)? _step;

    /// <summary>Runs a git step that can take seconds (a large ls-remote, a push, retries) under a progress record, completed in every case.</summary>
    protected T GitStep<T>(string status, Func<T> step, int percentComplete = -1)
    {
        _step = (status, percentComplete, Environment.CurrentManagedThreadId);
        WriteGitProgress(ProgressRecordType.Processing, null);
        try { return step(); }
        finally
        {
            WriteGitProgress(ProgressRecordType.Completed, null);
            _step = null;
        }
    }

    private void ReportGitStep(string message)
    {
        // WriteProgress is only legal on the pipeline thread; a report from anywhere else is dropped, not thrown.
        if (_step is not { } step || Environment.CurrentManagedThreadId != step.Thread) return;
        WriteGitProgress(ProgressRecordType.Processing, message);
    }

    // A new record each time: in-process hosts keep the records they are given, so mutating one would rewrite history.
    private void WriteGitProgress(ProgressRecordType type, string? currentOperation)
    {
        if (_step is not { } step) return;
        WriteProgress(new ProgressRecord(GitProgressId, MyInvocation.MyCommand.Name, step.Status)
        {
            PercentComplete = type == ProgressRecordType.Completed ? 100 : step.Percent,
            CurrentOperation = currentOperation,
            RecordType = type,
        });
    }

    /// <summary>Whether verbose output is wanted (-Verbose, else $VerbosePreference), so costly explanations are only built then.</summary>
    protected bool VerboseWanted =>
        MyInvocation.BoundParameters.TryGetValue("Verbose", out var given) ? LanguagePrimitives.IsTrue(given)
        : LanguagePrimitives.TryConvertTo<ActionPreference>(GetVariableValue("VerbosePreference"), out var preference)
          && preference is not (ActionPreference.SilentlyContinue or ActionPreference.Ignore);

    /// <summary>-Repository as the engine needs it: paths resolved against the current PowerShell location.</summary>
    protected string? RepositoryArgument =>
        Repository is null ? null
        : GitRepositoryLocation.IsPath(Repository) ? GetUnresolvedProviderPathFromPSPath(Repository)
        : Repository;

    /// <summary>Relative local paths in service.yaml git_url resolve against the current PowerShell location.</summary>
    protected string CurrentDirectory => SessionState.Path.CurrentFileSystemLocation.ProviderPath;

    protected ServiceConfig LoadService(SoaConfigReader reader, string name)
    {
        var key = reader.SoaDir + "\0" + name;
        if (!_services.TryGetValue(key, out var svc)) _services[key] = svc = reader.LoadService(name);
        return svc;
    }

    /// <summary>The repository of a service; null for git_url: null (without -Repository).</summary>
    protected GitRepositoryLocation? LocationOf(ServiceConfig service) =>
        GitRepositoryLocation.ForService(service, RepositoryArgument, CurrentDirectory);

    protected GitRepositoryLocation RequireLocationOf(ServiceConfig service) =>
        GitRepositoryLocation.RequireForService(service, RepositoryArgument, CurrentDirectory);

    /// <summary>The refs of a repository, listed once per call (an ls-remote, not a clone).</summary>
    protected (GitRefListing Refs, PaastaTagIndex Tags) Listing(GitRepositoryLocation location)
    {
        if (_listings.TryGetValue(location.TransportUrl, out var cached)) return cached;
        WriteVerbose($"Listing the refs of {location.Url}");
        var refs = GitStep($"Listing the refs of {location.Url}", () => Deployments.Client.ListRefs(location, CancellationToken));
        WriteVerbose($"{refs.Count} refs in {location.Url}");
        var entry = (refs, PaastaTagIndex.Build(refs));
        _listings[location.TransportUrl] = entry;
        return entry;
    }

    /// <summary>Runs one unit of work; engine refusals become non-terminating errors, Ctrl+C stops the pipeline.</summary>
    protected void Try(Action work)
    {
        try { work(); }
        catch (PaastaException e) { WriteError(e); }
        catch (OperationCanceledException) { throw new PipelineStoppedException(); }
    }

    protected static string Short(string sha) => sha.Length > 8 ? sha[..8] : sha;

    /// <summary>The deploy groups a service's instances use (files that do not load are skipped here).</summary>
    protected static HashSet<string> GroupsInUse(SoaConfigReader reader, ServiceConfig service) =>
        reader.LoadInstances(service).Where(r => r.Value?.DeployGroup is not null).Select(r => r.Value!.DeployGroup!).ToHashSet(StringComparer.Ordinal);
}

/// <summary>
/// <para type="synopsis">Generates deployments.json for services from their git deploy, start and stop tags.</para>
/// <para type="description">The port of generate_deployments_for_service. Lists the refs of each service's repository (service.yaml git_url, or -Repository) without cloning it, loads every instance of every cluster, and computes deployments.json: for each deploy group the newest paasta-GROUP[+IMAGE_VERSION]-TIMESTAMP-deploy tag, and for each instance (cluster.instance; cluster.job.action for Tron) the newest start or stop tag that points at that deploy tag's commit (start/stop tags on any other commit are ignored, so a stop lasts until the next deploy of a different commit). The file keeps both the v1 and v2 sections and is byte-for-byte what PaaSTA writes (Python json.dump defaults, one line, non-ASCII escaped). It is written atomically (temporary file and rename) and only when its content changes; an unreadable or invalid old file counts as empty. A service with git_url: null gets empty deployments. Emits one Paasta.Deployments.DeploymentsFile per service, written or not (a New- cmdlet returns what it made, so there is no -PassThru); its Changed and Written properties say what happened. Listing a large repository's refs shows progress; -Verbose says, for each deploy group, which deploy tag won and why (the newest timestamp; on a tie, the name that sorts first) and, for each instance, which start/stop tag applies and how many on other commits were ignored.</para>
/// </summary>
/// <example>
///   <code>New-PaastaDeployments -Service hello -SoaDir ./soa-configs</code>
///   <para>Regenerates soa-configs/hello/deployments.json from the tags in hello's repository.</para>
/// </example>
/// <example>
///   <code>New-PaastaDeployments -Service * | Where-Object Written</code>
///   <para>Regenerates every service's deployments.json, as the soa-configs primary does, and shows the ones that changed.</para>
/// </example>
/// <example>
///   <code>New-PaastaDeployments -Service hello -Repository ../hello.git -WhatIf</code>
///   <para>Computes hello's deployments from a local bare repository and reports whether the file would change, without writing it.</para>
/// </example>
/// <example>
///   <code>New-PaastaDeployments -Service hello -WhatIf -Verbose</code>
///   <para>Explains the file it would write: which tag each deploy group's commit comes from, and each instance's desired state and force_bounce.</para>
/// </example>
[Cmdlet(VerbsCommon.New, "PaastaDeployments", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[Alias("New-PaastaDeployment")]
[OutputType(typeof(DeploymentsFile))]
public sealed class NewPaastaDeployments : PaastaGitCmdlet
{
    /// <summary>Services to generate for; wildcards allowed (* for all).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    public string[] Service { get; set; } = Array.Empty<string>();

    protected override void Process()
    {
        SoaConfigReader reader;
        List<string> services;
        try
        {
            reader = Reader(ResolveSoaDir(SoaDir));
            services = SelectServices(reader, Service.Select(s => s.TrimEnd('/')).ToArray()).ToList();
        }
        catch (PaastaException e) { WriteError(e); return; }

        Action<string>? explain = VerboseWanted ? WriteVerbose : null;
        for (var index = 0; index < services.Count; index++)
        {
            var name = services[index];
            var percent = services.Count > 1 ? 100 * index / services.Count : -1;
            Try(() =>
            {
                WriteVerbose($"Generating deployments for {name}");
                var computed = GitStep($"{name}: listing the repository's refs and loading the instances",
                    () => Deployments.GenerateDeployments(reader, name, RepositoryArgument, write: false, CurrentDirectory, CancellationToken, explain), percent);
                var written = false;
                if (computed.Changed && ShouldProcess(computed.Path, $"Write deployments.json ({computed.Deployments.Count} deploy groups, {computed.Controls.Count} instances)"))
                {
                    DeploymentsFileStore.Write(computed.Path, computed.Json);
                    written = true;
                }
                else if (!computed.Changed)
                {
                    WriteVerbose($"{computed.Path} is up to date");
                }
                WriteObject(new DeploymentsFile
                {
                    Service = computed.Service,
                    Path = computed.Path,
                    Repository = computed.Repository,
                    Changed = computed.Changed,
                    Written = written,
                    Document = computed.Document,
                });
            });
        }
    }
}

/// <summary>
/// <para type="synopsis">Shows what is deployed where: the version and desired state of each instance, or of each deploy group.</para>
/// <para type="description">By default reads the service's deployments.json (the v2 section, as every PaaSTA loader does) and returns one Paasta.Deployments.DeploymentInfo per instance: its deploy group, commit, image version, docker image, desired state (start or stop) and force_bounce token; instances whose deploy group was never marked come back with Deployed = $false. With -Live it reads the repository's refs instead (an ls-remote, no clone) and also shows the deploy tag, when it was written and the start/stop tag in force: what the next New-PaastaDeployments will write. With -ByDeployGroup it returns one Paasta.Deployments.DeployGroupDeployment per deploy group instead.</para>
/// </summary>
/// <example>
///   <code>Get-PaastaDeployment -Service hello</code>
///   <para>Lists every instance of hello with the commit it runs and whether it is started or stopped, from deployments.json.</para>
/// </example>
/// <example>
///   <code>Get-PaastaDeployment -Service hello -Live -ByDeployGroup</code>
///   <para>Shows the current deploy tag of each of hello's deploy groups, read live from its repository.</para>
/// </example>
/// <example>
///   <code>Get-PaastaDeployment -Service hello -ByDeployGroup | Where-Object DeployGroup -eq stage | Publish-PaastaDeployment -DeployGroup prod</code>
///   <para>Promotes the version running in stage to prod.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "PaastaDeployment", DefaultParameterSetName = ByInstanceSet)]
[OutputType(typeof(DeploymentInfo), ParameterSetName = new[] { ByInstanceSet })]
[OutputType(typeof(DeployGroupDeployment), ParameterSetName = new[] { ByDeployGroupSet })]
public sealed class GetPaastaDeployment : PaastaGitCmdlet
{
    private const string ByInstanceSet = "ByInstance";
    private const string ByDeployGroupSet = "ByDeployGroup";

    /// <summary>Services; wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    public string[] Service { get; set; } = Array.Empty<string>();

    /// <summary>Only instances on these clusters; wildcards allowed.</summary>
    [Parameter(ParameterSetName = ByInstanceSet, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ClusterCompleter))]
    public string[]? Cluster { get; set; }

    /// <summary>Only these instances (job.action for Tron); wildcards allowed.</summary>
    [Parameter(ParameterSetName = ByInstanceSet, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(InstanceCompleter))]
    public string[]? Instance { get; set; }

    /// <summary>Only these deploy groups; wildcards allowed. Binds by property name, so Get-PaastaInstance or -ByDeployGroup output narrows to its group.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(DeployGroupCompleter))]
    public string[]? DeployGroup { get; set; }

    /// <summary>Read the repository's tags now instead of deployments.json.</summary>
    [Parameter]
    public SwitchParameter Live { get; set; }

    /// <summary>Return one object per deploy group instead of one per instance.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ByDeployGroupSet)]
    public SwitchParameter ByDeployGroup { get; set; }

    protected override void Process()
    {
        SoaConfigReader reader;
        List<string> services;
        try
        {
            reader = Reader(ResolveSoaDir(SoaDir));
            services = SelectServices(reader, Service).ToList();
        }
        catch (PaastaException e) { WriteError(e); return; }
        var groupMatch = Matcher(DeployGroup);

        foreach (var name in services)
        {
            Try(() =>
            {
                var svc = LoadService(reader, name);
                PaastaTagIndex? tags = null;
                DeploymentsDocument? document = null;
                if (Live)
                {
                    var location = LocationOf(svc);
                    tags = location is null ? PaastaTagIndex.Empty : Listing(location).Tags;
                }
                else
                {
                    document = DeploymentsFileStore.Load(DeploymentsFileStore.PathFor(svc.Directory), svc.Name);
                }

                if (ByDeployGroup)
                {
                    IEnumerable<DeployGroupDeployment> groups;
                    if (document is not null) groups = DeploymentService.GroupsFromFile(svc.Name, document);
                    else groups = DeploymentService.GroupsLive(svc.Name, svc.DeployGroups.Concat(GroupsInUse(reader, svc).Order(StringComparer.Ordinal)), tags!);
                    foreach (var g in groups)
                        if (groupMatch is null || groupMatch(g.DeployGroup)) WriteObject(g);
                    return;
                }

                var filter = new InstanceFilter(Matcher(Cluster), Matcher(Instance));
                var instances = new List<InstanceConfig>();
                foreach (var r in reader.LoadInstances(svc, filter))
                {
                    if (r.Error is not null) WriteError(r.Error);
                    else if (groupMatch is null || (r.Value!.DeployGroup is { } g && groupMatch(g))) instances.Add(r.Value!);
                }
                var infos = document is not null
                    ? DeploymentService.DescribeFromFile(svc.Name, instances, document)
                    : DeploymentService.DescribeLive(svc.Name, instances, tags!);
                foreach (var info in infos) WriteObject(info);
            });
        }
    }
}

/// <summary>
/// <para type="synopsis">Marks a commit for deployment to a deploy group (paasta mark-for-deployment).</para>
/// <para type="description">Creates the tag paasta-GROUP[+IMAGE_VERSION]-TIMESTAMP-deploy (UTC timestamp) on the commit in the service's repository; the next New-PaastaDeployments puts it in deployments.json and the instances of that group bounce to it. -Commit is a full sha or a prefix of at least 4 hex digits, which must match exactly one commit among the repository's refs (a branch or tag tip; ambiguous or unknown prefixes are refused with CommitAmbiguous or CommitNotFound). The repository is never cloned: refs are listed remotely and the tag is pushed as a ref-only update (repositories on this machine are written in place). An existing tag is never moved: if another writer took the same name in the same second, Paasta waits for the next second and tags again. Warns when the deploy group is used by no instance, when the version is already the current one, and when the commit was rolled back from in this group before. Listing the refs and pushing the tag (with its retries) show progress. Returns nothing unless -PassThru; -Verbose names the tag written.</para>
/// </summary>
/// <example>
///   <code>Publish-PaastaDeployment -Service hello -DeployGroup prod.canary -Commit 4ef01b5a -PassThru</code>
///   <para>Deploys the commit whose sha starts with 4ef01b5a to hello's prod.canary group, and shows the deploy tag written.</para>
/// </example>
/// <example>
///   <code>Publish-PaastaDeployment -Service hello -DeployGroup prod.canary -Commit 4ef01b5a574b519ab546309e89f72972a33b6b75 -ImageVersion 1710512553 -WhatIf</code>
///   <para>Shows the tag that would deploy a rebuilt image of the same commit, without writing it.</para>
/// </example>
[Cmdlet(VerbsData.Publish, "PaastaDeployment", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(DeployTagResult))]
public sealed class PublishPaastaDeployment : PaastaGitCmdlet
{
    /// <summary>The service (Alias Name: binds the Name of Get-PaastaService output).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    public string Service { get; set; } = "";

    /// <summary>The deploy group to deploy to (a step of deploy.yaml's pipeline, e.g. prod.canary).</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(DeployGroupCompleter))]
    public string DeployGroup { get; set; } = "";

    /// <summary>The commit: a full sha, or a unique prefix of at least 4 hex digits.</summary>
    [Parameter(Mandatory = true, Position = 2, ValueFromPipelineByPropertyName = true)]
    [Alias("Sha", "GitSha")]
    [ValidatePattern("^[0-9a-fA-F]{4,40}$")]
    public string Commit { get; set; } = "";

    /// <summary>Extra version of the image built from the commit (automated redeploys rebuild one commit); carried in the tag after '+' and in the docker tag.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? ImageVersion { get; set; }

    /// <summary>Return a Paasta.Deployments.DeployTagResult for the tag written (its name, commit, timestamp and the version it replaces). Without it, nothing is returned.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void Process()
    {
        Try(() =>
        {
            var reader = Reader(ResolveSoaDir(SoaDir));
            // Like paasta mark-for-deployment: a trailing '/' and a leading "services-" (the image name) are dropped.
            var name = Service.TrimEnd('/');
            if (name.StartsWith("services-", StringComparison.Ordinal) && !Directory.Exists(Path.Combine(reader.SoaDir, name)))
                name = name["services-".Length..];
            var svc = LoadService(reader, name);
            var location = RequireLocationOf(svc);

            var inUse = GroupsInUse(reader, svc);
            if (!inUse.Contains(DeployGroup))
                WriteWarning($"No instance of {svc.Name} uses deploy group '{DeployGroup}' (a typo?). Groups in use: {(inUse.Count == 0 ? "none" : string.Join(", ", inUse.Order(StringComparer.Ordinal)))}.");

            var (refs, _) = Listing(location);
            var sha = CommitResolver.Resolve(refs, Commit);
            var version = new DeploymentVersion(sha, ImageVersion);
            if (DeploymentService.CurrentDeployment(refs, DeployGroup) is { } current && current.Version == version)
                WriteWarning($"{version} is already the current version of '{DeployGroup}' (tag {current.TagName}); marking it again.");
            var rollbacks = PaastaTags.RollbackTags(refs, DeployGroup, sha);
            if (rollbacks.Count > 0)
                WriteWarning($"{Short(sha)} was rolled back from in '{DeployGroup}' before ({string.Join(", ", rollbacks.Take(3).Select(r => r.TagName))}). Make sure the problem was fixed.");

            if (!ShouldProcess($"{svc.Name} deploy group {DeployGroup} ({location.Url})",
                    $"Mark {version} for deployment (tag paasta-{DeployGroup}{(ImageVersion is null ? "" : "+" + ImageVersion)}-<UTC now>-deploy)"))
                return;
            var result = GitStep($"{svc.Name}: marking {version} for deployment to {DeployGroup}",
                () => Deployments.MarkForDeployment(svc.Name, location, refs, DeployGroup, sha, ImageVersion, CancellationToken));
            WriteVerbose($"Wrote {result.Tag} at {result.Sha}");
            if (PassThru) WriteObject(result);
        });
    }
}

/// <summary>
/// <para type="synopsis">Rolls deploy groups back to an earlier version (paasta rollback).</para>
/// <para type="description">For each deploy group, marks an earlier version for deployment (a new paasta-GROUP[+IMAGE_VERSION]-TIMESTAMP-deploy tag) and writes the rollback marker paasta-GROUP[+IMAGE_VERSION]-TIMESTAMP-rollback on the commit rolled back from, which Publish-PaastaDeployment later warns about. Without -Commit, the target is the version the group ran before its current one; with -Commit (full sha, or a prefix matched first against the group's past versions) it must be a version the group ran before, unless -Force. A group already at the target version is reported as NothingToRollBack and left alone. ConfirmImpact is High: you are asked to confirm each group unless -Confirm:$false. Writing the tags shows progress. Returns nothing unless -PassThru.</para>
/// </summary>
/// <example>
///   <code>Undo-PaastaDeployment -Service hello -DeployGroup prod.canary</code>
///   <para>Rolls prod.canary back to the version it ran before the current one, after confirmation.</para>
/// </example>
/// <example>
///   <code>Undo-PaastaDeployment -Service hello -AllDeployGroups -Commit 4ef01b5a -Confirm:$false -PassThru</code>
///   <para>Puts every deploy group of hello back on the version whose sha starts with 4ef01b5a, without prompting, and lists each group's rollback.</para>
/// </example>
[Cmdlet(VerbsCommon.Undo, "PaastaDeployment", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = ByGroupSet)]
[OutputType(typeof(RollbackResult))]
public sealed class UndoPaastaDeployment : PaastaGitCmdlet
{
    private const string ByGroupSet = "ByDeployGroup";
    private const string AllSet = "AllDeployGroups";

    /// <summary>The service (Alias Name: binds the Name of Get-PaastaService output).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    public string Service { get; set; } = "";

    /// <summary>The deploy groups to roll back.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ByGroupSet, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(DeployGroupCompleter))]
    public string[] DeployGroup { get; set; } = Array.Empty<string>();

    /// <summary>Roll back every deploy group of the service that has a deploy tag.</summary>
    [Parameter(Mandatory = true, ParameterSetName = AllSet)]
    public SwitchParameter AllDeployGroups { get; set; }

    /// <summary>The version to go back to (full sha or unique prefix); default: each group's previous version.</summary>
    [Parameter]
    [Alias("Sha", "GitSha")]
    [ValidatePattern("^[0-9a-fA-F]{4,40}$")]
    public string? Commit { get; set; }

    /// <summary>The image version of the version to go back to (with -Commit).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ImageVersion { get; set; }

    /// <summary>Accept a -Commit that was never deployed to the group.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Return a Paasta.Deployments.RollbackResult per deploy group rolled back (from and to versions, the deploy and rollback tags written). Without it, nothing is returned.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void Process()
    {
        Try(() =>
        {
            if (ImageVersion is not null && Commit is null)
                throw new PaastaException("ImageVersionNeedsCommit", PaastaErrorKind.InvalidArgument,
                    "-ImageVersion names the image of a -Commit; give -Commit too.");
            var reader = Reader(ResolveSoaDir(SoaDir));
            var svc = LoadService(reader, Service.TrimEnd('/'));
            var location = RequireLocationOf(svc);
            var (refs, tags) = Listing(location);

            IEnumerable<string> groups;
            if (AllDeployGroups)
            {
                groups = svc.DeployGroups.Concat(GroupsInUse(reader, svc).Order(StringComparer.Ordinal)).Distinct(StringComparer.Ordinal)
                    .Where(g =>
                    {
                        var deployed = tags.LatestDeploy(g) is not null;
                        if (!deployed) WriteVerbose($"Skipping '{g}': never deployed");
                        return deployed;
                    }).ToList();
            }
            else
            {
                var inUse = GroupsInUse(reader, svc);
                foreach (var g in DeployGroup.Where(g => !inUse.Contains(g) && !svc.DeployGroups.Contains(g)))
                    WriteWarning($"'{g}' is not a deploy group of {svc.Name}'s instances or pipeline.");
                groups = DeployGroup.Distinct(StringComparer.Ordinal);
            }

            var list = groups.ToList();
            for (var index = 0; index < list.Count; index++)
            {
                var group = list[index];
                var percent = list.Count > 1 ? 100 * index / list.Count : -1;
                Try(() =>
                {
                    var plan = DeploymentService.PlanRollback(svc.Name, location, refs, group, Commit, ImageVersion, Force);
                    if (plan.NothingToDo)
                        throw new PaastaException("NothingToRollBack", PaastaErrorKind.InvalidOperation,
                            $"{plan.Target} is already the current version of '{group}'; nothing was rolled back.") { Target = group };
                    if (!ShouldProcess($"{svc.Name} deploy group {group} ({location.Url})",
                            $"Roll back from {plan.Current.Version} to {plan.Target}: deploy tag on {Short(plan.Target.Sha)}, rollback tag on {Short(plan.Current.Sha)}"))
                        return;
                    var result = GitStep($"{svc.Name}: rolling {group} back to {plan.Target}",
                        () => Deployments.ApplyRollback(plan, refs, CancellationToken), percent);
                    WriteVerbose($"Wrote {result.DeployTag} and {result.RollbackTag}. Revert the bad commits in git too.");
                    if (PassThru) WriteObject(result);
                });
            }
        });
    }
}
