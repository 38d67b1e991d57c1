using System.Text.Json.Nodes;
using Paasta.Config;
using Paasta.Jobs;
using Paasta.Tron;
using Paasta.Errors;

namespace Paasta.Tests.Jobs;

/// <summary>Tron jobs → CronJob bodies: order, schedule, suspension, overlap, labels, config_sha, and refusals.</summary>
public class CronJobBuilderTests
{
    private const string Sha = "4ef01b5a574b519ab546309e89f72972a33b6b75";

    private const string Jobs = """
        report:
          schedule: "daily 04:30:00 MWF"
          deploy_group: prod.main
          actions:
            publish:
              requires: [render]
              command: "publish --day {shortdate-1}"
              cpus: 0.25
              mem: 256
              env: {MODE: fast}
            collect:
              command: "collect"
              cpus: 0.5
              mem: 128
              disk: 512
            render:
              requires: [collect]
              command: "render {name}"
        paused:
          schedule: "interval 15m"
          enabled: false
          allow_overlap: true
          run_limit: 7
          max_runtime: 30m
          deploy_group: prod.main
          actions:
            only:
              command: "true"
        monthly:
          schedule: "7th of month at 11:00"
          deploy_group: prod.main
          actions:
            run:
              command: "true"
        remote:
          schedule: "cron 0 * * * *"
          actions:
            ssh_step:
              command: "uptime"
              executor: ssh
        zoned:
          schedule: "cron 0 9 * * *"
          time_zone: Europe/Paris
          deploy_group: prod.main
          actions:
            run:
              command: "true"
        """;

    private static (IReadOnlyList<TronJob> Jobs, TronImageResolver Images, TempSoaDir Soa) Load(string tronFile = Jobs)
    {
        var soa = new TempSoaDir();
        soa.Service("svc_a", "backend", "prod.main");
        soa.Write("svc_a/service.yaml", "description: test\nexternal_link: http://example\ndocker_registry: registry.example:443\n");
        soa.Write("svc_a/tron-pnw-prod.yaml", tronFile);
        soa.Write("svc_a/deployments.json",
            """{"v2": {"deployments": {"prod.main": {"docker_image": "services-svc_a:paasta-SHA", "git_sha": "SHA", "image_version": null}}, "controls": {}}}""".Replace("SHA", Sha));
        var reader = new SoaConfigReader(soa.Root);
        var jobs = TronJobReader.Load(reader, reader.LoadService("svc_a"), "pnw-prod");
        return (jobs, new TronImageResolver(reader, null, null), soa);
    }

    /// <summary>Kubernetes 1.20 (this project's platform), 1.24 (batch/v1, no time zones yet) and 1.25 (time zones).</summary>
    internal static readonly CronJobTarget V1beta1 = new("batch/v1beta1", false);
    internal static readonly CronJobTarget V1On124 = new("batch/v1", false, new Version(1, 24));
    internal static readonly CronJobTarget V1On125 = new("batch/v1", true, new Version(1, 25));

    private static CronJobPlan Build(string job, CronJobTarget? target = null, string tronFile = Jobs, TronMasterSettings? master = null)
    {
        var (jobs, images, soa) = Load(tronFile);
        using (soa)
        {
            var j = jobs.Single(x => x.Name == job);
            return CronJobBuilder.Build(j, j.Actions.ToDictionary(a => a.Name, images.For), target ?? V1beta1, master);
        }
    }

    private static JsonNode Pod(CronJobPlan plan) => plan.Body["spec"]!["jobTemplate"]!["spec"]!["template"]!["spec"]!;

    [Fact]
    public void ActionsRunInRequiresOrderAsInitContainersThenTheLastAsTheContainer()
    {
        var plan = Build("report");
        Assert.Equal(new[] { "collect", "render", "publish" }, plan.Actions);
        var pod = Pod(plan);
        Assert.Equal(new[] { "collect", "render" }, pod["initContainers"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
        Assert.Equal("publish", Assert.Single(pod["containers"]!.AsArray())!["name"]!.GetValue<string>());
        Assert.Equal("Never", pod["restartPolicy"]!.GetValue<string>());
        Assert.Equal(0, plan.Body["spec"]!["jobTemplate"]!["spec"]!["backoffLimit"]!.GetValue<int>());
        Assert.Equal("collect,render,publish", plan.Body["metadata"]!["annotations"]![CronJobBuilder.ActionsAnnotation]!.GetValue<string>());
    }

    [Fact]
    public void EachActionGetsItsImageCommandEnvAndResources()
    {
        var pod = Pod(Build("report"));
        var collect = pod["initContainers"]![0]!;
        Assert.Equal($"registry.example:443/services-svc_a:paasta-{Sha}", collect["image"]!.GetValue<string>());
        Assert.Equal(new[] { "sh", "-c", "collect" }, collect["command"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Equal("500m", collect["resources"]!["limits"]!["cpu"]!.GetValue<string>());
        Assert.Equal("128Mi", collect["resources"]!["limits"]!["memory"]!.GetValue<string>());
        Assert.Equal("512Mi", collect["resources"]!["requests"]!["ephemeral-storage"]!.GetValue<string>());
        // {name} is known when the CronJob is built: service.job, as Tron fills it in.
        var render = pod["initContainers"]![1]!;
        Assert.Equal(new[] { "sh", "-c", "render svc_a.report" }, render["command"]!.AsArray().Select(c => c!.GetValue<string>()));
        var publish = pod["containers"]![0]!;
        var env = publish["env"]!.AsArray().ToDictionary(e => e!["name"]!.GetValue<string>(), e => e!["value"]?.GetValue<string>());
        Assert.Equal("fast", env["MODE"]);
        Assert.Equal("svc_a", env["PAASTA_SERVICE"]);
        Assert.Equal("report.publish", env["PAASTA_INSTANCE"]);
        Assert.Equal(Sha[..8], env["PAASTA_GIT_SHA"]);
        // {shortdate-1} is left for the container to fill in when the run starts.
        var command = publish["command"]!.AsArray().Select(c => c!.GetValue<string>()).ToList();
        Assert.Equal("publish --day {shortdate-1}", command[^1]);
        Assert.Contains("date -u -d @$(( now - 86400 )) +%Y-%m-%d", command[2]);
    }

    [Fact]
    public void ScheduleLabelsAndDefaultsOfAnEnabledJob()
    {
        var plan = Build("report");
        Assert.Equal("30 4 * * 1,3,5", plan.Schedule);
        var spec = plan.Body["spec"]!;
        Assert.Equal("30 4 * * 1,3,5", spec["schedule"]!.GetValue<string>());
        Assert.False(spec["suspend"]!.GetValue<bool>());
        Assert.Equal("Forbid", spec["concurrencyPolicy"]!.GetValue<string>());
        Assert.Equal("svc--a-report", plan.Name); // PaaSTA's sanitise: _ becomes --
        Assert.Equal("tron", plan.Namespace);
        var labels = plan.Body["metadata"]!["labels"]!;
        Assert.Equal("svc_a", labels[CronJobBuilder.ServiceLabel]!.GetValue<string>());
        Assert.Equal("report", labels[CronJobBuilder.JobLabel]!.GetValue<string>());
        Assert.Equal("pnw-prod", labels[CronJobBuilder.ClusterLabel]!.GetValue<string>());
        Assert.Equal(plan.ConfigSha, labels[CronJobBuilder.ConfigShaLabel]!.GetValue<string>());
        Assert.Matches("^config[0-9a-f]{8}$", plan.ConfigSha);
        // Runs and their pods carry the same labels, so Get-PaastaJob finds them by label.
        Assert.Equal(plan.ConfigSha, plan.Body["spec"]!["jobTemplate"]!["spec"]!["template"]!["metadata"]!["labels"]![CronJobBuilder.ConfigShaLabel]!.GetValue<string>());
        Assert.Equal("pnw-prod", plan.Body["spec"]!["jobTemplate"]!["metadata"]!["labels"]![CronJobBuilder.ClusterLabel]!.GetValue<string>());
    }

    [Fact]
    public void DisabledJobIsSuspendedAndAllowOverlapAllowsConcurrentRuns()
    {
        var plan = Build("paused");
        var spec = plan.Body["spec"]!;
        Assert.True(spec["suspend"]!.GetValue<bool>());
        Assert.Equal("Allow", spec["concurrencyPolicy"]!.GetValue<string>());
        Assert.Equal("*/15 * * * *", spec["schedule"]!.GetValue<string>());
        Assert.Equal(7, spec["successfulJobsHistoryLimit"]!.GetValue<int>());
        Assert.Equal(1800, spec["jobTemplate"]!["spec"]!["activeDeadlineSeconds"]!.GetValue<long>());
        Assert.Null(Pod(plan)["initContainers"]);
    }

    [Fact]
    public void ConfigShaIsStableAndChangesWithTheJob()
    {
        var a = Build("report");
        var b = Build("report");
        Assert.Equal(a.ConfigSha, b.ConfigSha);
        // The API version is not part of it: a cluster upgrade from v1beta1 to v1 does not make every job differ.
        Assert.Equal(a.ConfigSha, Build("report", V1On125).ConfigSha);
        var changed = Build("report", tronFile: Jobs.Replace("command: \"collect\"", "command: \"collect --all\""));
        Assert.NotEqual(a.ConfigSha, changed.ConfigSha);
        var disabled = Build("report", tronFile: Jobs.Replace("report:\n  schedule", "report:\n  enabled: false\n  schedule"));
        Assert.NotEqual(a.ConfigSha, disabled.ConfigSha);
    }

    [Fact]
    public void UntranslatableScheduleIsRefusedNamingTheJob()
    {
        var e = Assert.Throws<PaastaException>(() => Build("monthly"));
        Assert.Equal("TronScheduleNotTranslatable", e.ErrorId);
        Assert.Contains("'monthly'", e.Message);
        Assert.Contains("7th of month at 11:00", e.Message);
    }

    [Fact]
    public void SshActionsAreNotRunnable()
    {
        var ssh = Assert.Throws<PaastaException>(() => Build("remote"));
        Assert.Equal("JobNotRunnable", ssh.ErrorId);
        Assert.Contains("ssh", ssh.Message);
        Assert.EndsWith("tron-pnw-prod.yaml", ssh.File);
        Assert.True(ssh.Line > 0);
        Assert.Equal("remote", Assert.IsType<TronJob>(ssh.Target).Name); // TargetObject: the job itself
    }

    [Fact]
    public void ATimeZoneIsWrittenOnlyWhereTheApiKeepsIt()
    {
        // batch/v1 on 1.25+ keeps spec.timeZone.
        Assert.Equal("Europe/Paris", Build("zoned", V1On125).Body["spec"]!["timeZone"]!.GetValue<string>());
        // v1beta1, and batch/v1 before 1.25 (which drops the field silently), refuse rather than run hours off.
        foreach (var target in new[] { V1beta1, V1On124 })
        {
            var e = Assert.Throws<PaastaException>(() => Build("zoned", target));
            Assert.Equal("JobTimeZoneNotSupported", e.ErrorId);
            Assert.Equal(PaastaErrorKind.ResourceUnavailable, e.Kind);
            Assert.Contains("Europe/Paris", e.Message);
            Assert.Contains(target.ToString(), e.Message);
            Assert.EndsWith("tron-pnw-prod.yaml", e.File);
            Assert.Equal("zoned.time_zone", e.Key);
        }
        Assert.Contains("1.24", V1On124.ToString());
    }

    [Fact]
    public void JobsWithoutATimeZoneInheritMasters()
    {
        var paris = new TronMasterSettings("/soa/tron/pnw-prod/MASTER.yaml", "Europe/Paris");
        Assert.Equal("Europe/Paris", Build("report", V1On125, master: paris).Body["spec"]!["timeZone"]!.GetValue<string>());
        var e = Assert.Throws<PaastaException>(() => Build("report", V1beta1, master: paris));
        Assert.Equal("JobTimeZoneNotSupported", e.ErrorId);
        Assert.Contains("/soa/tron/pnw-prod/MASTER.yaml", e.Message);
        Assert.Equal("/soa/tron/pnw-prod/MASTER.yaml", e.File);
        // The job's own time_zone wins over MASTER's.
        var own = Jobs.Replace("report:\n  schedule", "report:\n  time_zone: Asia/Tokyo\n  schedule");
        Assert.Equal("Asia/Tokyo", Build("report", V1On125, own, paris).Body["spec"]!["timeZone"]!.GetValue<string>());
        var utc = Jobs.Replace("report:\n  schedule", "report:\n  time_zone: UTC\n  schedule");
        var plan = Build("report", V1beta1, utc, paris);
        Assert.Null(plan.Body["spec"]!["timeZone"]);
        Assert.Contains(plan.Notes, n => n.Contains("time_zone UTC") && n.Contains("controller's clock"));
        // A UTC MASTER runs as before on an API without time zones; without any time zone nothing is said.
        Assert.Null(Build("report", V1beta1, master: new TronMasterSettings("/m", "Etc/UTC")).Body["spec"]!["timeZone"]);
        var plain = Build("report", V1On125);
        Assert.Null(plain.Body["spec"]!["timeZone"]);
        Assert.DoesNotContain(plain.Notes, n => n.Contains("time_zone"));
    }

    [Fact]
    public void TronsDefaultQueueingIsNotedUnlessRunsOverlapOrQueueingIsOff()
    {
        Assert.Contains(Build("report").Notes, n => n.Contains("queueing"));
        Assert.DoesNotContain(Build("paused").Notes, n => n.Contains("queueing")); // allow_overlap: Allow is exact
        var off = Jobs.Replace("report:\n  schedule", "report:\n  queueing: false\n  schedule");
        Assert.DoesNotContain(Build("report", tronFile: off).Notes, n => n.Contains("queueing"));
    }

    [Fact]
    public void SsmSecretsAreAcceptedAndIgnored()
    {
        var withSsm = Jobs.Replace("      env: {MODE: fast}", "      env: {MODE: fast}\n      ssm_secrets: [{name: db_password}]");
        var plan = Build("report", tronFile: withSsm);
        Assert.Contains(plan.Notes, n => n.Contains("ssm_secrets of action 'publish'"));
        var env = Pod(plan)["containers"]![0]!["env"]!.AsArray().Select(e => e!["name"]!.GetValue<string>()).ToList();
        Assert.DoesNotContain(env, n => n.Contains("db_password", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(Build("report").ConfigSha, plan.ConfigSha);
    }

    [Fact]
    public void NamesFitKubernetesLimits()
    {
        var name = CronJobBuilder.CronJobName("a_very_long_service_name_for_testing", "and_an_even_longer_job_name_that_goes_on");
        Assert.True(name.Length <= 52, name);
        Assert.Matches("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", name);
        Assert.NotEqual(name, CronJobBuilder.CronJobName("a_very_long_service_name_for_testing", "and_an_even_longer_job_name_that_goes_on_2"));
        Assert.Equal("svc_a", CronJobBuilder.LabelValue("svc_a"));
        Assert.True(CronJobBuilder.LabelValue(new string('x', 80)).Length <= 63);
    }
}
