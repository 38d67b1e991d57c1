using Paasta.Config;
using Paasta.Validation;

namespace Paasta.Tests.Validation;

/// <summary>What `paasta validate` refuses and Test-PaastaConfig missed (issue 15), one rule per test.</summary>
public class PaastaValidateRulesTests
{
    private static IReadOnlyList<ConfigFinding> Validate(Action<TempSoaDir> write, string service = "svc")
    {
        using var soa = new TempSoaDir();
        soa.Service("svc", "backend", "prod.main");
        write(soa);
        return new ConfigValidator(new SoaConfigReader(soa.Root)).ValidateService(service);
    }

    private static IReadOnlyList<ConfigFinding> Errors(Action<TempSoaDir> write, string rule, string service = "svc") =>
        Validate(write, service).Where(f => f.RuleId == rule && f.Severity == FindingSeverity.Error).ToList();

    [Theory]
    [InlineData("  cpu_burst_add: 3\n", 1)]
    [InlineData("  cpu_burst_add: 2.5  # override-cpu-burst without a ticket\n", 1)]
    [InlineData("  cpu_burst_add: 3  # override-cpu-burst (startup spikes, see GOLD-123 for numbers)\n", 0)]
    [InlineData("  # override-cpu-burst (the line above does not count, GOLD-1 x)\n  cpu_burst_add: 3\n", 1)]
    [InlineData("  cpu_burst_add: 2\n", 0)]
    public void Cpu_burst_above_two_cores_needs_the_override_comment_on_its_line(string line, int expected)
    {
        var found = Errors(s => s.Write("svc/kubernetes-c1.yaml", "main:\n  deploy_group: prod.main\n" + line), "CpuBurstTooHigh");
        Assert.Equal(expected, found.Count);
        if (expected == 1) Assert.Equal("main.cpu_burst_add", found[0].Path);
    }

    [Fact]
    public void Cpu_burst_from_a_template_takes_the_templates_comment()
    {
        var found = Errors(s => s.Write("svc/kubernetes-c1.yaml", """
            _t: &t
              cpu_burst_add: 4  # override-cpu-burst (batch bursts, see GOLD-9 for why)
            a: {<<: *t, deploy_group: prod.main}
            _u: &u
              cpu_burst_add: 4
            b: {<<: *u, deploy_group: prod.main}
            """), "CpuBurstTooHigh");
        Assert.Equal("b.cpu_burst_add", Assert.Single(found).Path);
    }

    [Theory]
    [InlineData("  - {query: q}\n")]
    [InlineData("  - {query: q, upper_bound: null, lower_bound: null}\n")]
    [InlineData("  - {query: q, lower_bound: 0}\n")]
    public void Rollback_conditions_need_a_bound_that_is_set(string query)
    {
        var found = Errors(s => s.Write("svc/rollback-c1.yaml", "conditions:\n  prometheus:\n" + query), "RollbackBoundsMissing");
        Assert.Equal("conditions.prometheus", Assert.Single(found).Path);
        Assert.Empty(Errors(s => s.Write("svc/rollback-c1.yaml", "conditions:\n  prometheus:\n  - {query: q, upper_bound: 5}\n"), "RollbackBoundsMissing"));
    }

    [Fact]
    public void A_rollback_file_without_conditions_is_refused()
    {
        Assert.Single(Errors(s => s.Write("svc/rollback-c1.yaml", "enable_slo_rollback: true\n"), "RollbackConditionsMissing"));
    }

    [Fact]
    public void The_same_instance_name_in_two_instance_types_of_one_cluster_is_refused()
    {
        var found = Errors(s =>
        {
            s.Write("svc/kubernetes-c1.yaml", "main: {deploy_group: prod.main}\n");
            s.Write("svc/adhoc-c1.yaml", "main: {deploy_group: prod.main}\n");
            s.Write("svc/adhoc-c2.yaml", "other: {deploy_group: prod.main}\n");
            s.Write("svc/kubernetes-c2.yaml", "main: {deploy_group: prod.main}\n");
        }, "DuplicateInstanceName");
        Assert.Equal("main", Assert.Single(found).Path);
        Assert.Contains("c1", found[0].Message);
    }

    [Fact]
    public void A_service_folder_without_a_yaml_file_is_refused()
    {
        var found = Errors(s => s.Write("empty/notes.yml", "x: 1\n"), "ServiceHasNoYaml", "empty");
        Assert.Single(found);
    }

    [Theory]
    [InlineData("    deploy_group: prod.missing\n", "DeployGroupNotInPipeline")]
    [InlineData("", "TronDeployGroupMissing")]
    public void The_deploy_group_of_a_tron_cleanup_action_is_checked(string group, string rule)
    {
        var jobGroup = rule == "TronDeployGroupMissing" ? "" : "  deploy_group: prod.main\n";
        var found = Errors(s => s.Write("svc/tron-c1.yaml",
            "job:\n  schedule: daily 01:00:00\n" + jobGroup + "  actions:\n    run: {command: ./run, deploy_group: prod.main}\n  cleanup_action:\n    command: ./clean\n" + group), rule);
        Assert.Equal("job.cleanup.deploy_group", Assert.Single(found).Path);
    }

    [Theory]
    [InlineData("main: {deploy_group: prod.main, max_instances: 3, cpus: 1}\n", 1)]
    [InlineData("main: {deploy_group: prod.main, max_instances: 3, cpus: 1}  # override-cpu-setting (see GOLD-7 for why)\n", 0)]
    [InlineData("main: {deploy_group: prod.main, max_instances: 3}\n", 0)]
    [InlineData("main: {deploy_group: prod.main, max_instances: 3, autoscaling: {metrics_providers: [{type: uwsgi}, {type: uwsgi}]}}\n", 1)]
    [InlineData("main: {deploy_group: prod.main, max_instances: 3, autoscaling: {metrics_providers: [{type: uwsgi, decision_policy: bespoke}, {type: piscina}]}}\n", 1)]
    [InlineData("main: {deploy_group: prod.main, max_instances: 3, autoscaling: {metrics_providers: [{type: active-requests, setpoint: 0.5}]}}\n", 1)]
    [InlineData("main: {deploy_group: prod.main, max_instances: 3, autoscaling: {metrics_providers: [{type: arbitrary-promql}]}}\n", 1)]
    [InlineData("main: {deploy_group: prod.main, max_instances: 3, autoscaling: {metrics_providers: [{type: uwsgi, metrics_query: x}]}}\n", 1)]
    [InlineData("main: {deploy_group: prod.main, max_instances: 3, autoscaling: {metrics_providers: [{type: cpu}, {type: uwsgi}]}}\n", 1)]
    public void Autoscaling_settings_are_checked_as_paasta_validate_does(string yaml, int expected)
    {
        Assert.Equal(expected, Errors(s => s.Write("svc/kubernetes-c1.yaml", yaml), "AutoscalingConfigInvalid").Count);
    }

    [Fact]
    public void A_secret_without_its_soa_configs_file_is_a_warning()
    {
        var found = Validate(s =>
        {
            s.Write("svc/kubernetes-c1.yaml", "main:\n  deploy_group: prod.main\n  env: {A: SECRET(a), B: SHARED_SECRET(b), C: SECRET(c)}\n");
            s.Write("svc/secrets/c.json", "{}");
        }).Where(f => f.RuleId == "SecretFileMissing").ToList();
        Assert.Equal(new[] { "main.env.A", "main.env.B" }, found.Select(f => f.Path).Order());
        Assert.All(found, f => Assert.Equal(FindingSeverity.Warning, f.Severity));
    }
}
