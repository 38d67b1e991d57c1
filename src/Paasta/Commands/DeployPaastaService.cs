using System.Management.Automation;
using Paasta.Deployments;
using Paasta.Operations;

namespace Paasta.Commands;

/// <summary>
/// <para type="synopsis">Deploys a commit through a service's pipeline (deploy.yaml), step by step, waiting for each deploy group to be healthy.</para>
/// <para type="description">Does what PaaSTA's Jenkins pipeline does with paasta mark-for-deployment --wait-for-deployment, one step of deploy.yaml's pipeline after another. For each deploy-group step it marks the commit for deployment (the tag paasta-GROUP[+IMAGE_VERSION]-TIMESTAMP-deploy that Publish-PaastaDeployment writes), regenerates the service's deployments.json as New-PaastaDeployments does (when the file cannot be written here, for example a read-only soa dir, it warns and waits for whoever generates it), and waits until every long-running instance of the group on every cluster runs the version: its copies ready (at least ceil(bounce_margin_factor x instances)), no copy of another version left, as Wait-PaastaDeployment checks; each PaaSTA cluster is read through its own kubeconfig context (ClusterContext). Without a reconcile loop running Sync-PaastaInstance for you, pass -Sync: the wait then makes a Sync pass before each look at the clusters, so bounces progress and old copies are drained, and before it returns it keeps syncing until the old copies of every group it deployed are gone, so the next Sync has nothing left to finish. Only when a group is healthy does it go on to the next step. Steps in one parallel block are marked together and waited for one after the other.</para>
/// <para type="description">A step with trigger_next_step_manually: true asks before the next step is started (-Force answers yes); a session that cannot ask (pwsh -NonInteractive, a runbook) stops there, and the next step is reported as WaitingForApproval. Steps Paasta does not run (itest, itest-and-push-to-registry, security-check, push-to-registry, performance-check, command-* and disabled: true) are reported as Skipped. A step fails when its time runs out (-TimeoutSec, else the step's timeout in deploy.yaml, else 10800 s as mark-for-deployment) or, unless the step says enable_crashloop_auto_rollback: false, as soon as the new copies fail for good: every one of them (crashloop_rollback_percentage_threshold) restarted at least min_restarts_for_crashloop_rollback times (2), or stuck unable to pull their image. With auto-rollback (-AutoRollback, else the step's auto_rollback in deploy.yaml; -NoAutoRollback turns it off) a failed group is marked back to the version it ran before, as Undo-PaastaDeployment does (a deploy tag for the old version and a rollback tag on the failed commit), deployments.json is regenerated and the old version is waited for; the step is then RolledBack, with the failure as its Reason. Steps that were already deployed keep the new version, as PaaSTA leaves them. The walk stops at a failed or rolled-back step; each is also written as an error (DeployStepFailed, DeployRolledBack), so -ErrorAction Stop stops a script.</para>
/// <para type="description">Everything it decides comes from the repository's tags and the clusters, so running the same command again continues after an interruption: a group already marked with the version is not marked again (no new tag), only waited for, and is Deployed as soon as it runs the version and is healthy. Emits one Paasta.Deployments.DeployStepResult per step as it finishes: Service, DeployGroup, Clusters, FromVersion, ToVersion, State (Deployed, RolledBack, Skipped, WaitingForApproval, Failed), Reason, Duration and TagsWritten. Shows progress for the pipeline and, nested, for each wait. -WhatIf shows the first tag it would write and stops there.</para>
/// </summary>
/// <example>
///   <code>Deploy-PaastaService -Service hello -Commit 4ef01b5a -Sync</code>
///   <para>Deploys commit 4ef01b5a of hello through every step of its pipeline, syncing the clusters itself, and shows one line per step.</para>
/// </example>
/// <example>
///   <code>Deploy-PaastaService -Service hello -Commit 4ef01b5a -AutoRollback -TimeoutSec 600 -Force</code>
///   <para>Deploys through the whole pipeline without stopping at manual steps; a group that is not healthy within ten minutes, or whose new copies crash-loop, is rolled back to its previous version and the pipeline stops there.</para>
/// </example>
/// <example>
///   <code>Deploy-PaastaService -Service hello -Commit 4ef01b5a -DeployGroup prod.canary</code>
///   <para>Runs one step of the pipeline: marks 4ef01b5a for prod.canary and waits until the canary runs it.</para>
/// </example>
/// <example>
///   <code>$steps = Deploy-PaastaService hello 4ef01b5a -ErrorAction Stop; $steps | Where-Object State -eq WaitingForApproval</code>
///   <para>In a runbook (no one to ask): deploys until the first manual step, then shows the step that waits for approval. Running the same command again later with -Force continues from there.</para>
/// </example>
[Cmdlet("Deploy", "PaastaService", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = FromDeployYamlSet)]
[OutputType(typeof(DeployStepResult))]
public sealed class DeployPaastaService : KubeCmdlet
{
    private const string FromDeployYamlSet = "FromDeployYaml";
    private const string AutoRollbackSet = "AutoRollback";
    private const string NoAutoRollbackSet = "NoAutoRollback";

    /// <summary>The service: one name, no wildcards (Alias Name: binds the Name of Get-PaastaService output).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    public string Service { get; set; } = "";

    /// <summary>The commit to deploy: a full sha, or a unique prefix of at least 4 hex digits.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("Sha", "GitSha")]
    [ValidatePattern("^[0-9a-fA-F]{4,40}$")]
    public string Commit { get; set; } = "";

    /// <summary>Extra version of the image built from the commit, carried in the tags after '+' (as Publish-PaastaDeployment -ImageVersion).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? ImageVersion { get; set; }

    /// <summary>Run only this step of the pipeline (a deploy group of deploy.yaml); omitted: every step, in order.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(DeployGroupCompleter))]
    public string? DeployGroup { get; set; }

    /// <summary>Roll a failed step back to the version its group ran before, whatever deploy.yaml's auto_rollback says.</summary>
    [Parameter(Mandatory = true, ParameterSetName = AutoRollbackSet)]
    public SwitchParameter AutoRollback { get; set; }

    /// <summary>Never roll back, whatever deploy.yaml's auto_rollback says: a failed step stays marked with the new version.</summary>
    [Parameter(Mandatory = true, ParameterSetName = NoAutoRollbackSet)]
    public SwitchParameter NoAutoRollback { get; set; }

    /// <summary>Seconds each step may take to come up (and a rollback to come back). Omitted: the step's timeout in deploy.yaml, else 10800 (mark-for-deployment's default).</summary>
    [Parameter]
    [Alias("Timeout")]
    [ValidateRange(1, int.MaxValue)]
    public int TimeoutSec { get; set; }

    /// <summary>Make the clusters converge while waiting (a Sync-PaastaInstance pass of the group's instances before each look, and at the end Sync passes until the old copies are gone), for setups where nothing else runs Sync.</summary>
    [Parameter]
    public SwitchParameter Sync { get; set; }

    /// <summary>Answer yes to the steps that ask for a manual trigger (trigger_next_step_manually).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>The service's git repository (URL, or path / file:// URL of a repository on this machine), as Publish-PaastaDeployment -Repository. Overrides service.yaml's git_url.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [Alias("GitUrl")]
    public string? Repository { get; set; }

    /// <summary>User name and password (or token) for an https repository, as Publish-PaastaDeployment -Credential.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    protected override bool ForceAnswersYes => Force;

    protected override void Process()
    {
        var request = new DeployRequest(Service, Commit)
        {
            ImageVersion = ImageVersion,
            DeployGroup = DeployGroup,
            AutoRollback = AutoRollback ? true : NoAutoRollback ? false : null,
            Timeout = MyInvocation.BoundParameters.ContainsKey(nameof(TimeoutSec)) ? TimeSpan.FromSeconds(TimeoutSec) : null,
            Sync = Sync,
            Force = Force,
            Repository = Repository,
        };
        var operation = new DeployPipelineOperation(PaastaGitCmdlet.SessionFor(Credential));
        RunOrWriteError(op => operation.Run(op, request));
    }
}
