namespace Paasta.Config;

/// <summary>Resolved alerting settings of an instance (docs/BEHAVIOUR.md §1.5): instance <c>monitoring</c> over monitoring.yaml over service.yaml.</summary>
public sealed class MonitoringConfig
{
    public const string DefaultRunbook = "Please set a `runbook` field in monitoring.yaml";
    public const string DefaultTip = "Please set a `tip` field in monitoring.yaml";

    public string? Team { get; init; }
    public bool Page { get; init; }
    public string Runbook { get; init; } = DefaultRunbook;
    public string Tip { get; init; } = DefaultTip;
    public string? NotificationEmail { get; init; }
    public IReadOnlyList<string> IrcChannels { get; init; } = Array.Empty<string>();
    public IReadOnlyList<string> SlackChannels { get; init; } = Array.Empty<string>();
    public bool Ticket { get; init; }
    public string? Project { get; init; }
    public string? Priority { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = Array.Empty<string>();
    public string? Component { get; init; }
    public string? Description { get; init; }
    /// <summary>How long a check may fail before it alerts; the replication check's default is 10m.</summary>
    public string AlertAfter { get; init; } = "10m";
    /// <summary>-1 means exponential back-off between repeated alerts.</summary>
    public long RealertEvery { get; init; } = -1;
    public string CheckEvery { get; init; } = "1m";
    public bool CheckOomEvents { get; init; } = true;
    /// <summary>Every key as resolved, including ones Paasta does not interpret.</summary>
    public IReadOnlyDictionary<string, object?> All { get; init; } = new Dictionary<string, object?>();

    public override string ToString() => Team is null ? "(no team)" : $"team {Team}{(Page ? ", pages" : "")}";
}
