using Paasta.Yaml;

namespace Paasta.Config;

/// <summary>What a step of deploy.yaml's pipeline is (docs/BEHAVIOUR.md §1.6).</summary>
public enum PipelineStepKind : long
{
    /// <summary>A deploy group: marking a commit for it deploys its instances.</summary>
    DeployGroup,
    /// <summary>A build or check step Jenkins runs (itest, security-check, push-to-registry, performance-check…).</summary>
    Build,
    /// <summary>A <c>command-…</c> step: a script Jenkins runs.</summary>
    Command,
}

/// <summary>
/// One step of deploy.yaml's pipeline with the settings a deploy reads. The steps of a <c>parallel</c> block share
/// one <see cref="Stage"/>; the block's <c>trigger_next_step_manually</c> applies to each of them.
/// </summary>
public sealed record PipelineStep
{
    public required string Name { get; init; }
    public PipelineStepKind Kind { get; init; }
    /// <summary>The index of the top-level pipeline entry (a parallel block is one stage).</summary>
    public int Stage { get; init; }
    /// <summary><c>disabled: true</c>: the step is not run.</summary>
    public bool Disabled { get; init; }
    /// <summary><c>trigger_next_step_manually</c>: someone approves before the next stage starts.</summary>
    public bool TriggerNextStepManually { get; init; }
    /// <summary><c>auto_rollback</c>; null when not set (PaaSTA's default is off).</summary>
    public bool? AutoRollback { get; init; }
    /// <summary><c>timeout</c> in seconds; null when not set.</summary>
    public int? TimeoutSeconds { get; init; }
    /// <summary><c>enable_crashloop_auto_rollback</c>; null when not set.</summary>
    public bool? EnableCrashloopAutoRollback { get; init; }
    /// <summary><c>min_restarts_for_crashloop_rollback</c> (PaaSTA's default 2).</summary>
    public int MinRestartsForCrashloopRollback { get; init; } = 2;
    /// <summary><c>crashloop_rollback_percentage_threshold</c>, 0–1 (PaaSTA's default 1.0: every new copy).</summary>
    public double CrashloopRollbackPercentageThreshold { get; init; } = 1.0;
    public string? File { get; init; }
    public int Line { get; init; }

    public override string ToString() => Name;
}

/// <summary>Reads deploy.yaml's pipeline.</summary>
public static class DeployPipeline
{
    // PaaSTA's DEPLOY_PIPELINE_NON_DEPLOY_STEPS: every other step (but command-*) names a deploy group.
    private static readonly HashSet<string> PaastaNonDeploySteps = new(StringComparer.Ordinal)
        { "itest", "itest-and-push-to-registry", "security-check", "push-to-registry" };

    // Steps PaaSTA's own documentation shows as checks that Jenkins runs, though its code would take them for deploy
    // groups; no instance uses them as one (docs/DIFFERENCES.md, "Deploying through the pipeline").
    private static readonly HashSet<string> CheckSteps = new(StringComparer.Ordinal) { "performance-check" };

    /// <summary>Whether PaaSTA counts the step as a deploy group (is_deploy_step).</summary>
    public static bool IsDeployStep(string name) => !PaastaNonDeploySteps.Contains(name) && !name.StartsWith("command-", StringComparison.Ordinal);

    /// <summary>The steps in pipeline order, parallel blocks flattened; entries that are no mapping with a step name are left out.</summary>
    public static IReadOnlyList<PipelineStep> Read(YMapping? deploy)
    {
        var steps = new List<PipelineStep>();
        if (deploy?["pipeline"] is not YSequence pipeline) return steps;
        for (var stage = 0; stage < pipeline.Items.Count; stage++)
        {
            if (pipeline.Items[stage] is not YMapping entry) continue;
            var manual = Bool(entry["trigger_next_step_manually"]) ?? false;
            if (Name(entry) is { } name) steps.Add(Step(entry, name, stage, manual));
            if (entry["parallel"] is YSequence block)
                foreach (var item in block.Items.OfType<YMapping>())
                    if (Name(item) is { } inner) steps.Add(Step(item, inner, stage, manual || (Bool(item["trigger_next_step_manually"]) ?? false)));
        }
        return steps;
    }

    private static PipelineStep Step(YMapping step, string name, int stage, bool manual) => new()
    {
        Name = name,
        Kind = name.StartsWith("command-", StringComparison.Ordinal) ? PipelineStepKind.Command
            : PaastaNonDeploySteps.Contains(name) || CheckSteps.Contains(name) ? PipelineStepKind.Build
            : PipelineStepKind.DeployGroup,
        Stage = stage,
        Disabled = Bool(step["disabled"]) ?? false,
        TriggerNextStepManually = manual,
        AutoRollback = Bool(step["auto_rollback"]),
        TimeoutSeconds = Integer(step["timeout"]) is { } t && t > 0 ? (int)Math.Min(t, int.MaxValue) : null,
        EnableCrashloopAutoRollback = Bool(step["enable_crashloop_auto_rollback"]),
        MinRestartsForCrashloopRollback = Integer(step["min_restarts_for_crashloop_rollback"]) is { } m && m >= 0 ? (int)Math.Min(m, int.MaxValue) : 2,
        CrashloopRollbackPercentageThreshold = Number(step["crashloop_rollback_percentage_threshold"]) is { } p && p is >= 0 and <= 1 ? p : 1.0,
        File = step.File,
        Line = step.Line,
    };

    private static string? Name(YMapping step) => step["step"] is YScalar { Value: not null } s ? SoaConfigReader.ScalarText(s) : null;

    // Values of the wrong type are Test-PaastaConfig's to report (deploy_schema.json); here they count as not set.
    private static bool? Bool(YNode? node) => node is YScalar { Value: bool b } ? b : null;

    private static long? Integer(YNode? node) => node is YScalar { Value: long l } ? l : null;

    private static double? Number(YNode? node) => node switch
    {
        YScalar { Value: long l } => l,
        YScalar { Value: double d } when double.IsFinite(d) => d,
        _ => null,
    };
}
