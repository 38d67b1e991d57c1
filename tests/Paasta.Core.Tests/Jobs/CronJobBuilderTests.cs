using System.Text.Json.Nodes;
using Paasta.Config;
using Paasta.Jobs;
using Paasta.Tron;

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

    private static CronJobPlan Build(string job, string apiVersion = "batch/v1beta1", string tronFile = Jobs)
    {
        var (jobs, images, soa) = Load(tronFile);
        using (soa)
        {
            var j = jobs.Single(x => x.Name == job);
            return CronJobBuilder.Build(j, j.Actions.ToDictionary(a => a.Name, images.For), apiVersion);
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
        Assert.Equal(a.ConfigSha, Build("report", "batch/v1").ConfigSha);
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
    public void SshActionsAndTimeZonesOnV1beta1AreNotRunnable()
    {
        var ssh = Assert.Throws<PaastaException>(() => Build("remote"));
        Assert.Equal("JobNotRunnable", ssh.ErrorId);
        Assert.Contains("ssh", ssh.Message);
        Assert.EndsWith("tron-pnw-prod.yaml", ssh.File);
        Assert.True(ssh.Line > 0);

        var zoned = Assert.Throws<PaastaException>(() => Build("zoned"));
        Assert.Equal("JobNotRunnable", zoned.ErrorId);
        Assert.Contains("Europe/Paris", zoned.Message);
        // batch/v1 carries the time zone.
        Assert.Equal("Europe/Paris", Build("zoned", "batch/v1").Body["spec"]!["timeZone"]!.GetValue<string>());
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
