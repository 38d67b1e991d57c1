using System.Management.Automation;
using Paasta.Deployments;
using Paasta.Git;
using Paasta.Operations;

namespace Paasta.Commands;

/// <summary>
/// Shared by the cmdlets that read or write a service's git repository: -Repository and -Credential, the call's
/// <see cref="GitSession"/> (each repository's refs listed once), and the records an action collects in Process to
/// hand to its operation, all at once, in End.
/// </summary>
public abstract class PaastaGitCmdlet : SoaConfigCmdlet
{
    /// <summary>The service's git repository (URL, or path / file:// URL of a repository on this machine; relative paths start at the current location). Overrides service.yaml's git_url, including git_url: null.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [Alias("GitUrl")]
    public string? Repository { get; set; }

    /// <summary>User name and password (or token) for an https repository. ssh repositories use your ssh agent and ~/.ssh/config instead; without -Credential, PAASTA_GIT_USERNAME/PAASTA_GIT_PASSWORD and your git credential helpers are tried.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    private GitSession? _git;

    /// <summary>This call's git session, with its -Credential.</summary>
    protected GitSession Git => _git ??= SessionFor(Credential);

    /// <summary>A git session that authenticates with <paramref name="credential"/> (-Credential) when given.</summary>
    internal static GitSession SessionFor(PSCredential? credential) => new(new GitClientOptions
    {
        Credential = credential is null ? null : new GitCredential(credential.UserName, credential.GetNetworkCredential().Password),
    });

    /// <summary>
    /// Pipeline records kept for End, by the operation context they were bound under (a -SoaDir bound by property
    /// name can change it), in the order they came.
    /// </summary>
    protected sealed class PendingRecords<T>
    {
        private readonly List<(OperationContext Context, List<T> Records)> _batches = new();

        public void Add(OperationContext context, T record)
        {
            var batch = _batches.FirstOrDefault(b => ReferenceEquals(b.Context, context));
            if (batch.Records is null) _batches.Add(batch = (context, new List<T>()));
            batch.Records.Add(record);
        }

        public void AddRange(OperationContext context, IEnumerable<T> records)
        {
            foreach (var r in records) Add(context, r);
        }

        public IReadOnlyList<(OperationContext Context, List<T> Records)> Batches => _batches;
    }

    /// <summary>Runs an operation in the context its records were bound under (see <see cref="PaastaCmdlet.Run{T}"/>).</summary>
    protected T RunIn<T>(OperationContext context, Func<OperationContext, T> operation) =>
        Sink.Pump(() => operation(context), CancellationToken);
}

/// <summary>
/// <para type="synopsis">Generates deployments.json for services from their git deploy, start and stop tags.</para>
/// <para type="description">The port of generate_deployments_for_service. Lists the refs of each service's repository (service.yaml git_url, or -Repository) without cloning it, loads every instance of every cluster, and computes deployments.json: for each deploy group the newest paasta-GROUP[+IMAGE_VERSION]-TIMESTAMP-deploy tag, and for each instance (cluster.instance; cluster.job.action for Tron) the newest start or stop tag that points at that deploy tag's commit (start/stop tags on any other commit are ignored, so a stop lasts until the next deploy of a different commit). The file keeps both the v1 and v2 sections and is byte-for-byte what PaaSTA writes (Python json.dump defaults, one line, non-ASCII escaped). It is written atomically (temporary file and rename) and only when its content changes; an unreadable or invalid old file counts as empty. A service with git_url: null gets empty deployments. A new file never silently drops the deployment of a deploy group that instances still use (git_url: null over a deployed service, a -Repository without the tags): that is refused with DeployGroupsWouldBeDropped and nothing is written, unless -Force; -WhatIf names the groups that would be lost, and the result's DroppedDeployGroups lists them. Services named several times, or piped in, are generated once each. Emits one Paasta.Deployments.DeploymentsFile per service, written or not (a New- cmdlet returns what it made, so there is no -PassThru); its Changed and Written properties say what happened. Listing a large repository's refs shows progress; -Verbose says, for each deploy group, which deploy tag won and why (the newest timestamp; on a tie, the name that sorts first) and, for each instance, which start/stop tag applies and how many on other commits were ignored.</para>
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
[OutputType(typeof(DeploymentsFile))]
public sealed class NewPaastaDeployments : PaastaGitCmdlet
{
    /// <summary>Services to generate for; wildcards allowed (* for all).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    public string[] Service { get; set; } = Array.Empty<string>();

    /// <summary>Write the file even when it drops the deployment of deploy groups that instances still use (DeployGroupsWouldBeDropped otherwise).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    private readonly PendingRecords<string> _services = new();

    protected override void Process() => _services.AddRange(Operation, Service);

    protected override void End()
    {
        var operations = new DeploymentOperations(Git);
        foreach (var (context, services) in _services.Batches)
        {
            var request = new GenerateDeploymentsRequest(services) { Repository = Repository, Force = Force };
            foreach (var file in RunIn(context, c => operations.Generate(c, request))) WriteObject(file);
        }
    }
}

/// <summary>
/// <para type="synopsis">Shows what is deployed where: the version and desired state of each instance, or of each deploy group.</para>
/// <para type="description">By default reads the service's deployments.json (the v2 section, as every PaaSTA loader does) and returns one Paasta.Deployments.DeploymentInfo per instance: its deploy group, commit, image version, docker image, desired state (start or stop) and force_bounce token; instances whose deploy group was never marked, or that deployments.json has no control entry for (added since it was generated; PaaSTA does not deploy them either), come back with Deployed = $false. A -Service, -Cluster, -Instance or -DeployGroup name without wildcards that matches nothing is an error (ServiceNotFound, ClusterNotFound, InstanceNotFound, DeployGroupNotFound). With -Live it reads the repository's refs instead (an ls-remote, no clone) and also shows the deploy tag, when it was written and the start/stop tag in force: what the next New-PaastaDeployments will write. With -ByDeployGroup it returns one Paasta.Deployments.DeployGroupDeployment per deploy group instead.</para>
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

    private DeploymentOperations? _operations;

    protected override void Process()
    {
        _operations ??= new DeploymentOperations(Git);
        var query = new DeploymentQuery
        {
            Services = Service,
            Clusters = Cluster,
            Instances = Instance,
            DeployGroups = DeployGroup,
            Live = Live,
            Repository = Repository,
        };
        IEnumerable<object>? found = ByDeployGroup
            ? RunOrWriteError(c => _operations.DescribeDeployGroups(c, query))
            : RunOrWriteError(c => _operations.DescribeInstances(c, query));
        foreach (var item in found ?? Array.Empty<object>()) WriteObject(item);
    }
}

/// <summary>
/// <para type="synopsis">Marks a commit for deployment to a deploy group (paasta mark-for-deployment).</para>
/// <para type="description">Creates the tag paasta-GROUP[+IMAGE_VERSION]-TIMESTAMP-deploy (UTC timestamp) on the commit in the service's repository; the next New-PaastaDeployments puts it in deployments.json and the instances of that group bounce to it. -Commit is a full sha or a prefix of at least 4 hex digits, which must match exactly one commit among the repository's refs (a branch or tag tip; ambiguous or unknown prefixes are refused with CommitAmbiguous or CommitNotFound). The repository is never cloned: refs are listed remotely and the tag is pushed as a ref-only update (repositories on this machine are written in place). An existing tag is never moved: if another writer took the same name in the same second, Paasta waits for the next second and tags again. Warns when the deploy group is used by no instance, when the version is already the current one, and when the commit was rolled back from in this group before. Deploy groups and image versions must be what a tag name carries back unchanged (ASCII letters, digits, '_', '.', '-'): 'local.main+evil' would be read as group local.main with image version evil, so it is refused (InvalidDeployGroup). Records piped in are collected and each (service, deploy group) is marked once; two different versions for one group in one call are refused (ConflictingDeployVersions). Listing the refs and pushing the tag (with its retries) show progress. Returns nothing unless -PassThru; -Verbose names the tag written.</para>
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

    private readonly PendingRecords<PublishTarget> _targets = new();

    protected override void Process() => _targets.Add(Operation, new PublishTarget(Service, DeployGroup, Commit, ImageVersion));

    protected override void End()
    {
        var operations = new DeploymentOperations(Git);
        foreach (var (context, targets) in _targets.Batches)
        {
            var results = RunIn(context, c => operations.Publish(c, new PublishRequest(targets) { Repository = Repository }));
            if (PassThru) foreach (var r in results) WriteObject(r);
        }
    }
}

/// <summary>
/// <para type="synopsis">Rolls deploy groups back to an earlier version (paasta rollback).</para>
/// <para type="description">For each deploy group, marks an earlier version for deployment (a new paasta-GROUP[+IMAGE_VERSION]-TIMESTAMP-deploy tag) and writes the rollback marker paasta-GROUP[+IMAGE_VERSION]-TIMESTAMP-rollback on the commit rolled back from, which Publish-PaastaDeployment later warns about. Without -Commit, the target is the version the group ran before its current one; with -Commit (full sha, or a prefix matched first against the group's past versions) it must be a version the group ran before, unless -Force. A group already at the target version is reported as NothingToRollBack and left alone. Records piped in (for example one per instance from Get-PaastaDeployment) are collected and each (service, deploy group) is rolled back once. ConfirmImpact is High: you are asked to confirm each group unless -Confirm:$false. Writing the tags shows progress. Returns nothing unless -PassThru.</para>
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

    private readonly PendingRecords<RollbackTarget> _targets = new();

    protected override void Process() => _targets.Add(Operation, new RollbackTarget(Service, AllDeployGroups ? null : DeployGroup));

    protected override void End()
    {
        var operations = new DeploymentOperations(Git);
        foreach (var (context, targets) in _targets.Batches)
        {
            var request = new RollbackRequest(targets) { Commit = Commit, ImageVersion = ImageVersion, Force = Force, Repository = Repository };
            var results = RunIn(context, c => operations.Undo(c, request));
            if (PassThru) foreach (var r in results) WriteObject(r);
        }
    }
}
