using Paasta.Config;
using Paasta.Tron;

namespace Paasta.Tests.Tron;

/// <summary>The divergences of Tron namespaces from PaaSTA's that issue 15 and the golden harness found.</summary>
public class TronFidelityTests
{
    private static TronNamespaceConfig Generate(TempSoaDir soa)
    {
        var reader = new SoaConfigReader(soa.Root);
        return TronConfigBuilder.BuildServiceNamespace(reader, reader.LoadService("example_service"), "pnw-prod", new TronImageResolver(reader, null, null));
    }

    private const string Job = """
        nightly:
          schedule: daily 04:00:00
          deploy_group: prod.non_canary
          cost_owner: team-x
          actions:
            run:
              command: ./run
              uses_bulkdata: true
              extra_volumes:
              - {containerPath: /nail/tmp, hostPath: /nail/tmp, mode: RW}
              - {containerPath: /nail/tmp/, hostPath: /nail/tmp/, mode: RO}
              secret_volumes:
              - {container_path: /etc/a, secret_name: own_secret, default_mode: "0644"}
              - {container_path: /etc/b, secret_name: common_secret, items: [{key: common_secret, path: b.txt}]}
        """;

    [Fact]
    public void Secret_volumes_name_the_Secret_Tron_mounts_and_the_shared_form()
    {
        using var soa = TronConfigTests.Fixture(Job);
        soa.Write("_shared/secrets/common_secret.json", "{}");
        var yaml = Generate(soa).Yaml;
        Assert.Contains("""
                    - container_path: /etc/a
                      default_mode: '0644'
                      items: []
                      secret_name: own_secret
                      secret_volume_name: tron-secret-example--service-own--secret
                    - container_path: /etc/b
                      items:
                      - key: common_secret
                        path: b.txt
                      secret_name: common_secret
                      secret_volume_name: tron-secret-underscore-shared-common--secret
            """.Replace("\r\n", "\n"), yaml);
    }

    [Fact]
    public void Projected_sa_volumes_left_out_when_there_are_none_and_cost_owner_is_no_label()
    {
        using var soa = TronConfigTests.Fixture(Job);
        var yaml = Generate(soa).Yaml;
        Assert.DoesNotContain("projected_sa_volumes", yaml);
        Assert.DoesNotContain("cost_owner", yaml);
    }

    [Fact]
    public void Extra_volumes_include_bulkdata_deduplicated_and_sorted()
    {
        using var soa = TronConfigTests.Fixture(Job);
        Assert.Contains("""
                    extra_volumes:
                    - container_path: /nail/bulkdata
                      host_path: /nail/bulkdata
                      mode: RO
                    - container_path: /nail/tmp/
                      host_path: /nail/tmp/
                      mode: RO
                    field_selector_env:
            """.Replace("\r\n", "\n"), Generate(soa).Yaml);
    }

    [Fact]
    public void Actions_spread_across_zones_as_PaaSTA_does_by_default()
    {
        using var soa = TronConfigTests.Fixture(Job);
        Assert.Contains("""
                    topology_spread_constraints:
                    - label_selector:
                        app.kubernetes.io/managed-by: tron
                        paasta.yelp.com/pool: default
                      max_skew: 1
                      topology_key: topology.kubernetes.io/zone
                      when_unsatisfiable: ScheduleAnyway
            """.Replace("\r\n", "\n"), Generate(soa).Yaml);
    }

    [Fact]
    public void A_jobs_service_key_does_not_change_its_actions_image()
    {
        using var soa = TronConfigTests.Fixture("""
            batch:
              schedule: cron 0 * * * *
              service: other_service
              deploy_group: prod.non_canary
              actions:
                run: {command: ./run}
            """);
        var yaml = Generate(soa).Yaml;
        Assert.Contains("PAASTA_SERVICE: example_service", yaml);
        Assert.Contains($"docker_image: registry.example:443/services-example_service:paasta-{TronConfigTests.Sha}", yaml);
    }

    [Fact]
    public void Iam_role_service_account_collapses_each_run_of_other_characters()
    {
        Assert.Equal("paasta--arn-aws-iam-123-role-my-role", TronConfigBuilder.ServiceAccountForRole("arn:aws:iam::123:role/My_Role"));
    }

    [Fact]
    public void One_invalid_job_is_left_out_and_reported_the_valid_ones_stay()
    {
        using var soa = TronConfigTests.Fixture("""
            good:
              schedule: daily 01:00:00
              deploy_group: prod.non_canary
              actions:
                run: {command: ./run}
            bad_schedule:
              schedule: cron 61 * * * *
              deploy_group: prod.non_canary
              actions:
                run: {command: ./run}
            no_group:
              schedule: daily 02:00:00
              actions:
                run: {command: ./run}
            wrong_type:
              schedule: daily 03:00:00
              deploy_group: prod.non_canary
              actions:
                run: {command: ./run, cpus: lots}
            """);
        var config = Generate(soa);
        Assert.Equal(new[] { "good" }, config.Jobs);
        Assert.Contains("  good:\n", config.Yaml);
        Assert.Equal(new[] { "bad_schedule", "no_group", "wrong_type" }, config.InvalidJobs.Select(j => j.Job));
        var e = config.InvalidJobs[0].ToException();
        Assert.Equal("TronJobInvalid", e.ErrorId);
        Assert.Equal("example_service.bad_schedule", e.Target);
        Assert.Contains("[TronScheduleInvalid]", e.Message);
        Assert.True(e.Line > 0);
        Assert.Contains(config.InvalidJobs[1].Findings, f => f.RuleId == "TronDeployGroupMissing");
        Assert.Contains(config.InvalidJobs[2].Findings, f => f.RuleId == "WrongType");
    }

    [Fact]
    public void A_problem_outside_any_job_still_refuses_the_file()
    {
        using var soa = TronConfigTests.Fixture("""
            _template: &t {command: ./run, cpus: lots}
            good:
              schedule: daily 01:00:00
              deploy_group: prod.non_canary
              actions:
                run: {<<: *t}
            """);
        var e = Assert.Throws<Paasta.Errors.PaastaException>(() => Generate(soa));
        Assert.Equal("TronConfigInvalid", e.ErrorId);
    }

    [Fact]
    public void Check_every_is_no_tron_monitoring_key()
    {
        using var soa = TronConfigTests.Fixture("""
            job:
              schedule: daily 01:00:00
              deploy_group: prod.non_canary
              actions:
                run: {command: ./run}
            """);
        soa.Write("example_service/monitoring.yaml", "team: backend\ncheck_every: 1m\n");
        Assert.DoesNotContain("check_every", Generate(soa).Yaml);
        soa.Write("example_service/tron-pnw-prod.yaml", "job:\n  schedule: daily 01:00:00\n  deploy_group: prod.non_canary\n  monitoring: {check_every: 1m}\n  actions:\n    run: {command: ./run}\n");
        var findings = new Paasta.Validation.ConfigValidator(new SoaConfigReader(soa.Root)).ValidateService("example_service");
        Assert.Contains(findings, f => f.RuleId == "UnknownKey" && f.Path == "job.monitoring.check_every");
    }
}
