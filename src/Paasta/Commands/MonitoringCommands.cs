using System.Management.Automation;
using Paasta.Config;
using Paasta.Monitoring;
using Paasta.Operations;
using Paasta.Settings;

namespace Paasta.Commands;

/// <summary>
/// <para type="synopsis">Checks that PaaSTA instances on a cluster run enough healthy copies (check_kubernetes_services_replication).</para>
/// <para type="description">For each deployed kubernetes/eks instance of the cluster, or of each cluster -Cluster names or matches (instances whose deploy group has no image, or which have no control entry, in deployments.json are skipped as PaaSTA skips them), compares the copies it should have with the copies available. Expected copies: instances, 0 when deployments.json says desired_state stop, and for an autoscaled instance the live Deployment's (StatefulSet's, with persistent_volumes) replicas clamped to [min_instances, max_instances] (max_instances when it does not exist yet). Available copies: the instance's pods whose Ready condition is True, read with one LIST per namespace by the labels paasta.yelp.com/service and paasta.yelp.com/instance (plus one of Deployments, and one of StatefulSets, only when an autoscaled instance there runs as one); or, for an instance registered in smartstack.yaml (a non-null proxy_port, first registration SERVICE.INSTANCE) when -HaproxyStats is given, the servers of its backend SERVICE.INSTANCE whose status starts with UP in HAProxy's stats, per location, as SmartStack counts them. The instance is CRITICAL when available / expected x 100 is below replication_threshold (default 50; nothing expected counts as 100%), else OK. Each Paasta.Monitoring.ReplicationCheckResult carries the output text and description PaaSTA writes and every field of the Sensu event (team, page, runbook, tip, notification_email, alert_after, realert_every ...) resolved from soa-configs, ready for Send-PaastaSensuEvent. With -Summary the cmdlet returns one Paasta.Monitoring.ReplicationSummary instead: the results, and whether the run as a whole is critical (at least -CriticalPercent of the mesh-checked instances under-replicated and at least -MinCountCritical of them), with a Status and ExitCode for use as a Sensu check command (0 OK; 1 WARNING when some instance is critical but the cluster-wide rule is not met; 2 CRITICAL; Status UNKNOWN when instances could not be checked, which exits 1, as a crashing PaaSTA check does). Instances that cannot be checked (the cluster or HAProxy does not answer, their soa-configs or deployments.json cannot be read) are reported as non-terminating errors and listed in the summary's Unchecked, so a run that checked nothing is never OK.</para>
/// </summary>
/// <example>
///   <code>Test-PaastaReplication -Cluster local | Where-Object Status -ne OK | Format-List Service, Instance, Output, Description</code>
///   <para>From a runbook: lists the under-replicated instances of the local cluster and what to do about each.</para>
/// </example>
/// <example>
///   <code>Test-PaastaReplication -Cluster prod -Service web -HaproxyStats 'uswest=http://10.0.0.5:3212/;csv', 'useast=/run/synapse/haproxy.sock' | Send-PaastaSensuEvent</code>
///   <para>Counts web's mesh-registered instances from the HAProxy of two locations and sends one Sensu event per instance to the local Sensu client.</para>
/// </example>
/// <example>
///   <code>pwsh -NoProfile -Command '$s = Test-PaastaReplication -Cluster prod -Summary; $s.Results | Send-PaastaSensuEvent; $s.Output; exit $s.ExitCode'</code>
///   <para>The one-liner to use as a Sensu check command: sends each instance's event, prints one line, and exits 0 (OK), 1 (WARNING, or UNKNOWN: something could not be checked) or 2 (CRITICAL).</para>
/// </example>
/// <example>
///   <code>Get-PaastaInstance -Service hello -Cluster local | Test-PaastaReplication -Verbose</code>
///   <para>Checks the instances piped in; -Verbose says which were skipped as not deployed and how many API requests were made.</para>
/// </example>
[Cmdlet(VerbsDiagnostic.Test, "PaastaReplication", DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(ReplicationCheckResult))]
[OutputType(typeof(ReplicationSummary))]
public sealed class TestPaastaReplication : KubeCmdlet
{
    private const string ByNameSet = "ByName";
    private const string InputObjectSet = "InputObject";

    /// <summary>Services to check; wildcards allowed. All services when omitted.</summary>
    [Parameter(Position = 0, ParameterSetName = ByNameSet, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    public string[]? Service { get; set; }

    /// <summary>The clusters whose instances are checked (soa-configs' kubernetes-CLUSTER.yaml and eks-CLUSTER.yaml); wildcards allowed. Defaults to $env:PAASTA_CLUSTER, then Set-PaastaConfiguration -Cluster. Each cluster is read through its own kubeconfig context; -Summary judges them together.</summary>
    [Parameter(Position = 1, ParameterSetName = ByNameSet, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ClusterCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Cluster { get; set; }

    /// <summary>Instances to check; wildcards allowed. All instances of the cluster when omitted.</summary>
    [Parameter(Position = 2, ParameterSetName = ByNameSet, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(InstanceCompleter))]
    public string[]? Instance { get; set; }

    /// <summary>Instances from Get-PaastaInstance; those that are not kubernetes or eks instances are skipped.</summary>
    [Parameter(Mandatory = true, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
    public InstanceConfig[] InputObject { get; set; } = Array.Empty<InstanceConfig>();

    /// <summary>HAProxy stats to count mesh-registered instances from, as SmartStack does: a stats socket path (/run/haproxy.sock, unix:/path) or a stats page URL (http://host:3212/;csv). Prefix LOCATION= to name the location (several locations are each checked against expected/locations copies; several sources of one location are tried in order). Without a prefix the location is the cluster's name. Without -HaproxyStats every instance is counted by its Ready pods.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? HaproxyStats { get; set; }

    /// <summary>The run is critical when at least this percentage of the mesh-checked instances is under-replicated (and -MinCountCritical is reached). Default 10.</summary>
    [Parameter]
    [ValidateRange(0.0, 100.0)]
    public double CriticalPercent { get; set; } = 10;

    /// <summary>The run is critical only when at least this many mesh-checked instances are under-replicated. Default 5.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int MinCountCritical { get; set; } = 5;

    /// <summary>Return one Paasta.Monitoring.ReplicationSummary (the results, the cluster-wide status and an exit code) instead of one result per instance.</summary>
    [Parameter]
    public SwitchParameter Summary { get; set; }

    /// <summary>Seconds to wait for each HAProxy stats source. Default 10.</summary>
    [Parameter]
    [ValidateRange(1, 600)]
    public int TimeoutSec { get; set; } = 10;

    private ReplicationOperation? _check;

    protected override void Begin()
    {
        // A bad -HaproxyStats is refused before anything is read.
        _check = new ReplicationOperation(new ReplicationCheckOptions
        {
            HaproxyStats = HaproxyStats,
            CriticalPercent = CriticalPercent,
            MinCountCritical = MinCountCritical,
            HaproxyTimeout = TimeSpan.FromSeconds(TimeoutSec),
        });
    }

    protected override void Process()
    {
        if (ParameterSetName == InputObjectSet)
        {
            var given = InputObject;
            Run(op => _check!.Add(op, given));
            return;
        }
        var (services, cluster, instances) = (Service, Cluster, Instance);
        Run(op => _check!.Add(op, services, cluster, instances));
    }

    protected override void End()
    {
        var report = Run(op => _check!.Check(op));
        if (Summary)
        {
            WriteVerbose(report.Summary.Output);
            WriteObject(report.Summary);
        }
        else foreach (var r in report.Results) WriteObject(r);
    }
}

/// <summary>
/// <para type="synopsis">Sends check results to the local Sensu client socket, as PaaSTA's monitoring does.</para>
/// <para type="description">Takes Paasta.Monitoring.ReplicationCheckResult objects, or any objects with the check fields (Name or CheckName, Status, Output, Team, and optionally Runbook, Tip, NotificationEmail, Page, AlertAfter, RealertEvery, CheckEvery, Ticket, Project, Priority, Tag or Tags, IrcChannel or IrcChannels, SlackChannel or SlackChannels, Component, Description, Source, Cluster or ClusterName, Ttl, Dependency or Dependencies, Issuetype), from the pipeline. For each, it writes one JSON object followed by a newline over a new TCP connection to the Sensu client socket (default 127.0.0.1:3030; -SensuSocket, $env:PAASTA_SENSU_SOCKET, Set-PaastaConfiguration -SensuSocket) with exactly the keys, order and conventions of PaaSTA's Sensu events: durations (alert_after, check_every as interval, ttl) converted to seconds, handler default, runbook http://y/paasta-troubleshooting and alert_after 5m and check_every 1m when not given, source paasta-CLUSTER (from -Cluster, unless -Source is given), irc_channels, slack_channels, component and description only when set; no cluster_name, which PaaSTA never sends. It then waits for the client's answer: "ok" means Sensu will publish the result, "invalid" is an error (SensuEventRejected). A refused connection (SensuConnectionRefused), a socket that does not accept, take or acknowledge the event within -TimeoutSec (SensuSocketTimeout) or another network failure is a non-terminating error for that event, never a hang. An object without a team is not sent (PaaSTA sends nothing then); a warning says so. -WhatIf shows what would be sent; -Verbose shows the JSON.</para>
/// </summary>
/// <example>
///   <code>Test-PaastaReplication -Cluster local | Send-PaastaSensuEvent -PassThru</code>
///   <para>Sends one replication event per instance of the local cluster and shows each delivery.</para>
/// </example>
/// <example>
///   <code>[pscustomobject]@{ Name = 'backup_done'; Status = 'CRITICAL'; Output = 'no backup for 2 days'; Team = 'storage'; AlertAfter = '1h' } | Send-PaastaSensuEvent -SensuSocket 10.1.2.3:3030</code>
///   <para>Sends a check result of your own through the same socket protocol.</para>
/// </example>
/// <example>
///   <code>Test-PaastaReplication -Cluster prod | Where-Object Status -ne OK | Send-PaastaSensuEvent -WhatIf -Verbose</code>
///   <para>Shows the JSON that would be sent for each under-replicated instance, without sending anything.</para>
/// </example>
[Cmdlet(VerbsCommunications.Send, "PaastaSensuEvent", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(SensuDelivery))]
public sealed class SendPaastaSensuEvent : PaastaCmdlet
{
    /// <summary>The check name (letters, digits, '_', '.', '-'); a replication result's CheckName.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("CheckName")]
    public string Name { get; set; } = "";

    /// <summary>OK, WARNING, CRITICAL or UNKNOWN (or 0-3).</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    public SensuStatus Status
    {
        get => (SensuStatus)_status;
        set => _status = (int)value;
    }

    // Not an auto-property: a field of a Paasta.Core value type would make loading this class (which PowerShell
    // does when it lists the module's cmdlets, before the module's load context is set up) load Paasta.Core.
    private int _status;

    /// <summary>The check's output text.</summary>
    [Parameter(Mandatory = true, Position = 2, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    public string Output { get; set; } = "";

    /// <summary>The team that owns the check. Without a team nothing is sent.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull, AllowEmptyString]
    public string? Team { get; set; }

    /// <summary>Where responders find what to do. Default: http://y/paasta-troubleshooting.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull, AllowEmptyString]
    public string? Runbook { get; set; }

    /// <summary>A short hint for responders.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull, AllowEmptyString]
    public string? Tip { get; set; }

    /// <summary>Where e-mail notifications go.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull, AllowEmptyString]
    public string? NotificationEmail { get; set; }

    /// <summary>Whether the check pages; unset is sent as null (no page).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    public bool? Page { get; set; }

    /// <summary>How often the check runs (sent as interval, in seconds). Default 1m.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string CheckEvery { get; set; } = "1m";

    /// <summary>How long the check must fail before it alerts: seconds, or a duration like 10m or 1h30m. Default 5m.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string AlertAfter { get; set; } = "5m";

    /// <summary>Re-alert after this many occurrences; -1 (the default) backs off exponentially.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public long RealertEvery { get; set; } = -1;

    /// <summary>Whether the check opens a ticket. Default false.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public bool Ticket { get; set; }

    /// <summary>The ticket project.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull, AllowEmptyString]
    public string? Project { get; set; }

    /// <summary>The ticket priority.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull, AllowEmptyString]
    public string? Priority { get; set; }

    /// <summary>Tags of the check (sent as tags). Alias Tags: binds the Tags of a replication result.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Tags")]
    [AllowNull, AllowEmptyCollection]
    public string[]? Tag { get; set; }

    /// <summary>IRC channels to notify (sent as irc_channels, only when given). Alias IrcChannels: binds the IrcChannels of a replication result.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("IrcChannels")]
    [AllowNull, AllowEmptyCollection]
    public string[]? IrcChannel { get; set; }

    /// <summary>Slack channels to notify (sent as slack_channels, only when given). Alias SlackChannels: binds the SlackChannels of a replication result.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("SlackChannels")]
    [AllowNull, AllowEmptyCollection]
    public string[]? SlackChannel { get; set; }

    /// <summary>The ticket component; sent only when given.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull, AllowEmptyString]
    public string? Component { get; set; }

    /// <summary>A longer description for responders; sent only when given.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull, AllowEmptyString]
    public string? Description { get; set; }

    /// <summary>The event's source. Default: paasta-CLUSTER when -Cluster is given, as PaaSTA's events have it.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull, AllowEmptyString]
    public string? Source { get; set; }

    /// <summary>The cluster the check is about: the event's source is paasta-CLUSTER unless -Source is given, as in PaaSTA's events. Alias ClusterName, once a parameter of its own: no cluster_name key is sent, since PaaSTA's events have none.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("ClusterName")]
    [ArgumentCompleter(typeof(ClusterCompleter))]
    [AllowNull, AllowEmptyString]
    public string? Cluster { get; set; }

    /// <summary>Seconds (or a duration like 1h) after which Sensu treats the result as stale; none by default.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    public string? Ttl { get; set; }

    /// <summary>Checks this one depends on (sent as dependencies). Alias Dependencies.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Dependencies")]
    [AllowNull, AllowEmptyCollection]
    public string[]? Dependency { get; set; }

    /// <summary>The ticket issue type.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull, AllowEmptyString]
    public string? Issuetype { get; set; }

    /// <summary>host:port of the Sensu client socket. Defaults to $env:PAASTA_SENSU_SOCKET, then Set-PaastaConfiguration -SensuSocket, then 127.0.0.1:3030.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SensuSocket { get; set; }

    /// <summary>Seconds allowed for connecting, and then for handing over the event and getting the answer. Default 5.</summary>
    [Parameter]
    [ValidateRange(1, 300)]
    public int TimeoutSec { get; set; } = 5;

    /// <summary>Emit a Paasta.Monitoring.SensuDelivery for each event sent.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private SensuSender? _sender;

    protected override PaastaSettings GivenSettings() => base.GivenSettings() with { SensuSocket = SensuSocket };

    protected override void Begin() => _sender = Run(SensuSender.For);

    protected override void Process()
    {
        var check = new SensuCheck
        {
            Name = Name,
            Status = Status,
            Output = Output,
            Team = Team,
            Runbook = Runbook,
            Tip = Tip,
            NotificationEmail = NotificationEmail,
            Page = Page,
            CheckEvery = CheckEvery,
            AlertAfter = AlertAfter,
            RealertEvery = RealertEvery,
            Ticket = Ticket,
            Project = Project,
            Priority = Priority,
            Tags = Tag,
            IrcChannels = IrcChannel,
            SlackChannels = SlackChannel,
            Component = Component,
            Description = Description,
            Source = Source,
            Cluster = Cluster,
            Ttl = Ttl,
            Dependencies = Dependency,
            Issuetype = Issuetype,
        };
        var timeout = TimeSpan.FromSeconds(TimeoutSec);
        var delivery = RunOrWriteError(op => _sender!.Send(op, check, timeout));
        if (PassThru && delivery is not null) WriteObject(delivery);
    }
}
