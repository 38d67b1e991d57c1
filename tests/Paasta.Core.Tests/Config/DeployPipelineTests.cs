using Paasta.Config;
using Paasta.Kubernetes;

namespace Paasta.Tests.Config;

/// <summary>deploy.yaml's pipeline as Deploy-PaastaService reads it (docs/BEHAVIOUR.md §1.6), and when new copies fail for good.</summary>
public sealed class DeployPipelineTests : IDisposable
{
    private readonly TempSoaDir _soa = new();

    public void Dispose() => _soa.Dispose();

    private IReadOnlyList<PipelineStep> Read(string pipeline)
    {
        _soa.Write("svc/service.yaml", "description: t\n");
        _soa.Write("svc/deploy.yaml", "pipeline:\n" + pipeline);
        return new SoaConfigReader(_soa.Root).LoadService("svc").Pipeline;
    }

    [Fact]
    public void Steps_keep_their_order_kind_and_settings_and_a_parallel_block_is_one_stage()
    {
        var steps = Read("""
            - step: itest
            - step: command-lint
            - step: performance-check
            - step: prod.canary
              trigger_next_step_manually: true
              auto_rollback: true
              timeout: 600
              enable_crashloop_auto_rollback: false
              min_restarts_for_crashloop_rollback: 4
              crashloop_rollback_percentage_threshold: 0.5
            - parallel:
              - step: prod.a
              - step: prod.b
                disabled: true
              trigger_next_step_manually: true
            - step: prod.main
            """);
        Assert.Equal(new[] { "itest", "command-lint", "performance-check", "prod.canary", "prod.a", "prod.b", "prod.main" }, steps.Select(s => s.Name));
        Assert.Equal(new[] { PipelineStepKind.Build, PipelineStepKind.Command, PipelineStepKind.Build, PipelineStepKind.DeployGroup, PipelineStepKind.DeployGroup, PipelineStepKind.DeployGroup, PipelineStepKind.DeployGroup },
            steps.Select(s => s.Kind));
        Assert.Equal(new[] { 0, 1, 2, 3, 4, 4, 5 }, steps.Select(s => s.Stage));
        var canary = steps[3];
        Assert.True(canary.TriggerNextStepManually);
        Assert.True(canary.AutoRollback);
        Assert.Equal(600, canary.TimeoutSeconds);
        Assert.False(canary.EnableCrashloopAutoRollback);
        Assert.Equal(4, canary.MinRestartsForCrashloopRollback);
        Assert.Equal(0.5, canary.CrashloopRollbackPercentageThreshold);
        Assert.Equal(5, canary.Line); // deploy.yaml line 5 (the pipeline key is line 1)
        Assert.All(steps.Where(s => s.Stage == 4), s => Assert.True(s.TriggerNextStepManually));
        Assert.True(steps[5].Disabled);
        var main = steps[6];
        Assert.False(main.TriggerNextStepManually);
        Assert.Null(main.AutoRollback);
        Assert.Null(main.TimeoutSeconds);
        Assert.Equal((2, 1.0), (main.MinRestartsForCrashloopRollback, main.CrashloopRollbackPercentageThreshold));
    }

    [Fact]
    public void Values_of_the_wrong_type_count_as_not_set()
    {
        var step = Assert.Single(Read("- step: prod.main\n  auto_rollback: sure\n  timeout: soon\n  crashloop_rollback_percentage_threshold: 3\n"));
        Assert.Null(step.AutoRollback);
        Assert.Null(step.TimeoutSeconds);
        Assert.Equal(1.0, step.CrashloopRollbackPercentageThreshold);
    }

    [Fact]
    public void The_deploy_groups_of_a_service_follow_PaaSTAs_rule_which_takes_performance_check_for_one()
    {
        Read("- step: itest\n- step: performance-check\n- step: command-x\n- step: prod.main\n");
        Assert.Equal(new[] { "performance-check", "prod.main" }, new SoaConfigReader(_soa.Root).LoadService("svc").DeployGroups);
    }

    // ---------------------------------------------------------------- failing copies

    private const string Sha = "4ef01b5a574b519ab546309e89f72972a33b6b75";

    private static InstanceStatus Status(params PaastaPod[] pods) => new()
    {
        Service = "svc", Cluster = "c1", Instance = "main", State = "Bouncing", Replicas = pods.Length, Pods = pods,
    };

    private static PaastaPod Pod(string sha, bool ready, int restarts = 0, string? reason = null) => new()
    {
        Name = Guid.NewGuid().ToString("N")[..6], Namespace = "ns", Service = "svc", Instance = "main", GitSha = sha, Ready = ready, Restarts = restarts, Reason = reason,
    };

    [Fact]
    public void New_copies_fail_for_good_when_enough_of_them_crash_loop_or_cannot_pull_their_image()
    {
        var rule = new DeploymentProgress.FailingPodsRule();
        Assert.Null(DeploymentProgress.Failing(Status(Pod(Sha, false, 1, "CrashLoopBackOff")), Sha, null, rule));
        Assert.Contains("restarted 2+ times", DeploymentProgress.Failing(Status(Pod(Sha, false, 2, "CrashLoopBackOff")), Sha, null, rule));
        // Every new copy must fail (threshold 1.0); old copies do not count.
        Assert.Null(DeploymentProgress.Failing(Status(Pod(Sha, false, 5, "CrashLoopBackOff"), Pod(Sha, true)), Sha, null, rule));
        Assert.NotNull(DeploymentProgress.Failing(Status(Pod(Sha, false, 5, "CrashLoopBackOff"), Pod(Sha, true)), Sha, null, rule with { Fraction = 0.5 }));
        Assert.Null(DeploymentProgress.Failing(Status(Pod("0123456789", false, 9, "CrashLoopBackOff")), Sha, null, rule));
        Assert.Contains("cannot pull their image", DeploymentProgress.Failing(Status(Pod(Sha, false, 0, "ImagePullBackOff")), Sha, null, rule));
        // A first failed pull may be a registry hiccup; Kubernetes backing off is not.
        Assert.Null(DeploymentProgress.Failing(Status(Pod(Sha, false, 0, "ErrImagePull")), Sha, null, rule));
        // A copy that restarted and is ready again is not failing.
        Assert.Null(DeploymentProgress.Failing(Status(Pod(Sha, true, 4)), Sha, null, rule));
    }
}
