namespace Paasta.Jobs;

// long: ConvertTo-Json writes 64-bit enums by name, which runbooks parsing JSON need (docs/OUTPUT.md).
public enum JobSyncAction : long
{
    Unchanged,
    Created,
    Updated,
    Deleted,
    NoDeployment,
    Failed,
}

/// <summary>What Sync-PaastaJob did (or, under -WhatIf, would do) to the CronJob of one Tron job.</summary>
public sealed record JobSyncResult
{
    public required string Service { get; init; }
    public required string Cluster { get; init; }
    public required string Job { get; init; }
    public string? Namespace { get; init; }
    /// <summary>The CronJob's name.</summary>
    public string? Name { get; init; }
    public JobSyncAction Action { get; init; }
    public bool WhatIf { get; init; }
    /// <summary>The Kubernetes cron schedule (translated from the Tron schedule).</summary>
    public string? Schedule { get; init; }
    public string? TronSchedule { get; init; }
    public bool Suspended { get; init; }
    /// <summary>The actions deployments.json says to stop; while there is one the CronJob is suspended (until the next deploy).</summary>
    public IReadOnlyList<string> StoppedActions { get; init; } = Array.Empty<string>();
    public string? OldConfigSha { get; init; }
    public string? NewConfigSha { get; init; }
    /// <summary>batch/v1 or batch/v1beta1: the CronJob API the cluster serves.</summary>
    public string? ApiVersion { get; init; }
    /// <summary>The actions in the order they run (each after the actions it requires).</summary>
    public IReadOnlyList<string> Actions { get; init; } = Array.Empty<string>();
    public IReadOnlyList<string> Changes { get; init; } = Array.Empty<string>();
    /// <summary>What the translation could not carry over (jitter, interval alignment), or why it failed.</summary>
    public IReadOnlyList<string> Notes { get; init; } = Array.Empty<string>();
    public string? Message { get; init; }
    /// <summary>The message, else the changes, as one line for tables.</summary>
    public string Summary => Message ?? string.Join("; ", Changes);

    public override string ToString() => $"{Service}.{Job} on {Cluster}: {Action}{(Changes.Count > 0 ? " (" + string.Join("; ", Changes) + ")" : "")}";
}

// long: ConvertTo-Json writes 64-bit enums by name, which runbooks parsing JSON need (docs/OUTPUT.md).
public enum JobRunOutcome : long
{
    /// <summary>No run yet.</summary>
    None,
    Pending,
    Running,
    Succeeded,
    Failed,
}

/// <summary>A Tron job as it runs on Kubernetes: its CronJob, and its most recent run.</summary>
public sealed record JobInfo
{
    public required string Service { get; init; }
    public required string Cluster { get; init; }
    public required string Job { get; init; }
    public required string Namespace { get; init; }
    /// <summary>The CronJob's name.</summary>
    public required string Name { get; init; }
    public string? Schedule { get; init; }
    public string? TronSchedule { get; init; }
    /// <summary>True while the CronJob is suspended: enabled: false, or stopped.</summary>
    public bool Suspended { get; init; }
    /// <summary>True when it is suspended because deployments.json says stop for an action (Stop-PaastaInstance), until the next deploy.</summary>
    public bool Stopped => StoppedActions.Count > 0;
    /// <summary>The stopped actions (see <see cref="Stopped"/>).</summary>
    public IReadOnlyList<string> StoppedActions { get; init; } = Array.Empty<string>();
    public string? ConcurrencyPolicy { get; init; }
    public DateTime? LastScheduleTime { get; init; }
    /// <summary>Runs in progress.</summary>
    public int Active { get; init; }
    /// <summary>The Kubernetes Job of the most recent run.</summary>
    public string? LastRun { get; init; }
    public DateTime? LastRunStarted { get; init; }
    public DateTime? LastRunFinished { get; init; }
    public JobRunOutcome LastRunOutcome { get; init; }
    /// <summary>The action that failed in the last run, when it failed.</summary>
    public string? FailedAction { get; init; }
    public IReadOnlyList<string> Actions { get; init; } = Array.Empty<string>();
    public string? ConfigSha { get; init; }
    public string? ApiVersion { get; init; }

    public override string ToString() => $"{Service}.{Job} on {Cluster}: {(Stopped ? "stopped" : Suspended ? "suspended" : Schedule)}, last run {LastRunOutcome}";
}

/// <summary>One run of a job (a Kubernetes Job made from the CronJob's template), as Start-PaastaJob reports it.</summary>
public sealed record JobRun
{
    public required string Service { get; init; }
    public required string Cluster { get; init; }
    public required string Job { get; init; }
    public required string Namespace { get; init; }
    /// <summary>The Kubernetes Job's name.</summary>
    public required string Name { get; init; }
    public DateTime? Started { get; init; }
    public DateTime? Finished { get; init; }
    public JobRunOutcome Outcome { get; init; }
    public string? FailedAction { get; init; }
    /// <summary>The actions in run order.</summary>
    public IReadOnlyList<string> Actions { get; init; } = Array.Empty<string>();
    /// <summary>With -Wait: each action's output (container log), in run order.</summary>
    public IReadOnlyDictionary<string, string> Output { get; init; } = new Dictionary<string, string>();
    public TimeSpan? Duration => Started is { } s && Finished is { } f ? f - s : null;

    public override string ToString() => $"{Service}.{Job} run {Name}: {Outcome}";
}
