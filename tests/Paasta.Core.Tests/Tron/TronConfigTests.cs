using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Paasta.Config;
using Paasta.Tron;
using Paasta.Validation;
using Paasta.Yaml;
using Paasta.Errors;
using Paasta.Settings;

namespace Paasta.Tests.Tron;

/// <summary>Tron jobs from soa-configs, the namespace config of docs/BEHAVIOUR.md §10.2 (byte for byte), MASTER, and the §10.3 protocol.</summary>
public class TronConfigTests
{
    internal const string Sha = "4ef01b5a574b519ab546309e89f72972a33b6b75";

    internal const string TronFile = """
        _action_defaults: &action_defaults
          cpus: 0.5
          mem: 100
        convert_logs:
          schedule: "daily 04:00:00"
          deploy_group: prod.non_canary
          monitoring: {page: true, runbook: y/rb}
          cost_owner: team-x
          expected_runtime: 2h
          actions:
            verify_logs_present:
              command: "ls /var/log/app/log_{shortdate-1}.txt"
              executor: ssh
            convert:
              <<: *action_defaults
              requires: [verify_logs_present]
              command: "convert_logs --input /var/log/app/log_{shortdate-1}.txt --output /nail/tmp/converted_{shortdate-1}.txt --verbose"
              retries: 2
              idempotent: true
              cap_add: [NET_RAW]
              node_selectors:
                instance_type: c5.xlarge
                zone: [a, b]
              extra_volumes:
              - {containerPath: /nail/tmp, hostPath: /tmp, mode: RW}
              env:
                MODE: fast
                WORKERS: "4"
                API_KEY: SECRET(api_key)
        hourly_report:
          schedule:
            type: cron
            value: "0 * * * *"
          time_zone: US/Pacific
          queueing: false
          run_limit: 10
          enabled: false
          deploy_group: prod.non_canary
          monitoring: {page: false}
          cleanup_action:
            command: rm -rf /tmp/report
          actions:
          - name: build
            command: make report
            deploy_group: prod.canary
            retries: 2
            iam_role: "arn:aws:iam::123:role/reports"
        """;

    /// <summary>What PaaSTA's create_complete_config dumps for <see cref="TronFile"/> (PyYAML CSafeDumper).</summary>
    internal const string ExpectedNamespace = """
        jobs:
          convert_logs:
            actions:
              convert:
                annotations:
                  paasta.yelp.com/instance: convert_logs.convert
                  paasta.yelp.com/routable_ip: 'false'
                  paasta.yelp.com/service: example_service
                cap_add:
                - NET_RAW
                cap_drop:
                - SETPCAP
                - MKNOD
                - AUDIT_WRITE
                - CHOWN
                - NET_RAW
                - DAC_OVERRIDE
                - FOWNER
                - FSETID
                - KILL
                - SETGID
                - SETUID
                - NET_BIND_SERVICE
                - SYS_CHROOT
                - SETFCAP
                command: convert_logs --input /var/log/app/log_{shortdate-1}.txt --output
                  /nail/tmp/converted_{shortdate-1}.txt --verbose
                cpus: 0.5
                disk: 4096
                docker_image: registry.example:443/services-example_service:paasta-4ef01b5a574b519ab546309e89f72972a33b6b75
                env:
                  AWS_SDK_UA_APP_ID: example_service.convert_logs.convert
                  ENABLE_PER_INSTANCE_LOGSPOUT: '1'
                  MODE: fast
                  PAASTA_CLUSTER: pnw-prod
                  PAASTA_DEPLOY_GROUP: prod.non_canary
                  PAASTA_DOCKER_IMAGE: services-example_service:paasta-4ef01b5a574b519ab546309e89f72972a33b6b75
                  PAASTA_GIT_SHA: 4ef01b5a
                  PAASTA_INSTANCE: convert_logs.convert
                  PAASTA_INSTANCE_TYPE: tron
                  PAASTA_MONITORING_TEAM: backend
                  PAASTA_RESOURCE_CPUS: '0.5'
                  PAASTA_RESOURCE_DISK: '4096'
                  PAASTA_RESOURCE_MEM: '100'
                  PAASTA_SERVICE: example_service
                  WORKERS: '4'
                executor: kubernetes
                extra_volumes:
                - container_path: /nail/tmp
                  host_path: /tmp
                  mode: RW
                field_selector_env:
                  PAASTA_POD_IP:
                    field_path: status.podIP
                idempotent: true
                labels:
                  app.kubernetes.io/managed-by: tron
                  paasta.yelp.com/cluster: pnw-prod
                  paasta.yelp.com/instance: convert_logs.convert
                  paasta.yelp.com/pool: default
                  paasta.yelp.com/service: example_service
                  tron.yelp.com/idempotent-action: 'true'
                  yelp.com/owner: compute_infra_platform_experience
                mem: 100
                node_affinities:
                - key: zone
                  operator: In
                  value:
                  - a
                  - b
                node_selectors:
                  node.kubernetes.io/instance-type: c5.xlarge
                  yelp.com/pool: default
                requires:
                - verify_logs_present
                retries: 2
                secret_env:
                  API_KEY:
                    key: api_key
                    secret_name: tron-secret-example--service-api--key
                secret_volumes: []
                topology_spread_constraints:
                - label_selector:
                    app.kubernetes.io/managed-by: tron
                    paasta.yelp.com/pool: default
                  max_skew: 1
                  topology_key: topology.kubernetes.io/zone
                  when_unsatisfiable: ScheduleAnyway
              verify_logs_present:
                command: ls /var/log/app/log_{shortdate-1}.txt
                executor: ssh
                idempotent: false
                secret_volumes: []
            expected_runtime: 2h
            monitoring:
              notification_email: backend@example.com
              page: true
              runbook: y/rb
              team: backend
            node: paasta
            schedule: daily 04:00:00
          hourly_report:
            actions:
              build:
                annotations:
                  paasta.yelp.com/instance: hourly_report.build
                  paasta.yelp.com/routable_ip: 'false'
                  paasta.yelp.com/service: example_service
                cap_add: []
                cap_drop:
                - SETPCAP
                - MKNOD
                - AUDIT_WRITE
                - CHOWN
                - NET_RAW
                - DAC_OVERRIDE
                - FOWNER
                - FSETID
                - KILL
                - SETGID
                - SETUID
                - NET_BIND_SERVICE
                - SYS_CHROOT
                - SETFCAP
                command: make report
                cpus: 1
                disk: 4096
                docker_image: ''
                env:
                  AWS_SDK_UA_APP_ID: example_service.hourly_report.build
                  ENABLE_PER_INSTANCE_LOGSPOUT: '1'
                  PAASTA_CLUSTER: pnw-prod
                  PAASTA_DEPLOY_GROUP: prod.canary
                  PAASTA_DOCKER_IMAGE: ''
                  PAASTA_GIT_SHA: ''
                  PAASTA_INSTANCE: hourly_report.build
                  PAASTA_INSTANCE_TYPE: tron
                  PAASTA_MONITORING_TEAM: backend
                  PAASTA_RESOURCE_CPUS: '1'
                  PAASTA_RESOURCE_DISK: '4096'
                  PAASTA_RESOURCE_MEM: '4096'
                  PAASTA_SERVICE: example_service
                executor: kubernetes
                extra_volumes: []
                field_selector_env:
                  PAASTA_POD_IP:
                    field_path: status.podIP
                idempotent: false
                labels:
                  app.kubernetes.io/managed-by: tron
                  paasta.yelp.com/cluster: pnw-prod
                  paasta.yelp.com/instance: hourly_report.build
                  paasta.yelp.com/pool: default
                  paasta.yelp.com/service: example_service
                  tron.yelp.com/idempotent-action: 'false'
                  yelp.com/owner: compute_infra_platform_experience
                mem: 4096
                node_selectors:
                  yelp.com/pool: default
                retries: 2
                secret_env: {}
                secret_volumes: []
                service_account_name: paasta--arn-aws-iam-123-role-reports
                topology_spread_constraints:
                - label_selector:
                    app.kubernetes.io/managed-by: tron
                    paasta.yelp.com/pool: default
                  max_skew: 1
                  topology_key: topology.kubernetes.io/zone
                  when_unsatisfiable: ScheduleAnyway
            cleanup_action:
              annotations:
                paasta.yelp.com/instance: hourly_report.cleanup
                paasta.yelp.com/routable_ip: 'false'
                paasta.yelp.com/service: example_service
              cap_add: []
              cap_drop:
              - SETPCAP
              - MKNOD
              - AUDIT_WRITE
              - CHOWN
              - NET_RAW
              - DAC_OVERRIDE
              - FOWNER
              - FSETID
              - KILL
              - SETGID
              - SETUID
              - NET_BIND_SERVICE
              - SYS_CHROOT
              - SETFCAP
              command: rm -rf /tmp/report
              cpus: 1
              disk: 4096
              docker_image: registry.example:443/services-example_service:paasta-4ef01b5a574b519ab546309e89f72972a33b6b75
              env:
                AWS_SDK_UA_APP_ID: example_service.hourly_report.cleanup
                ENABLE_PER_INSTANCE_LOGSPOUT: '1'
                PAASTA_CLUSTER: pnw-prod
                PAASTA_DEPLOY_GROUP: prod.non_canary
                PAASTA_DOCKER_IMAGE: services-example_service:paasta-4ef01b5a574b519ab546309e89f72972a33b6b75
                PAASTA_GIT_SHA: 4ef01b5a
                PAASTA_INSTANCE: hourly_report.cleanup
                PAASTA_INSTANCE_TYPE: tron
                PAASTA_MONITORING_TEAM: backend
                PAASTA_RESOURCE_CPUS: '1'
                PAASTA_RESOURCE_DISK: '4096'
                PAASTA_RESOURCE_MEM: '4096'
                PAASTA_SERVICE: example_service
              executor: kubernetes
              extra_volumes: []
              field_selector_env:
                PAASTA_POD_IP:
                  field_path: status.podIP
              idempotent: false
              labels:
                app.kubernetes.io/managed-by: tron
                paasta.yelp.com/cluster: pnw-prod
                paasta.yelp.com/instance: hourly_report.cleanup
                paasta.yelp.com/pool: default
                paasta.yelp.com/service: example_service
                tron.yelp.com/idempotent-action: 'false'
                yelp.com/owner: compute_infra_platform_experience
              mem: 4096
              node_selectors:
                yelp.com/pool: default
              secret_env: {}
              secret_volumes: []
              topology_spread_constraints:
              - label_selector:
                  app.kubernetes.io/managed-by: tron
                  paasta.yelp.com/pool: default
                max_skew: 1
                topology_key: topology.kubernetes.io/zone
                when_unsatisfiable: ScheduleAnyway
            enabled: false
            monitoring:
              notification_email: backend@example.com
              page: false
              team: backend
            node: paasta
            queueing: false
            run_limit: 10
            schedule:
              type: cron
              value: 0 * * * *
            time_zone: US/Pacific

        """;

    internal static TempSoaDir Fixture(string tronFile = TronFile, bool withDeployments = true)
    {
        var soa = new TempSoaDir();
        soa.Service("example_service", "backend", "prod.canary", "prod.non_canary");
        soa.Write("example_service/service.yaml", "description: test\nexternal_link: http://example\ndocker_registry: registry.example:443\n");
        soa.Write("example_service/monitoring.yaml", "team: backend\nnotification_email: backend@example.com\n");
        soa.Write("example_service/tron-pnw-prod.yaml", tronFile);
        if (withDeployments)
            soa.Write("example_service/deployments.json",
                """{"v1": {}, "v2": {"deployments": {"prod.non_canary": {"docker_image": "services-example_service:paasta-SHA", "git_sha": "SHA", "image_version": null}}, "controls": {}}}""".Replace("SHA", Sha));
        return soa;
    }

    private static TronNamespaceConfig Generate(TempSoaDir soa, string? registry = null)
    {
        var reader = new SoaConfigReader(soa.Root);
        var svc = reader.LoadService("example_service");
        var jobs = TronJobReader.Load(reader, svc, "pnw-prod");
        return TronConfigBuilder.BuildNamespace("example_service", "pnw-prod", jobs, new TronImageResolver(reader, registry, null));
    }

    [Fact]
    public void NamespaceConfigIsByteForByteWhatPaastaDumps()
    {
        using var soa = Fixture();
        var config = Generate(soa);
        Assert.Equal(ExpectedNamespace.Replace("\r\n", "\n"), config.Yaml);
        Assert.Equal(new[] { "convert_logs", "hourly_report" }, config.Jobs);
        Assert.Equal("example_service", config.Namespace);
        Assert.Equal(TronConfigBuilder.Sha1(config.Yaml), config.Hash);
        // prod.canary has never been deployed: the action still goes out, with docker_image "" and a warning.
        Assert.Contains(config.Warnings, w => w.Contains("hourly_report.build") && w.Contains("prod.canary"));
    }

    [Fact]
    public void SsmSecretsAreAcceptedButNotMergedIntoSecretEnv()
    {
        // Decision 8: AWS SSM is out of scope; the key is accepted, changes nothing, and a warning says so.
        using var plain = Fixture();
        using var soa = Fixture(TronFile.Replace("        API_KEY: SECRET(api_key)\n", "        API_KEY: SECRET(api_key)\n      ssm_secrets: [{name: db_password}]\n"));
        var config = Generate(soa);
        Assert.Equal(Generate(plain).Yaml, config.Yaml);
        Assert.Contains(config.Warnings, w => w.Contains("convert_logs.convert") && w.Contains("ssm_secrets"));
        Assert.DoesNotContain(Generate(plain).Warnings, w => w.Contains("ssm_secrets"));
    }

    [Fact]
    public void MissingDeploymentsFileGivesEmptyImagesAndWarns()
    {
        using var soa = Fixture(withDeployments: false);
        var config = Generate(soa);
        Assert.Contains("docker_image: ''", config.Yaml);
        Assert.DoesNotContain("registry.example", config.Yaml);
        Assert.Contains(config.Warnings, w => w.Contains("deployments.json"));
    }

    [Fact]
    public void RegistryParameterOverridesServiceYaml()
    {
        using var soa = Fixture();
        var config = Generate(soa, registry: "127.0.0.1:5000");
        Assert.Contains($"docker_image: 127.0.0.1:5000/services-example_service:paasta-{Sha}", config.Yaml);
    }

    [Fact]
    public void ServiceWithoutJobsForTheClusterGetsAnEmptyJobsMapping()
    {
        using var soa = Fixture();
        var reader = new SoaConfigReader(soa.Root);
        var jobs = TronJobReader.Load(reader, reader.LoadService("example_service"), "other-cluster");
        var config = TronConfigBuilder.BuildNamespace("example_service", "other-cluster", jobs, new TronImageResolver(reader, null, null));
        Assert.Equal("jobs: {}\n", config.Yaml);
    }

    [Fact]
    public void ActionsOfAnotherServiceUseThatServicesImageAndName()
    {
        using var soa = Fixture("""
            batch:
              schedule: cron 0 * * * *
              deploy_group: prod.main
              actions:
                run: {command: ./run, service: other_service}
            """);
        soa.Service("other_service", "backend", "prod.main");
        soa.Write("other_service/service.yaml", "description: other\nexternal_link: http://x\ndocker_registry: other.example\n");
        soa.Write("other_service/deployments.json", """{"v2": {"deployments": {"prod.main": {"docker_image": "services-other_service:paasta-abc12345", "git_sha": "abc12345", "image_version": "v2"}}, "controls": {}}}""");
        soa.Write("example_service/deploy.yaml", "pipeline:\n- step: prod.main\n");
        var config = Generate(soa);
        Assert.Contains("docker_image: other.example/services-other_service:paasta-abc12345", config.Yaml);
        Assert.Contains("PAASTA_SERVICE: other_service", config.Yaml);
        Assert.Contains("PAASTA_IMAGE_VERSION: v2", config.Yaml);
        Assert.Contains("paasta.yelp.com/service: other_service", config.Yaml);
    }

    [Theory]
    [InlineData("a:\n  schedule: cron 0 * * * *\n  deploy_group: prod.canary\n  actions:\n    x: {command: a, requires: [y]}\n    y: {command: b, requires: [x]}\n", "TronRequiresCycle")]
    [InlineData("a:\n  schedule: cron 0 * * * *\n  deploy_group: prod.canary\n  actions:\n    x: {command: a, requires: [nope]}\n", "TronUnknownRequiredAction")]
    [InlineData("a:\n  schedule: cron 0 * * * *\n  actions:\n    x: {command: a}\n", "TronDeployGroupMissing")]
    [InlineData("a:\n  schedule: cron 61 * * * *\n  deploy_group: prod.canary\n  actions:\n    x: {command: a}\n", "TronScheduleInvalid")]
    [InlineData("a:\n  schedule: {type: weekly, value: monday}\n  deploy_group: prod.canary\n  actions:\n    x: {command: a}\n", "TronScheduleInvalid")]
    [InlineData("a:\n  deploy_group: prod.canary\n  actions:\n    x: {command: a}\n", "MissingKey")]
    [InlineData("a:\n  schedule: daily\n  deploy_group: prod.canary\n  actions:\n    x: {command: a, cpus: lots}\n", "WrongType")]
    public void InvalidJobsRefuseTheWholeNamespace(string tronFile, string rule)
    {
        using var soa = Fixture(tronFile);
        var reader = new SoaConfigReader(soa.Root);
        var e = Assert.Throws<PaastaException>(() => TronJobReader.Load(reader, reader.LoadService("example_service"), "pnw-prod"));
        Assert.Equal("TronConfigInvalid", e.ErrorId);
        Assert.Contains($"[{rule}]", e.Message);
        Assert.EndsWith("tron-pnw-prod.yaml", e.File);
        Assert.True(e.Line > 0);
        // The same problem is what Test-PaastaConfig reports.
        Assert.Contains(new ConfigValidator(reader).ValidateService("example_service"), f => f.RuleId == rule);
    }

    [Fact]
    public void ValidatorReportsBadSchedulesWithTheirLine()
    {
        using var soa = Fixture("ok:\n  schedule: daily 04:00\n  deploy_group: prod.canary\n  actions: {x: {command: a}}\nbad:\n  schedule: interval soon\n  deploy_group: prod.canary\n  actions: {x: {command: a}}\n");
        var findings = new ConfigValidator(new SoaConfigReader(soa.Root)).ValidateService("example_service").Where(f => f.RuleId == "TronScheduleInvalid").ToList();
        var f = Assert.Single(findings);
        Assert.Equal(6, f.Line);
        Assert.Equal("bad.schedule", f.Path);
        Assert.Contains("interval soon", f.Message);
    }

    [Fact]
    public void RequiresOrderIsTopologicalAndKeepsWrittenOrderOtherwise()
    {
        using var soa = Fixture("j:\n  schedule: daily\n  deploy_group: prod.canary\n  actions:\n    last: {command: c, requires: [b, a]}\n    b: {command: b, requires: [a]}\n    a: {command: a}\n    free: {command: f}\n");
        var reader = new SoaConfigReader(soa.Root);
        var job = Assert.Single(TronJobReader.Load(reader, reader.LoadService("example_service"), "pnw-prod"));
        Assert.Equal(new[] { "a", "b", "last", "free" }, job.OrderedActions().Select(a => a.Name));
    }

    [Fact]
    public void MasterNamespaceIsMasterYamlDumpedWithDefaultVolumesWhenGiven()
    {
        using var soa = Fixture();
        soa.Write("tron/pnw-prod/MASTER.yaml", "state_persistence: {name: tron_state, store_type: shelve}\nk8s_options:\n  enabled: true\n  default_volumes: [{container_path: /old, host_path: /old, mode: RO}]\ntime_zone: US/Pacific\n");
        var master = TronConfigBuilder.BuildMaster(soa.Root, "pnw-prod")!;
        Assert.Equal("MASTER", master.Namespace);
        Assert.Equal("""
            k8s_options:
              default_volumes:
              - container_path: /old
                host_path: /old
                mode: RO
              enabled: true
            state_persistence:
              name: tron_state
              store_type: shelve
            time_zone: US/Pacific

            """.Replace("\r\n", "\n"), master.Yaml);
        var withVolumes = TronConfigBuilder.BuildMaster(soa.Root, "pnw-prod", new[] { new ExtraVolume("/nail/etc", "/nail/etc", "RO") })!;
        Assert.Contains("default_volumes:\n  - container_path: /nail/etc\n    host_path: /nail/etc\n    mode: RO\n", withVolumes.Yaml);
        Assert.Null(TronConfigBuilder.BuildMaster(soa.Root, "elsewhere"));
    }

    [Theory]
    [InlineData("jobs:\n  a: {node: paasta, run_limit: 1}\n", "jobs: {a: {run_limit: 1.0, node: paasta}}  # reordered\n", true)]
    [InlineData("jobs:\n  a: {enabled: true}\n", "jobs:\n  a: {enabled: 1}\n", true)]
    [InlineData("jobs:\n  a: {node: paasta}\n", "jobs:\n  a: {node: other}\n", false)]
    [InlineData("", "jobs: {}\n", false)]
    [InlineData("\njobs:\n", "jobs: {}\n", false)]
    [InlineData("jobs: [", "jobs: {}\n", false)]
    public void SameConfigComparesParsedYamlLikePython(string current, string proposed, bool same) =>
        Assert.Equal(same, TronClient.SameConfig(current, proposed));

    [Fact]
    public void DiffShowsChangedLinesWithContext()
    {
        var diff = TextDiff.Unified("a\nb\nc\nd\ne\nf\ng\nh\n", "a\nb\nc\nd\nE\nf\ng\nh\nI\n", "old", "new");
        Assert.Equal("--- old\n+++ new\n@@ -2,7 +2,8 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n+I\n", diff);
        Assert.Equal("", TextDiff.Unified("same\n", "same\n"));
        Assert.StartsWith("--- current\n+++ generated\n@@ -0,0 +1,1 @@\n+jobs: {}\n", TextDiff.Unified("", "jobs: {}\n"));
    }

    [Fact]
    public void PyYamlWriterMatchesBothPyYamlEmittersOnTheGoldenCorpus()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Here(), "Golden", "pyyaml-golden.json")));
        var cases = doc.RootElement.GetProperty("cases").EnumerateArray().ToList();
        Assert.True(cases.Count >= 300);
        var failures = new List<string>();
        foreach (var (c, i) in cases.Select((c, i) => (c, i)))
        {
            var value = Plain(c.GetProperty("value"));
            foreach (var (dumper, key) in new[] { (PyYamlDumper.CSafeDumper, "CSafeDumper"), (PyYamlDumper.SafeDumper, "SafeDumper") })
            {
                var expected = c.GetProperty(key).GetString();
                var actual = PyYamlWriter.Dump(value, dumper);
                if (actual != expected) failures.Add($"case {i} ({key}):\nexpected:\n{expected}\nactual:\n{actual}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(3)));
    }

    [Theory]
    [InlineData("plain text", "k: plain text\n")]
    [InlineData("", "k: ''\n")]
    [InlineData("true", "k: 'true'\n")]
    [InlineData("0777", "k: '0777'\n")]
    [InlineData("2024-01-01", "k: '2024-01-01'\n")]
    [InlineData("a: b", "k: 'a: b'\n")]
    [InlineData("it's", "k: it's\n")]
    [InlineData("- x", "k: '- x'\n")]
    [InlineData("tab\there", "k: \"tab\\there\"\n")]
    [InlineData("two\nlines", "k: 'two\n\n  lines'\n")]
    public void PyYamlWriterQuotesAsPyYamlDoes(string value, string expected) =>
        Assert.Equal(expected, PyYamlWriter.Dump(new Dictionary<string, object?> { ["k"] = value }));

    [Fact]
    public void PyYamlWriterRepresentsNumbersAsPython()
    {
        var yaml = PyYamlWriter.Dump(new Dictionary<string, object?> { ["i"] = 4096L, ["f"] = 0.5, ["one"] = 1.0, ["big"] = 1e17, ["small"] = 1e-5, ["n"] = null, ["b"] = false, ["l"] = new List<object?>(), ["m"] = new Dictionary<string, object?>() });
        Assert.Equal("b: false\nbig: 1.0e+17\nf: 0.5\ni: 4096\nl: []\nm: {}\nn: null\none: 1.0\nsmall: 1.0e-05\n", yaml);
    }

    [Fact]
    public async Task SyncPostsTheNewConfigWithTheHashItRead()
    {
        using var soa = Fixture();
        var config = Generate(soa);
        var handler = new RecordingHandler("""{"config": "jobs: {}\n", "hash": "abc123"}""", """{"status": "Active"}""");
        using var client = new TronClient(new Uri("http://tron.example:8089"), "tok", handler);
        var sync = new TronNamespaceSync(client);
        var (result, current) = await sync.PlanAsync(config, CancellationToken.None);
        Assert.Equal(TronSyncAction.Updated, result.Action);
        Assert.Equal("abc123", result.OldHash);
        Assert.Contains("+  convert_logs:", result.Diff);
        await sync.ApplyAsync(config, current, CancellationToken.None);

        Assert.Equal("http://tron.example:8089/api/config?name=example_service&no_header=1", handler.Requests[0].Url);
        Assert.Equal("GET", handler.Requests[0].Method);
        var post = handler.Requests[1];
        Assert.Equal("POST", post.Method);
        Assert.Equal("http://tron.example:8089/api/config", post.Url);
        Assert.Equal("application/x-www-form-urlencoded", post.ContentType);
        var form = post.Body.Split('&').Select(p => p.Split('=')).ToDictionary(p => p[0], p => WebUtility.UrlDecode(p[1]));
        Assert.Equal(new[] { "name", "config", "hash", "check" }, form.Keys);
        Assert.Equal("example_service", form["name"]);
        Assert.Equal(config.Yaml, form["config"]);
        Assert.Equal("abc123", form["hash"]);
        Assert.Equal("0", form["check"]);
        Assert.All(handler.Requests, r => Assert.Equal("Bearer tok", r.Authorization));
        Assert.All(handler.Requests, r => Assert.StartsWith("Paasta/", r.UserAgent));
    }

    [Fact]
    public async Task AnErrorInTheAnswerIsARefusal()
    {
        var handler = new RecordingHandler("""{"config": "", "hash": "h"}""", """{"status": "Active", "error": "Configuration update will fail: config is stale, try again"}""");
        using var client = new TronClient(new Uri("http://tron.example/"), null, handler);
        var e = await Assert.ThrowsAsync<PaastaException>(() => client.PostConfigAsync("svc", "jobs: {}\n", "h", CancellationToken.None));
        Assert.Equal("TronUpdateRefused", e.ErrorId);
        Assert.Contains("stale", e.Message);
    }

    [Fact]
    public async Task UnreachableMasterIsAConnectionError()
    {
        using var client = new TronClient(new Uri("http://127.0.0.1:9/"), null, null, TimeSpan.FromSeconds(5));
        var e = await Assert.ThrowsAsync<PaastaException>(() => client.GetConfigAsync("svc", CancellationToken.None));
        Assert.Equal("TronUnreachable", e.ErrorId);
        Assert.Equal(PaastaErrorKind.ConnectionError, e.Kind);
    }

    [Fact]
    public void TronUrlComesFromParameterEnvironmentOrSettings()
    {
        Assert.Equal("http://a:1/", TronClient.ResolveUrl(TestSettings.Given(new PaastaSettings { TronUrl = "http://a:1" }, new PaastaSettings())).ToString());
        Assert.Equal("http://b:2/", TronClient.ResolveUrl(TestSettings.Given(new PaastaSettings { TronUrl = null }, new PaastaSettings { TronUrl = "http://b:2" })).ToString());
        if (Environment.GetEnvironmentVariable("PAASTA_TRON_URL") is null)
            Assert.Equal("TronUrlNotConfigured", Assert.Throws<PaastaException>(() => TronClient.ResolveUrl(TestSettings.Given(new PaastaSettings { TronUrl = null }, new PaastaSettings()))).ErrorId);
        Assert.Equal("TronUrlNotConfigured", Assert.Throws<PaastaException>(() => TronClient.ResolveUrl(TestSettings.Given(new PaastaSettings { TronUrl = "ftp://x" }, new PaastaSettings()))).ErrorId);
    }

    [Fact]
    public void BearerTokenComesFromParameterOrEnvironmentAndIsRequiredWhenTronctlApiAuthIsSet()
    {
        static Func<string, string?> Env(params (string Name, string Value)[] vars) => n => vars.FirstOrDefault(v => v.Name == n).Value;
        Assert.Null(TronClient.ResolveToken(null, Env()));
        Assert.Equal("given", TronClient.ResolveToken("given", Env(("PAASTA_TRON_TOKEN", "env"), ("TRONCTL_API_AUTH", "1"))));
        Assert.Equal("env", TronClient.ResolveToken(null, Env(("PAASTA_TRON_TOKEN", "env"))));
        Assert.Equal("env", TronClient.ResolveToken("", Env(("PAASTA_TRON_TOKEN", "env"), ("TRONCTL_API_AUTH", "1"))));
        var e = Assert.Throws<PaastaException>(() => TronClient.ResolveToken(null, Env(("TRONCTL_API_AUTH", "1"))));
        Assert.Equal("TronTokenNotConfigured", e.ErrorId);
        Assert.Equal(PaastaErrorKind.InvalidOperation, e.Kind);
        Assert.Contains("PAASTA_TRON_TOKEN", e.Message);
    }

    internal sealed record Recorded(string Method, string Url, string? ContentType, string Body, string? Authorization, string UserAgent);

    private sealed class RecordingHandler : HttpMessageHandler
    {
        private readonly string _get;
        private readonly string _post;
        public RecordingHandler(string get, string post) { _get = get; _post = post; }
        public List<Recorded> Requests { get; } = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
            Requests.Add(new Recorded(request.Method.Method, request.RequestUri!.ToString(), request.Content?.Headers.ContentType?.MediaType, body,
                request.Headers.Authorization?.ToString(), request.Headers.UserAgent.ToString()));
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(request.Method == HttpMethod.Get ? _get : _post) };
        }
    }

    private static string Here([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    private static object? Plain(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => e.EnumerateObject().ToDictionary(p => p.Name, p => Plain(p.Value)),
        JsonValueKind.Array => e.EnumerateArray().Select(Plain).ToList(),
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.GetRawText().IndexOfAny(new[] { '.', 'e', 'E' }) >= 0 ? (object)e.GetDouble() : e.GetInt64(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };
}
