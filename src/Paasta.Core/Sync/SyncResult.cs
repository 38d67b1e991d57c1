using Paasta.Bounce;

namespace Paasta.Sync;

/// <summary>What a sync did (or, under -WhatIf, would do) to an instance's controller.</summary>
// long: ConvertTo-Json writes 64-bit enums by name, which runbooks parsing JSON need (docs/OUTPUT.md).
public enum SyncAction : long
{
    /// <summary>Everything already matched; nothing was written.</summary>
    Unchanged,
    /// <summary>The Deployment/StatefulSet did not exist and was created (with its namespace when missing).</summary>
    Created,
    /// <summary>The version or config_sha changed: the controller was replaced, which rolls out new pods.</summary>
    Updated,
    /// <summary>Only the replica count changed: scaled without replacing any pod.</summary>
    Scaled,
    /// <summary>The controller matched; its PodDisruptionBudget or HorizontalPodAutoscaler was brought in line.</summary>
    Reconciled,
    /// <summary>A bounce is under way: this pass drained or removed old copies, or waits for new ones to be ready.</summary>
    Bouncing,
    /// <summary>The deploy group has no deployment in deployments.json yet: nothing to run.</summary>
    NoDeployment,
    /// <summary>The instance could not be built or written; Message says why.</summary>
    Failed,
    /// <summary>-Prune: the instance is gone from soa-configs; its copies were drained and its objects deleted.</summary>
    Removed,
    /// <summary>-Prune: the instance is gone from soa-configs; its copies are draining, and its objects go once all are safe to kill.</summary>
    Removing,
}

/// <summary>What one Sync pass did (or, under -WhatIf, would do) to one instance.</summary>
public sealed record SyncResult
{
    public required string Service { get; init; }
    public required string Cluster { get; init; }
    public required string Instance { get; init; }
    public string? Namespace { get; init; }
    /// <summary>The controller's name (sanitised service-instance).</summary>
    public string? Name { get; init; }
    /// <summary>Deployment or StatefulSet.</summary>
    public string? Kind { get; init; }
    public SyncAction Action { get; init; }
    /// <summary>True when -WhatIf (or a "no" to -Confirm) kept the change from being made.</summary>
    public bool WhatIf { get; init; }
    public string? OldConfigSha { get; init; }
    public string? NewConfigSha { get; init; }
    public string? OldGitSha { get; init; }
    public string? NewGitSha { get; init; }
    public string? OldImageVersion { get; init; }
    public string? NewImageVersion { get; init; }
    public int? OldReplicas { get; init; }
    public int? NewReplicas { get; init; }
    /// <summary>Ready pods of the live controller when the pass read it.</summary>
    public int? ReadyReplicas { get; init; }
    public string? DesiredState { get; init; }
    /// <summary>One line per object written (or to be written): verb, kind, namespace/name.</summary>
    public IReadOnlyList<string> Changes { get; init; } = Array.Empty<string>();
    /// <summary>The readable diff: each change followed by its field-level differences, indented.</summary>
    public string Diff { get; init; } = "";
    public string? Message { get; init; }
    /// <summary>What the bounce engine saw and did this pass (Deployments that bounce or stop); null otherwise.</summary>
    public BounceProgress? Bounce { get; init; }
    /// <summary>True while old copies remain to be drained and removed.</summary>
    public bool BounceInProgress => Bounce?.InProgress ?? false;
    /// <summary>Not there yet: a bounce is under way, or fewer copies are ready than wanted.</summary>
    public bool Converging => Action is not (SyncAction.Failed or SyncAction.NoDeployment) && !WhatIf
        && (BounceInProgress || (NewReplicas ?? 0) > (ReadyReplicas ?? 0));

    /// <summary>The action, marked with '?' when it was only shown (-WhatIf).</summary>
    public string Outcome => WhatIf ? $"{Action}?" : Action.ToString();
    /// <summary>The changes on one line, or the message when there are none.</summary>
    public string Summary => Changes.Count > 0 ? string.Join("; ", Changes) : Message ?? "";

    public override string ToString() => $"{Service}.{Instance} on {Cluster}: {Action}{(Changes.Count > 0 ? " (" + string.Join("; ", Changes) + ")" : "")}";
}
