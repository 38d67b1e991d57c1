using Paasta.Monitoring;
using Paasta.Config;

namespace Paasta.Tests.Monitoring;

public class ReplicationMathTests
{
    [Theory]
    [InlineData(1, 3, 50, true, "33.33333333333333")]
    [InlineData(2, 3, 50, false, "66.66666666666666")]
    [InlineData(1, 2, 50, false, "50.0")]       // equal to the threshold is not under
    [InlineData(0, 2, 50, true, "0.0")]
    [InlineData(0, 0, 50, false, "100.0")]      // nothing expected counts as fully replicated
    [InlineData(5, 4, 50, false, "125.0")]
    [InlineData(2, 7, 29, true, "28.57142857142857")]
    [InlineData(99, 100, 100, true, "99.0")]
    [InlineData(0, 1, 0, false, "0.0")]         // threshold 0 never alerts
    public void EvaluatesAsPaastaDoes(long available, long expected, long threshold, bool under, string ratioText)
    {
        var (isUnder, ratio) = ReplicationMath.Evaluate(available, expected, threshold);
        Assert.Equal(under, isUnder);
        Assert.Equal(ratioText, ReplicationMath.Percent(ratio));
    }

    [Fact]
    public void PodOutputIsPaastasText()
    {
        Assert.Equal("web.main has 1/3 replicas available (threshold: 50%)", ReplicationMath.PodOutput("web", "main", 1, 3, 50));
        Assert.Equal("web.stopped has 0/0 replicas available (threshold: 75%)", ReplicationMath.PodOutput("web", "stopped", 0, 0, 75));
    }

    [Fact]
    public void MeshOutputJoinsCriticalThenOkLocations()
    {
        var crit1 = ReplicationMath.MeshLine("web", "main", 1, 3, "uswest1", "Smartstack", true, ReplicationMath.Evaluate(1, 3, 50).Ratio);
        var crit2 = ReplicationMath.MeshLine("web", "main", 0, 3, "useast1", "Smartstack", true, 0);
        var ok = ReplicationMath.MeshLine("web", "main", 3, 3, "euwest1", "Smartstack", false, 100);
        Assert.Equal("web.main has 1/3 replicas in uswest1 according to Smartstack (CRITICAL: 33.33333333333333%)", crit1);
        Assert.Equal("web.main has 3/3 replicas in euwest1 according to Smartstack (OK: 100.0%)", ok);
        Assert.Equal($"{crit1}, {crit2}. The following locations are OK: {ok}", ReplicationMath.MeshOutput(new[] { crit1, crit2 }, new[] { ok }));
        Assert.Equal($"{crit1}, {crit2}", ReplicationMath.MeshOutput(new[] { crit1, crit2 }, Array.Empty<string>()));
        Assert.Equal(ok, ReplicationMath.MeshOutput(Array.Empty<string>(), new[] { ok }));
    }

    private static InstanceConfig Instance(long instances = 1, long min = 1, long? max = null) => new()
    {
        Service = "web", Instance = "main", Cluster = "prod", InstanceType = "kubernetes", SoaDir = "/soa", File = "/soa/web/kubernetes-prod.yaml",
        Instances = instances, MinInstances = min, MaxInstances = max,
    };

    [Fact]
    public void ExpectedCountFollowsInstancesStopAndAutoscaling()
    {
        Assert.Equal(3, ReplicationMath.ExpectedCount(Instance(3), "start", null));
        Assert.Equal(3, ReplicationMath.ExpectedCount(Instance(3), "start", 7));     // live replicas matter only when autoscaled
        Assert.Equal(0, ReplicationMath.ExpectedCount(Instance(3), "stop", null));   // Paasta decision 7
        Assert.Equal(0, ReplicationMath.ExpectedCount(Instance(1, 2, 5), "stop", 4));
        Assert.Equal(5, ReplicationMath.ExpectedCount(Instance(1, 2, 5), "start", null)); // no live object yet: max
        Assert.Equal(4, ReplicationMath.ExpectedCount(Instance(1, 2, 5), "start", 4));
        Assert.Equal(2, ReplicationMath.ExpectedCount(Instance(1, 2, 5), "start", 0));    // clamped up to min
        Assert.Equal(5, ReplicationMath.ExpectedCount(Instance(1, 2, 5), "start", 9));    // clamped down to max
    }

    [Fact]
    public void DefaultAlertAfterIsLongerForASingleCopy()
    {
        Assert.Equal("20m", ReplicationMath.DefaultAlertAfter(Instance(1)));
        Assert.Equal("10m", ReplicationMath.DefaultAlertAfter(Instance(2)));
        Assert.Equal("10m", ReplicationMath.DefaultAlertAfter(Instance(1, 1, 1)));   // autoscaled, even with one copy
    }

    [Fact]
    public void NamesAndTips()
    {
        Assert.Equal("check_paasta_services_replication.web.main", ReplicationMath.CheckName("web", "main"));
        Assert.Equal("Check the instance with: `paasta status -s web -i main -c prod -vv`", ReplicationMath.DefaultTip("web", "main", "prod"));
        var d = ReplicationMath.PodCriticalDescription("web", "main", "prod", 1, 3, 50);
        Assert.Contains("paasta status -s web -i main -c prod -vv", d);
        Assert.Contains("`instances`", d);
        Assert.Contains("503", ReplicationMath.MeshCriticalDescription("web", "main", "prod", 50));
        Assert.Contains("discover", ReplicationMath.MeshCriticalDescription("web", "main", "prod", 50));
        Assert.Equal("web.main is well-replicated: at least 50% of its expected replicas are up.", ReplicationMath.OkDescription("web", "main", 50));
    }

    private static ReplicationCheckResult Result(ReplicationMethod method, SensuStatus status, string instance) => new()
    {
        Service = "web", Instance = instance, Cluster = "prod", Namespace = "ns", Method = method, Status = status,
        IsUnderReplicated = status == SensuStatus.CRITICAL, Output = "", Description = "", CheckName = "c", Runbook = "r", Tip = "t",
        AlertAfter = "10m", Source = "paasta-prod",
    };

    [Fact]
    public void SummaryIsCriticalOnlyWhenShareAndCountOfMeshInstancesAreReached()
    {
        var results = new List<ReplicationCheckResult>();
        for (var n = 0; n < 45; n++) results.Add(Result(ReplicationMethod.Smartstack, SensuStatus.OK, $"ok{n}"));
        for (var n = 0; n < 5; n++) results.Add(Result(ReplicationMethod.Smartstack, SensuStatus.CRITICAL, $"bad{n}"));
        var s = new ReplicationSummary { Cluster = "prod", Results = results, CriticalPercent = 10, MinCountCritical = 5 };
        Assert.Equal((50, 5, 10.0), (s.MeshChecked, s.UnderReplicated, s.PercentUnderReplicated));
        Assert.True(s.IsCritical);
        Assert.Equal((SensuStatus.CRITICAL, 2), (s.Status, s.ExitCode));
        Assert.StartsWith("CRITICAL: 50 instance(s) checked on prod; 5 of 50 mesh-checked under-replicated (10%, critical at >= 10% and >= 5)", s.Output);

        // 10% but only 4 instances: not critical; the critical instances still make it a warning.
        var four = new ReplicationSummary { Cluster = "prod", Results = results.Where(r => r.Status == SensuStatus.OK).Take(36).Concat(results.Where(r => r.Status != SensuStatus.OK).Take(4)).ToList(), CriticalPercent = 10, MinCountCritical = 5 };
        Assert.Equal(4, four.UnderReplicated);
        Assert.False(four.IsCritical);
        Assert.Equal((SensuStatus.WARNING, 1), (four.Status, four.ExitCode));

        // Pod-counted instances never enter the share.
        var pods = new ReplicationSummary { Cluster = "prod", Results = Enumerable.Range(0, 9).Select(n => Result(ReplicationMethod.Pods, SensuStatus.CRITICAL, $"p{n}")).ToList(), CriticalPercent = 10, MinCountCritical = 5 };
        Assert.Equal((0, 0, 0.0), (pods.MeshChecked, pods.UnderReplicated, pods.PercentUnderReplicated));
        Assert.False(pods.IsCritical);
        Assert.Equal(SensuStatus.WARNING, pods.Status);
        Assert.Equal(9, pods.CriticalInstances.Count);

        var unknown = new ReplicationSummary { Cluster = "prod", Results = new[] { Result(ReplicationMethod.Pods, SensuStatus.OK, "a") }, Unchecked = new[] { "web.b" } };
        Assert.Equal((SensuStatus.UNKNOWN, 1), (unknown.Status, unknown.ExitCode)); // issue 7: exit codes stay 0/1/2
        Assert.Contains("not checked: web.b", unknown.Output);
        var nothing = new ReplicationSummary { Cluster = "prod", Unchecked = new[] { "web (kubernetes-prod.yaml)" } };
        Assert.Equal((SensuStatus.UNKNOWN, 1), (nothing.Status, nothing.ExitCode)); // checked nothing: not OK
        var both = new ReplicationSummary { Cluster = "prod", Results = new[] { Result(ReplicationMethod.Pods, SensuStatus.CRITICAL, "a") }, Unchecked = new[] { "web.b" } };
        Assert.Equal((SensuStatus.WARNING, 1), (both.Status, both.ExitCode));

        var ok = new ReplicationSummary { Cluster = "prod", Results = new[] { Result(ReplicationMethod.Pods, SensuStatus.OK, "a") }, CriticalPercent = 10, MinCountCritical = 5 };
        Assert.Equal((SensuStatus.OK, 0), (ok.Status, ok.ExitCode));

        var zero = new ReplicationSummary { Cluster = "prod", Results = Array.Empty<ReplicationCheckResult>(), CriticalPercent = 0, MinCountCritical = 0 };
        Assert.True(zero.IsCritical); // 0% >= 0% and 0 >= 0: PaaSTA's rule taken literally
    }
}
