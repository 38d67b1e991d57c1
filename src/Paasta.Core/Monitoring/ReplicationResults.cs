using System.Globalization;

namespace Paasta.Monitoring;

/// <summary>How a replication check counted available copies.</summary>
// long: ConvertTo-Json writes 64-bit enums by name, which runbooks parsing JSON need (docs/OUTPUT.md).
public enum ReplicationMethod : long
{
    /// <summary>Ready pods of the instance in the cluster (docs/BEHAVIOUR.md §8.4).</summary>
    Pods,
    /// <summary>UP servers of the instance's backend in HAProxy's stats, per location (docs/BEHAVIOUR.md §8.3).</summary>
    Smartstack,
}

/// <summary>One location of a mesh-based check: what HAProxy there says.</summary>
public sealed class ReplicationLocation
{
    public required string Location { get; init; }
    public string Provider { get; init; } = ReplicationMath.SmartstackProvider;
    public long Available { get; init; }
    /// <summary>int(expected copies / number of locations).</summary>
    public long Expected { get; init; }
    public double Ratio { get; init; }
    public bool IsUnderReplicated { get; init; }
    /// <summary>The stats source that answered (socket path or URL).</summary>
    public string? Source { get; init; }
    public required string Line { get; init; }

    public override string ToString() => Line;
}

/// <summary>
/// The replication check of one instance (check_kubernetes_services_replication): expected and available copies,
/// the status and texts PaaSTA computes, and every field of the Sensu event it would send, resolved from soa-configs.
/// Pipe it to Send-PaastaSensuEvent.
/// </summary>
public sealed class ReplicationCheckResult
{
    public required string Service { get; init; }
    public required string Instance { get; init; }
    public required string Cluster { get; init; }
    public string InstanceType { get; init; } = "kubernetes";
    public required string Namespace { get; init; }
    /// <summary>start or stop, from deployments.json.</summary>
    public string DesiredState { get; init; } = "start";
    public ReplicationMethod Method { get; init; }
    public bool IsAutoscaled { get; init; }
    /// <summary>Copies the instance should have (0 when stopped).</summary>
    public long ExpectedCount { get; init; }
    /// <summary>Ready pods, or UP servers summed over the mesh locations.</summary>
    public long AvailableCount { get; init; }
    /// <summary>replication_threshold, percent.</summary>
    public long Threshold { get; init; }
    /// <summary>available / expected × 100 (100 when nothing is expected); the lowest location's for mesh checks.</summary>
    public double Ratio { get; init; }
    public bool IsUnderReplicated { get; init; }
    /// <summary>OK or CRITICAL, as PaaSTA's check decides.</summary>
    public SensuStatus Status { get; init; }
    public required string Output { get; init; }
    public required string Description { get; init; }
    /// <summary>Mesh-based checks: one entry per location.</summary>
    public IReadOnlyList<ReplicationLocation> Locations { get; init; } = Array.Empty<ReplicationLocation>();

    // The Sensu check (docs/BEHAVIOUR.md §8.5); the names match Send-PaastaSensuEvent's parameters.
    public required string CheckName { get; init; }
    public string? Team { get; init; }
    public bool? Page { get; init; }
    public required string Runbook { get; init; }
    public required string Tip { get; init; }
    public string? NotificationEmail { get; init; }
    public string CheckEvery { get; init; } = "1m";
    public long RealertEvery { get; init; } = -1;
    public required string AlertAfter { get; init; }
    public bool Ticket { get; init; }
    public string? Project { get; init; }
    public string? Priority { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = Array.Empty<string>();
    public IReadOnlyList<string>? IrcChannels { get; init; }
    public IReadOnlyList<string>? SlackChannels { get; init; }
    public string? Component { get; init; }
    public string? Issuetype { get; init; }
    /// <summary>paasta-CLUSTER.</summary>
    public required string Source { get; init; }

    /// <summary>The event as it goes on the wire; null when no team resolves (PaaSTA then sends nothing).</summary>
    public SensuEvent? ToSensuEvent() => Team is null ? null : new SensuEvent
    {
        Name = CheckName,
        Status = Status,
        Output = Output,
        Team = Team,
        Runbook = string.IsNullOrEmpty(Runbook) ? SensuRules.RunbookPlaceholder : Runbook,
        Tip = Tip,
        NotificationEmail = NotificationEmail,
        Interval = SensuRules.ToSeconds(CheckEvery, "check_every"),
        Page = Page,
        RealertEvery = RealertEvery,
        AlertAfter = SensuRules.ToSeconds(AlertAfter, "alert_after"),
        Ticket = Ticket,
        Project = Project,
        Priority = Priority,
        Source = Source,
        Tags = Tags,
        Issuetype = Issuetype,
        IrcChannels = IrcChannels,
        SlackChannels = SlackChannels,
        Component = Component,
        Description = Description,
    };

    public override string ToString() => $"{Status}: {Output}";
}

/// <summary>
/// The run as a whole (check_kubernetes_services_replication's exit status): critical when the share of
/// under-replicated mesh-checked instances reaches -CriticalPercent and their number reaches -MinCountCritical.
/// Pod-counted instances alert on their own and, as in PaaSTA, do not enter that share.
/// </summary>
public sealed class ReplicationSummary
{
    public required string Cluster { get; init; }
    public IReadOnlyList<ReplicationCheckResult> Results { get; init; } = Array.Empty<ReplicationCheckResult>();
    /// <summary>Instances skipped because they are not deployed (no image or control in deployments.json).</summary>
    public IReadOnlyList<string> NotDeployed { get; init; } = Array.Empty<string>();
    /// <summary>Instances that could not be checked (the cluster or HAProxy did not answer, soa-configs or deployments.json unreadable); see the errors.</summary>
    public IReadOnlyList<string> Unchecked { get; init; } = Array.Empty<string>();
    public double CriticalPercent { get; init; } = 10;
    public int MinCountCritical { get; init; } = 5;

    public int Checked => Results.Count;
    public int MeshChecked => Results.Count(r => r.Method == ReplicationMethod.Smartstack);
    /// <summary>Under-replicated mesh-checked instances: the numerator of the cluster-wide rule.</summary>
    public int UnderReplicated => Results.Count(r => r.Method == ReplicationMethod.Smartstack && r.IsUnderReplicated);
    /// <summary>100 × under / mesh-checked (0 when none were mesh-checked).</summary>
    public double PercentUnderReplicated => MeshChecked == 0 ? 0 : 100.0 * UnderReplicated / MeshChecked;
    /// <summary>Every instance whose own status is CRITICAL, however counted.</summary>
    public IReadOnlyList<string> CriticalInstances => Results.Where(r => r.Status == SensuStatus.CRITICAL).Select(r => ReplicationMath.JobId(r.Service, r.Instance)).ToList();
    /// <summary>PaaSTA's rule (docs/BEHAVIOUR.md §8.1): percentage at or over -CriticalPercent and count at or over -MinCountCritical.</summary>
    public bool IsCritical => PercentUnderReplicated >= CriticalPercent && UnderReplicated >= MinCountCritical;

    /// <summary>
    /// CRITICAL under the cluster-wide rule; WARNING when some instance is critical but the rule is not met;
    /// UNKNOWN when nothing is critical but some instances could not be checked; OK otherwise.
    /// </summary>
    public SensuStatus Status =>
        IsCritical ? SensuStatus.CRITICAL
        : CriticalInstances.Count > 0 ? SensuStatus.WARNING
        : Unchecked.Count > 0 ? SensuStatus.UNKNOWN
        : SensuStatus.OK;

    /// <summary>
    /// The check command's exit code, 0 OK, 1 WARNING, 2 CRITICAL (issue 7). UNKNOWN exits 1: a check that could not
    /// run is a warning to Sensu, as PaaSTA's script is when it crashes.
    /// </summary>
    public int ExitCode => Status switch
    {
        SensuStatus.OK => 0,
        SensuStatus.CRITICAL => 2,
        _ => 1,
    };

    /// <summary>One line for a check command's output.</summary>
    public string Output
    {
        get
        {
            var pct = PercentUnderReplicated.ToString("0.##", CultureInfo.InvariantCulture);
            var crit = CriticalPercent.ToString("0.##", CultureInfo.InvariantCulture);
            var text = $"{Status}: {Checked} instance(s) checked on {Cluster}; {UnderReplicated} of {MeshChecked} mesh-checked under-replicated ({pct}%, critical at >= {crit}% and >= {MinCountCritical})";
            if (CriticalInstances.Count > 0) text += $"; critical: {string.Join(", ", CriticalInstances)}";
            if (Unchecked.Count > 0) text += $"; not checked: {string.Join(", ", Unchecked)}";
            return text;
        }
    }

    public override string ToString() => Output;
}
