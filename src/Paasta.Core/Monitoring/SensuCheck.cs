namespace Paasta.Monitoring;

/// <summary>
/// A check result as a user or a replication result gives it (Send-PaastaSensuEvent's parameters): names and
/// durations as written (10m, 1h30m). <see cref="ToEvent"/> applies PaaSTA's defaults and conventions.
/// </summary>
public sealed record SensuCheck
{
    public required string Name { get; init; }
    public SensuStatus Status { get; init; }
    public string Output { get; init; } = "";
    /// <summary>Without a team nothing is sent (PaaSTA sends nothing then).</summary>
    public string? Team { get; init; }
    /// <summary>null: http://y/paasta-troubleshooting; empty: PaaSTA's placeholder.</summary>
    public string? Runbook { get; init; }
    public string? Tip { get; init; }
    public string? NotificationEmail { get; init; }
    public bool? Page { get; init; }
    public string CheckEvery { get; init; } = "1m";
    public string AlertAfter { get; init; } = "5m";
    public long RealertEvery { get; init; } = -1;
    public bool Ticket { get; init; }
    public string? Project { get; init; }
    public string? Priority { get; init; }
    public IReadOnlyList<string>? Tags { get; init; }
    public IReadOnlyList<string>? IrcChannels { get; init; }
    public IReadOnlyList<string>? SlackChannels { get; init; }
    public string? Component { get; init; }
    public string? Description { get; init; }
    /// <summary>The event's source; default paasta-CLUSTER when <see cref="Cluster"/> is given.</summary>
    public string? Source { get; init; }
    public string? Cluster { get; init; }
    public string? Ttl { get; init; }
    public IReadOnlyList<string>? Dependencies { get; init; }
    public string? Issuetype { get; init; }

    public bool HasTeam => !string.IsNullOrEmpty(Team);

    /// <summary>
    /// The event as it goes on the wire (docs/BEHAVIOUR.md §8.5): the name checked, durations in seconds, the
    /// default runbook and source. SensuEventNameInvalid or SensuDurationInvalid for what cannot be sent.
    /// </summary>
    public SensuEvent ToEvent()
    {
        SensuRules.ValidateName(Name);
        return new SensuEvent
        {
            Name = Name,
            Status = Status,
            Output = Output,
            Team = Team ?? "",
            Runbook = Runbook is null ? "http://y/paasta-troubleshooting" : Runbook.Length == 0 ? SensuRules.RunbookPlaceholder : Runbook,
            Tip = Tip,
            NotificationEmail = NotificationEmail,
            Interval = SensuRules.ToSeconds(CheckEvery, "CheckEvery"),
            Page = Page,
            RealertEvery = RealertEvery,
            Dependencies = Dependencies ?? Array.Empty<string>(),
            AlertAfter = SensuRules.ToSeconds(AlertAfter, "AlertAfter"),
            Ticket = Ticket,
            Project = Project,
            Priority = Priority,
            Source = !string.IsNullOrEmpty(Source) ? Source : !string.IsNullOrEmpty(Cluster) ? $"paasta-{Cluster}" : null,
            Tags = Tags ?? Array.Empty<string>(),
            Ttl = string.IsNullOrEmpty(Ttl) ? null : SensuRules.ToSeconds(Ttl, "Ttl"),
            Issuetype = Issuetype,
            IrcChannels = IrcChannels,
            SlackChannels = SlackChannels,
            Component = Component,
            Description = Description,
        };
    }
}
