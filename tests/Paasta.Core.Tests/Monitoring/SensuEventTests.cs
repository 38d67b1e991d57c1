using Paasta.Config;
using Paasta.Monitoring;
using Paasta.Errors;

namespace Paasta.Tests.Monitoring;

public class SensuEventTests
{
    [Fact]
    public void JsonIsWhatPysensuSendsKeyForKey()
    {
        var e = new SensuEvent
        {
            Name = "check.x", Status = SensuStatus.CRITICAL, Output = "out \"q\" \u00e9\U0001F600", Team = "t", Runbook = "rb", Tip = "tip",
            NotificationEmail = "a@b", Interval = 60, Page = true, RealertEvery = -1, AlertAfter = 600, Ticket = false, Priority = "P2",
            Source = "paasta-prod", Tags = new[] { "a", "b" }, IrcChannels = new[] { "#c" }, Description = "d\nx",
        };
        Assert.Equal(
            "{\"name\": \"check.x\", \"status\": 2, \"output\": \"out \\\"q\\\" \\u00e9\\ud83d\\ude00\", \"handler\": \"default\", \"team\": \"t\", " +
            "\"runbook\": \"rb\", \"tip\": \"tip\", \"notification_email\": \"a@b\", \"interval\": 60, \"page\": true, \"realert_every\": -1, " +
            "\"dependencies\": [], \"alert_after\": 600, \"ticket\": false, \"project\": null, \"priority\": \"P2\", \"source\": \"paasta-prod\", " +
            "\"tags\": [\"a\", \"b\"], \"ttl\": null, \"issuetype\": null, \"irc_channels\": [\"#c\"], \"description\": \"d\\nx\"}",
            e.ToJson());
    }

    [Fact]
    public void OptionalKeysAreLeftOutWhenUnset()
    {
        var json = new SensuEvent { Name = "n", Team = "t" }.ToJson();
        Assert.Equal(
            "{\"name\": \"n\", \"status\": 0, \"output\": \"\", \"handler\": \"default\", \"team\": \"t\", \"runbook\": \"\", \"tip\": null, " +
            "\"notification_email\": null, \"interval\": null, \"page\": null, \"realert_every\": -1, \"dependencies\": [], \"alert_after\": null, " +
            "\"ticket\": false, \"project\": null, \"priority\": null, \"source\": null, \"tags\": [], \"ttl\": null, \"issuetype\": null}",
            json);
        var all = new SensuEvent { Name = "n", Team = "t", SlackChannels = Array.Empty<string>(), Component = "api", ClusterName = "prod" }.ToJson();
        Assert.EndsWith("\"issuetype\": null, \"slack_channels\": [], \"component\": \"api\", \"cluster_name\": \"prod\"}", all);
    }

    [Theory]
    [InlineData("10m", 600L)]
    [InlineData("1h30m", 5400L)]
    [InlineData("2W", 1209600L)]
    [InlineData("1D", 86400L)]
    [InlineData("1M", 2592000L)]   // month
    [InlineData("1Y", 31536000L)]
    [InlineData("45s", 45L)]
    [InlineData("300", 300L)]      // an integer alert_after means seconds
    [InlineData("0", 0L)]
    public void DurationsBecomeSeconds(string text, long seconds) => Assert.Equal(seconds, SensuRules.ToSeconds(text, "alert_after"));

    [Theory]
    [InlineData("")]
    [InlineData("10x")]
    [InlineData("m5")]
    [InlineData("10 m")]
    [InlineData("1d")]   // days are D
    [InlineData("-5m")]
    public void BadDurationsAreRefused(string text)
    {
        var e = Assert.Throws<PaastaException>(() => SensuRules.ToSeconds(text, "alert_after"));
        Assert.Equal("SensuDurationInvalid", e.ErrorId);
    }

    [Fact]
    public void CheckNamesAreValidated()
    {
        SensuRules.ValidateName("check_paasta_services_replication.web-1.main_2");
        Assert.Equal("SensuEventNameInvalid", Assert.Throws<PaastaException>(() => SensuRules.ValidateName("bad name")).ErrorId);
        Assert.Equal("SensuEventNameInvalid", Assert.Throws<PaastaException>(() => SensuRules.ValidateName("a/b")).ErrorId);
        Assert.Equal("SensuEventNameInvalid", Assert.Throws<PaastaException>(() => SensuRules.ValidateName("")).ErrorId);
    }

    [Theory]
    [InlineData("127.0.0.1:3030", "127.0.0.1", 3030)]
    [InlineData("localhost", "localhost", 3030)]
    [InlineData("sensu.example.com:4000", "sensu.example.com", 4000)]
    [InlineData("[::1]:3031", "::1", 3031)]
    [InlineData("::1", "::1", 3030)]
    public void SocketsParse(string text, string host, int port) => Assert.Equal(new SensuEndpoint(host, port), SensuEndpoint.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("host:")]
    [InlineData("host:99999")]
    [InlineData("host:port")]
    [InlineData(":3030")]
    public void BadSocketsAreRefused(string text) =>
        Assert.Equal("SensuSocketInvalid", Assert.Throws<PaastaException>(() => SensuEndpoint.Parse(text)).ErrorId);

    private static List<InstanceConfig> Load(TempSoaDir soa, string service)
    {
        var reader = new SoaConfigReader(soa.Root);
        var results = reader.LoadInstances(reader.LoadService(service)).ToList();
        Assert.All(results, r => Assert.Null(r.Error));
        return results.Select(r => r.Value!).ToList();
    }

    private static string Escaped(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    [Fact]
    public void ReplicationEventsResolveMonitoringAsPaastaDoes()
    {
        using var soa = new TempSoaDir();
        soa.Service("web", "backend");
        soa.Write("web/kubernetes-prod.yaml", """
            main: {instances: 3}
            single: {instances: 1}
            canary:
              instances: 2
              replication_threshold: 75
              monitoring:
                page: true
                alert_after: 300
                realert_every: 5
                tip: look at the canary
                runbook: y/web-canary
                irc_channels: ['#web']
                ticket: true
                project: WEB
                priority: P1
                tags: [web, canary]
                component: api
                notification_email: web@example.com
            """);
        var byName = Load(soa, "web").ToDictionary(i => i.Instance);

        var main = ReplicationChecker.PodResult(new ReplicationTarget(byName["main"], "start"), 3, 1);
        Assert.Equal((SensuStatus.CRITICAL, "web.main has 1/3 replicas available (threshold: 50%)"), (main.Status, main.Output));
        Assert.Equal(("y/unhealthy-paasta-instances", "10m", (bool?)null), (main.Runbook, main.AlertAfter, main.Page));
        var mainDescription = ReplicationMath.PodCriticalDescription("web", "main", "prod", 1, 3, 50);
        Assert.Equal(mainDescription, main.Description);
        Assert.Equal(
            "{\"name\": \"check_paasta_services_replication.web.main\", \"status\": 2, \"output\": \"web.main has 1/3 replicas available (threshold: 50%)\", " +
            "\"handler\": \"default\", \"team\": \"backend\", \"runbook\": \"y/unhealthy-paasta-instances\", " +
            "\"tip\": \"Check the instance with: `paasta status -s web -i main -c prod -vv`\", \"notification_email\": null, \"interval\": 60, " +
            "\"page\": null, \"realert_every\": -1, \"dependencies\": [], \"alert_after\": 600, \"ticket\": false, \"project\": null, " +
            "\"priority\": null, \"source\": \"paasta-prod\", \"tags\": [], \"ttl\": null, \"issuetype\": null, " +
            $"\"description\": \"{Escaped(mainDescription)}\"}}",
            main.ToSensuEvent()!.ToJson());

        // One copy, not autoscaled: alert after 20 minutes. Stopped: 0 expected, OK.
        var single = ReplicationChecker.PodResult(new ReplicationTarget(byName["single"], "stop"), ReplicationMath.ExpectedCount(byName["single"], "stop", null), 0);
        Assert.Equal((SensuStatus.OK, "web.single has 0/0 replicas available (threshold: 50%)", "20m"), (single.Status, single.Output, single.AlertAfter));
        Assert.Equal(1200, single.ToSensuEvent()!.AlertAfter);
        Assert.Equal("web.single is well-replicated: at least 50% of its expected replicas are up.", single.Description);

        var canary = ReplicationChecker.PodResult(new ReplicationTarget(byName["canary"], "start"), 2, 1);
        Assert.Equal((SensuStatus.CRITICAL, "web.canary has 1/2 replicas available (threshold: 75%)"), (canary.Status, canary.Output));
        Assert.Equal(
            "{\"name\": \"check_paasta_services_replication.web.canary\", \"status\": 2, \"output\": \"web.canary has 1/2 replicas available (threshold: 75%)\", " +
            "\"handler\": \"default\", \"team\": \"backend\", \"runbook\": \"y/web-canary\", \"tip\": \"look at the canary\", " +
            "\"notification_email\": \"web@example.com\", \"interval\": 60, \"page\": true, \"realert_every\": 5, \"dependencies\": [], " +
            "\"alert_after\": 300, \"ticket\": true, \"project\": \"WEB\", \"priority\": \"P1\", \"source\": \"paasta-prod\", " +
            "\"tags\": [\"web\", \"canary\"], \"ttl\": null, \"issuetype\": null, \"irc_channels\": [\"#web\"], \"component\": \"api\", " +
            $"\"description\": \"{Escaped(canary.Description)}\"}}",
            canary.ToSensuEvent()!.ToJson());
    }

    [Fact]
    public void PriorityIsSentAsTheStringTheSpecTypesItAs()
    {
        // Spec §1.5 types monitoring priority as a string (and §8.5 sends it "resolved per §1.5"); pysensu-yelp
        // passes it through untyped, so a YAML number goes out as its text, like every other string field.
        using var soa = new TempSoaDir();
        soa.Service("web", "backend");
        soa.Write("web/kubernetes-prod.yaml", "main: {monitoring: {ticket: true, priority: 3}}\n");
        var result = ReplicationChecker.PodResult(new ReplicationTarget(Load(soa, "web").Single(), "start"), 1, 1);
        Assert.Equal("3", result.Priority);
        Assert.Contains("\"ticket\": true, \"project\": null, \"priority\": \"3\", ", result.ToSensuEvent()!.ToJson());
    }

    [Fact]
    public void NoTeamMeansNoEvent()
    {
        using var soa = new TempSoaDir();
        soa.Write("web/service.yaml", "description: test\nexternal_link: http://example\n");
        soa.Write("web/kubernetes-prod.yaml", "main: {}\n");
        var main = Load(soa, "web").Single();
        var result = ReplicationChecker.PodResult(new ReplicationTarget(main, "start"), 1, 1);
        Assert.Null(result.Team);
        Assert.Null(result.ToSensuEvent());
    }
}
