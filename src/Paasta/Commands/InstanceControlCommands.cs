using System.Management.Automation;
using Paasta.Config;
using Paasta.Deployments;
using Paasta.Errors;

namespace Paasta.Commands;

/// <summary>
/// Start-, Stop- and Restart-PaastaInstance: write a start or stop tag for each selected instance at the
/// commit of its deploy group's current deploy tag (docs/BEHAVIOUR.md §2.7). Instances come by name or from the pipeline.
/// </summary>
public abstract class InstanceControlCmdlet : PaastaGitCmdlet
{
    protected const string ByNameSet = "ByName";
    protected const string InputObjectSet = "InputObject";

    /// <summary>The service (Alias Name: binds the Name of Get-PaastaService output).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByNameSet, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    public string Service { get; set; } = "";

    /// <summary>Clusters; wildcards allowed.</summary>
    [Parameter(Position = 1, ParameterSetName = ByNameSet, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ClusterCompleter))]
    public string[]? Cluster { get; set; }

    /// <summary>Instances (job.action for Tron); wildcards allowed.</summary>
    [Parameter(Position = 2, ParameterSetName = ByNameSet, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(InstanceCompleter))]
    public string[]? Instance { get; set; }

    /// <summary>Instances from Get-PaastaInstance.</summary>
    [Parameter(Mandatory = true, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
    public InstanceConfig[] InputObject { get; set; } = Array.Empty<InstanceConfig>();

    /// <summary>Return a Paasta.Deployments.InstanceControlResult per tag written (instance, desired state, tag, commit, force_bounce). Without it, nothing is returned.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected abstract ControlAction Action { get; }

    /// <summary>Stop refuses to guess: without the pipeline it needs -Cluster and -Instance.</summary>
    protected virtual bool RequiresExplicitInstances => false;

    private bool _noticeWritten;

    protected override void Process()
    {
        var selected = SelectedInstances();
        for (var index = 0; index < selected.Count; index++)
        {
            var instance = selected[index];
            var percent = selected.Count > 1 ? 100 * index / selected.Count : -1;
            Try(() =>
            {
                var reader = Reader(instance.SoaDir);
                var svc = LoadService(reader, instance.Service);
                var location = RequireLocationOf(svc);
                var (refs, tags) = Listing(location);
                var plan = DeploymentService.PlanControl(instance, location, tags, Action);
                var deploy = plan.DeployTag;
                if (!ShouldProcess($"{instance.Service}.{instance.Instance} on {instance.Cluster}",
                        $"{Action}: tag paasta-{instance.Branch}-<UTC now>-{plan.State} at {Short(deploy.Sha)} (deploy group {deploy.DeployGroup}, {location.Url})"))
                    return;
                var result = GitStep($"{instance.Service}.{instance.Instance} on {instance.Cluster}: writing the {plan.State} tag",
                    () => Deployments.ApplyControl(plan, refs, CancellationToken), percent);
                WriteVerbose($"Wrote {result.Tag} at {result.Sha}");
                if (!_noticeWritten)
                {
                    _noticeWritten = true;
                    WriteVerbose(Action == ControlAction.Stop
                        ? "Stopped instances stay stopped until a different commit is deployed to their deploy group; set instances: 0 to stop one for good."
                        : "Instances (re)start gracefully, following their bounce method, once deployments.json is regenerated (New-PaastaDeployments).");
                }
                if (PassThru) WriteObject(result);
            });
        }
    }

    private IReadOnlyList<InstanceConfig> SelectedInstances()
    {
        if (ParameterSetName == InputObjectSet) return InputObject;

        if (RequiresExplicitInstances && (Cluster is not { Length: > 0 } || Instance is not { Length: > 0 }))
        {
            ThrowTerminatingError(new PaastaException("ExplicitInstanceRequired", PaastaErrorKind.InvalidArgument,
                $"{MyInvocation.MyCommand.Name} needs -Cluster and -Instance (or instances from the pipeline): stopping every instance of a service by accident is too easy.")
            { Target = Service });
        }
        var selected = new List<InstanceConfig>();
        try
        {
            var reader = Reader(ResolveSoaDir(SoaDir));
            SoaConfigReader.ValidateServiceName(Service);
            var svc = LoadService(reader, Service.TrimEnd('/'));
            var filter = new InstanceFilter(Matcher(Cluster), Matcher(Instance));
            foreach (var r in reader.LoadInstances(svc, filter))
            {
                if (r.Error is not null) WriteError(r.Error);
                else selected.Add(r.Value!);
            }
            foreach (var cluster in (Cluster ?? Array.Empty<string>()).Where(c => !HasWildcards(c) && !selected.Any(i => i.Cluster == c)))
                WriteError(new PaastaException("InstanceNotFound", PaastaErrorKind.ObjectNotFound,
                    $"{svc.Name} has no instance{(Instance is null ? "" : " " + string.Join(", ", Instance))} on cluster '{cluster}'. Clusters: {string.Join(", ", svc.Clusters)}.")
                { Target = cluster });
            foreach (var name in (Instance ?? Array.Empty<string>()).Where(n => !HasWildcards(n) && !selected.Any(i => i.Instance == n)))
                WriteError(new PaastaException("InstanceNotFound", PaastaErrorKind.ObjectNotFound,
                    $"{svc.Name} has no instance '{name}'{(Cluster is null ? "" : " on " + string.Join(", ", Cluster))}.")
                { Target = name });
        }
        catch (PaastaException e) { WriteError(e); }
        return selected;
    }
}

/// <summary>
/// <para type="synopsis">Starts PaaSTA instances (paasta start): records desired state "start" in git.</para>
/// <para type="description">For each instance, writes the tag paasta-CLUSTER.INSTANCE-TIMESTAMP-start at the commit of its deploy group's current deploy tag. The timestamp becomes the instance's force_bounce in deployments.json, so starting an instance that is already running bounces it, like Restart-PaastaInstance. Instances whose deploy group has no deploy tag are refused (NoDeployTag). Instances come by -Service/-Cluster/-Instance (wildcards allowed; all clusters and instances when omitted) or from Get-PaastaInstance through the pipeline. With -PassThru, emits one Paasta.Deployments.InstanceControlResult per tag written; otherwise nothing (-Verbose names each tag). Writing each tag shows progress. Existing tags are never moved; concurrent writers each get their own tag.</para>
/// </summary>
/// <example>
///   <code>Start-PaastaInstance -Service hello -Cluster local -Instance main -PassThru</code>
///   <para>Starts hello.main on the local cluster (undoing an earlier Stop-PaastaInstance) and shows the start tag written.</para>
/// </example>
/// <example>
///   <code>Get-PaastaInstance -Service hello -Cluster local | Start-PaastaInstance -WhatIf</code>
///   <para>Shows the start tag each of hello's instances on local would get, without writing any.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Start, "PaastaInstance", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(InstanceControlResult))]
public sealed class StartPaastaInstance : InstanceControlCmdlet
{
    protected override ControlAction Action => ControlAction.Start;
}

/// <summary>
/// <para type="synopsis">Stops PaaSTA instances (paasta stop): records desired state "stop" in git.</para>
/// <para type="description">For each instance, writes the tag paasta-CLUSTER.INSTANCE-TIMESTAMP-stop at the commit of its deploy group's current deploy tag; the next deployments.json says desired_state stop and the instance is scaled to 0. The stop is tied to that commit: deploying a different commit to the group starts the instance again (set instances: 0 to stop it for good). Needs -Cluster and -Instance, or instances from the pipeline. ConfirmImpact is High, so you are asked for each instance unless -Confirm:$false. Instances whose deploy group has no deploy tag are refused (NoDeployTag). With -PassThru, emits one Paasta.Deployments.InstanceControlResult per tag written; otherwise nothing (-Verbose names each tag). Writing each tag shows progress.</para>
/// </summary>
/// <example>
///   <code>Stop-PaastaInstance -Service hello -Cluster local -Instance canary -Confirm:$false -PassThru</code>
///   <para>Stops hello.canary on local without prompting, and shows the stop tag written.</para>
/// </example>
/// <example>
///   <code>Get-PaastaInstance -Service hello -Cluster local | Stop-PaastaInstance</code>
///   <para>Stops every instance of hello on local, asking for each one.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Stop, "PaastaInstance", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(InstanceControlResult))]
public sealed class StopPaastaInstance : InstanceControlCmdlet
{
    protected override ControlAction Action => ControlAction.Stop;
    protected override bool RequiresExplicitInstances => true;
}

/// <summary>
/// <para type="synopsis">Restarts PaaSTA instances (paasta restart): a start with a fresh timestamp, which forces a bounce.</para>
/// <para type="description">Writes paasta-CLUSTER.INSTANCE-TIMESTAMP-start at the commit of the deploy group's current deploy tag. The new timestamp changes the instance's force_bounce in deployments.json, which changes its config hash, so the next deployment run replaces every copy following the bounce method. Instances come by name (wildcards allowed) or from the pipeline. Instances whose deploy group has no deploy tag are refused (NoDeployTag). With -PassThru, emits one Paasta.Deployments.InstanceControlResult per tag written; otherwise nothing (-Verbose names each tag). Writing each tag shows progress.</para>
/// </summary>
/// <example>
///   <code>(Restart-PaastaInstance -Service hello -Cluster local -Instance main -PassThru).ForceBounce</code>
///   <para>Bounces hello.main on local, and shows the force_bounce the next deployments.json will carry.</para>
/// </example>
/// <example>
///   <code>Get-PaastaInstance -Service hello -InstanceType kubernetes | Restart-PaastaInstance -Confirm</code>
///   <para>Restarts every long-running instance of hello, confirming each.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Restart, "PaastaInstance", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(InstanceControlResult))]
public sealed class RestartPaastaInstance : InstanceControlCmdlet
{
    protected override ControlAction Action => ControlAction.Restart;
}
