using Paasta.Config;
using Paasta.Errors;

namespace Paasta.Tests.Config;

public class SoaConfigReaderTests
{
    private static InstanceConfig Only(TempSoaDir soa, string service, string? instance = null)
    {
        var reader = new SoaConfigReader(soa.Root);
        var results = reader.LoadInstances(reader.LoadService(service),
            new InstanceFilter(Instance: instance is null ? null : n => n == instance)).ToList();
        Assert.All(results, r => Assert.Null(r.Error));
        return Assert.Single(results).Value!;
    }

    [Fact]
    public void AppendixAExampleMergesAsPaastaDoes()
    {
        using var soa = new TempSoaDir();
        soa.Service("example_service", "backend", "prod.canary", "prod.non_canary");
        soa.Write("example_service/smartstack.yaml", "main: {proxy_port: 20001}\n");
        soa.Write("example_service/kubernetes-pnw-prod.yaml", """
            _base: &base {cpus: 0.5, mem: 1024, env: {FOO: bar}}
            main:   {<<: *base, instances: 3, deploy_group: prod.non_canary}
            canary: {<<: *base, instances: 1, deploy_group: prod.canary, registrations: [example_service.main]}
            """);
        var main = Only(soa, "example_service", "main");
        Assert.Equal(0.5, main.Cpus);
        Assert.Equal(1024, main.Mem);
        Assert.Equal(1024, main.Disk);
        Assert.Equal(3, main.Instances);
        Assert.Equal("prod.non_canary", main.DeployGroup);
        Assert.Equal("bar", main.Env["FOO"]);
        Assert.Equal("paastasvc-example--service", main.Namespace);
        Assert.True(main.IsInSmartstack);
        Assert.Equal(20001, main.ProxyPort);
        Assert.Equal("hacheck", main.DrainMethod);
        Assert.Equal(60L, main.DrainMethodParams["delay"]);
        Assert.Equal("http", main.HealthcheckMode);  // smartstack mode defaults to http when proxy_port is set
        Assert.Equal("backend", main.Monitoring.Team);
        Assert.Equal(ValueOrigin.Template, main.SourceOf("cpus")!.Origin);
        Assert.Equal(ValueOrigin.InstanceFile, main.SourceOf("instances")!.Origin);
        Assert.Equal(ValueOrigin.MonitoringYaml, main.SourceOf("monitoring.team")!.Origin);
        Assert.Equal(ValueOrigin.Default, main.SourceOf("disk")!.Origin);
        Assert.Equal(ValueOrigin.SmartstackYaml, main.SourceOf("healthcheck_mode")!.Origin);
    }

    [Fact]
    public void CodeDefaultsApplyToAnEmptyInstance()
    {
        using var soa = new TempSoaDir();
        soa.Service("svc");
        soa.Write("svc/kubernetes-prod.yaml", "main: {}\n");
        var i = Only(soa, "svc");
        Assert.Equal((1.0, 1.0, 4096.0, 1024.0), (i.Cpus, i.CpuBurstAdd, i.Mem, i.Disk));
        Assert.Equal((1L, 1L, (long?)null), (i.Instances, i.MinInstances, i.MaxInstances));
        Assert.Equal(8888, i.ContainerPort);
        Assert.Null(i.HealthcheckMode);
        Assert.Equal("/status", i.HealthcheckUri);
        Assert.Equal((60.0, 10.0, 10.0, 30L), (i.HealthcheckGracePeriodSeconds, i.HealthcheckIntervalSeconds, i.HealthcheckTimeoutSeconds, i.HealthcheckMaxConsecutiveFailures));
        Assert.Equal("crossover", i.BounceMethod);
        Assert.Equal(0.95, i.BounceMarginFactor);
        Assert.False(i.BounceMarginFactorConfigured);
        Assert.Equal("noop", i.DrainMethod);
        Assert.Empty(i.DrainMethodParams);
        Assert.Equal(new[] { "svc.main" }, i.Registrations);
        Assert.Equal(50, i.ReplicationThreshold);
        Assert.Equal(("default", "bridge", 10L), (i.Pool, i.Net, i.Weight));
        Assert.Equal("prod.main", i.DeployGroup);
        Assert.Equal(100000, i.CfsPeriodUs);
        Assert.False(i.UsesBulkdata);
        Assert.Empty(i.Args!);            // no cmd → args or []
        Assert.Null(i.Command);
        Assert.Equal(ValueOrigin.Default, i.SourceOf("bounce_margin_factor")!.Origin);
    }

    [Fact]
    public void DeepMergeMergesMappingsAndReplacesLists()
    {
        using var soa = new TempSoaDir();
        soa.Service("svc");
        soa.Write("svc/service.yaml", "description: d\nexternal_link: l\ncpus: 2\nenv: {A: from-service, B: from-service}\nextra_volumes: [{containerPath: /a, hostPath: /a, mode: RO}]\n");
        soa.Write("svc/kubernetes-prod.yaml", "main:\n  env: {B: from-instance}\n  extra_volumes: [{containerPath: /b, hostPath: /b, mode: RW}]\n");
        var i = Only(soa, "svc");
        Assert.Equal(2, i.Cpus);
        Assert.Equal("from-service", i.Env["A"]);
        Assert.Equal("from-instance", i.Env["B"]);
        var volume = Assert.Single(i.ExtraVolumes);
        Assert.Equal("/b", volume.ContainerPath);
        Assert.False(volume.ReadOnly);
        Assert.Equal(ValueOrigin.ServiceYaml, i.SourceOf("env.A")!.Origin);
        Assert.Equal(ValueOrigin.InstanceFile, i.SourceOf("env.B")!.Origin);
        Assert.Equal(2, i.SourceOf("env.B")!.Line);
    }

    [Fact]
    public void StringCmdRunsUnderShellAndListCmdIsVerbatim()
    {
        using var soa = new TempSoaDir();
        soa.Service("svc", "t", "prod.a", "prod.b");
        soa.Write("svc/kubernetes-prod.yaml", "a: {cmd: 'echo hi', deploy_group: prod.a}\nb: {cmd: [/bin/app, --flag], deploy_group: prod.b}\n");
        var a = Only(soa, "svc", "a");
        var b = Only(soa, "svc", "b");
        Assert.Equal(new[] { "sh", "-c", "echo hi" }, a.Command);
        Assert.Null(a.Args);
        Assert.Equal(new[] { "/bin/app", "--flag" }, b.Command);
    }

    [Fact]
    public void DeployGroupPlaceholdersAreFormatted()
    {
        using var soa = new TempSoaDir();
        soa.Service("svc", "t", "prod.all");
        soa.Write("svc/kubernetes-prod.yaml", "main: {deploy_group: '{cluster}.all'}\nother: {deploy_group: '{service}-{instance}'}\n");
        Assert.Equal("prod.all", Only(soa, "svc", "main").DeployGroup);
        Assert.Equal("svc-other", Only(soa, "svc", "other").DeployGroup);
    }

    [Fact]
    public void MonitoringResolvesInstanceOverServiceWide()
    {
        using var soa = new TempSoaDir();
        soa.Service("svc", "backend");
        soa.Write("svc/monitoring.yaml", "team: backend\npage: true\nrunbook: y/rb\n");
        soa.Write("svc/kubernetes-prod.yaml", "main: {monitoring: {team: frontend, page: false}}\nother: {}\n");
        var main = Only(soa, "svc", "main");
        Assert.Equal("frontend", main.Monitoring.Team);
        Assert.False(main.Monitoring.Page);
        Assert.Equal("y/rb", main.Monitoring.Runbook);
        var other = Only(soa, "svc", "other");
        Assert.Equal("backend", other.Monitoring.Team);
        Assert.True(other.Monitoring.Page);
        Assert.Equal("10m", other.Monitoring.AlertAfter);
        Assert.Equal(-1, other.Monitoring.RealertEvery);
    }

    [Fact]
    public void TronActionsAreJobDotActionAndNotMergedWithServiceYaml()
    {
        using var soa = new TempSoaDir();
        soa.Service("svc", "t", "prod.batch");
        soa.Write("svc/service.yaml", "description: d\nexternal_link: l\ncpus: 7\n");
        soa.Write("svc/tron-prod.yaml", "job1:\n  schedule: daily\n  deploy_group: prod.batch\n  actions:\n    first: {command: echo 1}\n    second: {command: echo 2, requires: [first], mem: 100}\n");
        var reader = new SoaConfigReader(soa.Root);
        var actions = reader.LoadInstances(reader.LoadService("svc")).Select(r => r.Value!).ToList();
        Assert.Equal(new[] { "job1.first", "job1.second" }, actions.Select(a => a.Instance));
        Assert.All(actions, a => Assert.Equal("prod.batch", a.DeployGroup));
        Assert.Equal(1, actions[0].Cpus);      // not service.yaml's 7
        Assert.Equal(4096, actions[0].Disk);
        Assert.Equal(0, actions[0].CpuBurstAdd);
        Assert.Equal(100, actions[1].Mem);
        Assert.Equal("tron", actions[0].Namespace);
        Assert.Equal("prod.job1.first", actions[0].Branch);
    }

    [Fact]
    public void WrongTypesAreReportedWithFileLineAndKeyAndOtherInstancesStillLoad()
    {
        using var soa = new TempSoaDir();
        soa.Service("svc");
        soa.Write("svc/kubernetes-prod.yaml", "good: {}\nbad:\n  cpus: fast\n");
        var reader = new SoaConfigReader(soa.Root);
        var results = reader.LoadInstances(reader.LoadService("svc")).ToList();
        Assert.Equal("good", results[0].Value!.Instance);
        var e = results[1].Error!;
        Assert.Equal("ConfigValueWrongType", e.ErrorId);
        Assert.Equal(3, e.Line);
        Assert.Equal("cpus", e.Key);
        Assert.EndsWith("kubernetes-prod.yaml", e.File);
    }

    [Theory]
    [InlineData("..")]
    [InlineData("/etc")]
    [InlineData("a/b")]
    [InlineData("")]
    public void PathLikeServiceNamesAreRefused(string name)
    {
        using var soa = new TempSoaDir();
        var e = Assert.Throws<PaastaException>(() => new SoaConfigReader(soa.Root).LoadService(name));
        Assert.Equal("InvalidServiceName", e.ErrorId);
        Assert.Equal(PaastaErrorKind.InvalidArgument, e.Kind);
    }

    [Fact]
    public void ServicesAreFoldersWithYamlAndClustersComeFromFileNames()
    {
        using var soa = new TempSoaDir();
        soa.Service("b");
        soa.Service("a");
        soa.Write("a/kubernetes-east.yaml", "x: {}\n");
        soa.Write("a/adhoc-west.yaml", "y: {}\n");
        soa.Write("a/flink-north.yaml", "z: {}\n");  // recognised, not loaded
        Directory.CreateDirectory(Path.Combine(soa.Root, "_shared"));
        soa.Write("tron/prod/MASTER.yaml", "x: 1\n");
        var reader = new SoaConfigReader(soa.Root);
        Assert.Equal(new[] { "a", "b" }, reader.ListServices());
        Assert.Equal(new[] { "east", "west" }, reader.LoadService("a").Clusters);
        Assert.Equal(new[] { "prod.main" }, reader.LoadService("a").DeployGroups);
    }

    [Fact]
    public void ResourceNumbersKeepTheirYamlType()
    {
        using var soa = new TempSoaDir();
        soa.Service("svc");
        soa.Write("svc/kubernetes-prod.yaml", "main: {cpus: 1, mem: 1024.0}\n");
        var i = Only(soa, "svc");
        Assert.Equal("1", Paasta.Yaml.PythonText.Str(i.Config["cpus"]));
        Assert.Equal("1024.0", Paasta.Yaml.PythonText.Str(i.Config["mem"]));
    }
}
