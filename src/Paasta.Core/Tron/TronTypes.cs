
namespace Paasta.Tron;

/// <summary>A Tron namespace's configuration as Paasta generates it: the YAML the Tron master stores.</summary>
public sealed class TronNamespaceConfig
{
    /// <summary>The namespace: the service's name, or MASTER.</summary>
    public required string Namespace { get; init; }
    public required string Cluster { get; init; }
    /// <summary>The jobs in the namespace (empty for MASTER).</summary>
    public IReadOnlyList<string> Jobs { get; init; } = Array.Empty<string>();
    /// <summary>The jobs as one line, for tables.</summary>
    public string JobList => string.Join(", ", Jobs);
    /// <summary>The YAML text, byte for byte what PaaSTA's setup_tron_namespace sends.</summary>
    public required string Yaml { get; init; }
    /// <summary>SHA-1 of the YAML text: the hash a Tron master reports for this config once stored.</summary>
    public string Hash => TronConfigBuilder.Sha1(Yaml);
    /// <summary>Actions that got docker_image "" (no deployment yet) and similar notes.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = Array.Empty<string>();
    /// <summary>The soa-configs file the config was made from.</summary>
    public string? Source { get; init; }
    /// <summary>True when a job has a paasta, ssh or spark action (setup_tron_namespace --all includes only such namespaces).</summary>
    public bool HasSchedulableAction { get; init; }
    /// <summary>Jobs of the file left out of this namespace because they are invalid (each to be reported).</summary>
    public IReadOnlyList<TronJobProblem> InvalidJobs { get; init; } = Array.Empty<TronJobProblem>();
    /// <summary>Jobs written with enabled: false because deployments.json stops one of their actions (until the next deploy).</summary>
    public IReadOnlyList<TronStoppedJob> StoppedJobs { get; init; } = Array.Empty<TronStoppedJob>();
    public override string ToString() => Yaml;
}

// long: ConvertTo-Json writes 64-bit enums by name, which runbooks parsing JSON need (docs/OUTPUT.md).
public enum TronSyncAction : long
{
    Unchanged,
    Updated,
    Failed,
}

/// <summary>What Sync-PaastaTronNamespace did (or, under -WhatIf, would do) to one namespace of a Tron master.</summary>
public sealed record TronNamespaceSyncResult
{
    public required string Namespace { get; init; }
    public required string Cluster { get; init; }
    public required string TronUrl { get; init; }
    public TronSyncAction Action { get; init; }
    public bool WhatIf { get; init; }
    /// <summary>The hash the master held before (sent back with the update, as the protocol requires).</summary>
    public string? OldHash { get; init; }
    /// <summary>The hash of the config Paasta generated (what the master holds after an update).</summary>
    public string? NewHash { get; init; }
    /// <summary>A unified diff from the master's config to the generated one; empty when unchanged.</summary>
    public string Diff { get; init; } = "";
    public IReadOnlyList<string> Jobs { get; init; } = Array.Empty<string>();
    public string? Message { get; init; }

    public override string ToString() => $"{Namespace} on {Cluster}: {Action}{(WhatIf ? " (WhatIf)" : "")}";
}

/// <summary>A job written with enabled: false, and the actions whose deploy groups deployments.json stops.</summary>
public sealed record TronStoppedJob(string Job, IReadOnlyList<string> Actions)
{
    public override string ToString() => $"{Job} (stopped: {string.Join(", ", Actions)})";
}
