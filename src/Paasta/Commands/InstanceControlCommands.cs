using System.Management.Automation;
using Paasta.Config;
using Paasta.Deployments;
using Paasta.Operations;

namespace Paasta.Commands;

/// <summary>
/// Start-, Stop- and Restart-PaastaInstance: the instances of every record (by name or from the pipeline) go to
/// <see cref="InstanceControlOperations"/> at once, in End, which writes one start or stop tag per instance.
/// </summary>
public abstract class InstanceControlCmdlet : PaastaGitCmdlet
{
    protected const string ByNameSet = "ByName";
    protected const string InputObjectSet = "InputObject";

    /// <summary>Services; wildcards allowed (Alias Name: binds the Name of Get-PaastaService output).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByNameSet, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    public string[] Service { get; set; } = Array.Empty<string>();

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

    private readonly PendingRecords<InstanceConfig> _instances = new();
    private readonly PendingRecords<InstanceControlSelection> _selections = new();

    protected override void Process()
    {
        if (ParameterSetName == InputObjectSet) _instances.AddRange(Operation, InputObject);
        else _selections.Add(Operation, new InstanceControlSelection(Service, Cluster, Instance));
    }

    protected override void End()
    {
        var operations = new InstanceControlOperations(Git);
        var contexts = _selections.Batches.Select(b => b.Context).Concat(_instances.Batches.Select(b => b.Context)).Distinct().ToList();
        foreach (var context in contexts)
        {
            var request = new InstanceControlRequest(Action)
            {
                Selections = _selections.Batches.Where(b => b.Context == context).SelectMany(b => b.Records).ToList(),
                Instances = _instances.Batches.Where(b => b.Context == context).SelectMany(b => b.Records).ToList(),
                Repository = Repository,
            };
            var results = RunIn(context, c => operations.Control(c, request));
            if (PassThru) foreach (var r in results) WriteObject(r);
        }
    }
}

/// <summary>
/// <para type="synopsis">Starts PaaSTA instances (paasta start): records desired state "start" in git.</para>
/// <para type="description">For each instance, writes the tag paasta-CLUSTER.INSTANCE-TIMESTAMP-start at the commit of its deploy group's current deploy tag. The timestamp becomes the instance's force_bounce in deployments.json, so starting an instance that is already running bounces it, like Restart-PaastaInstance. Instances whose deploy group has no deploy tag are refused (NoDeployTag). Instances come by -Service/-Cluster/-Instance (wildcards allowed; all clusters and instances when omitted) or from Get-PaastaInstance through the pipeline. With -PassThru, emits one Paasta.Deployments.InstanceControlResult per tag written; otherwise nothing (-Verbose names each tag). Writing each tag shows progress. Existing tags are never moved; concurrent writers each get their own tag. Instances named several times, or in both the kubernetes- and eks- file of a cluster (one cluster.instance), get one tag. A cluster.instance that a tag name cannot carry (non-ASCII letters, spaces) is refused before anything is written (InstanceNameNotTaggable).</para>
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
/// <para type="description">For each instance, writes the tag paasta-CLUSTER.INSTANCE-TIMESTAMP-stop at the commit of its deploy group's current deploy tag; the next deployments.json says desired_state stop and the instance is scaled to 0. The stop is tied to that commit: deploying a different commit to the group starts the instance again (set instances: 0 to stop it for good). Needs -Cluster and -Instance, or instances from the pipeline. ConfirmImpact is High, so you are asked for each instance unless -Confirm:$false. Instances whose deploy group has no deploy tag are refused (NoDeployTag). With -PassThru, emits one Paasta.Deployments.InstanceControlResult per tag written; otherwise nothing (-Verbose names each tag). Writing each tag shows progress. Instances named several times, or in both the kubernetes- and eks- file of a cluster, get one stop tag; a cluster.instance that a tag name cannot carry is refused before anything is written (InstanceNameNotTaggable).</para>
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
