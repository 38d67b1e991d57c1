using Paasta.Docker;
using Paasta.Operations;

namespace Paasta.Tests.Docker;

public class ServiceContractTests
{
    private static async Task<Dictionary<string, ServiceCheckResult>> Check(string makefile, string dockerfile, Action<TempSoaDir> soaSetup, string make = "make")
    {
        var soa = new TempSoaDir();
        soaSetup(soa);
        var repo = Directory.CreateTempSubdirectory("paasta-repo-").FullName;
        try
        {
            if (makefile.Length > 0) File.WriteAllText(Path.Combine(repo, "Makefile"), makefile);
            if (dockerfile.Length > 0) File.WriteAllText(Path.Combine(repo, "Dockerfile"), dockerfile);
            var results = await ServiceCheck.RunAsync(new RecordingSink().Context(soa.Root), "svc", repo, make);
            return results.ToDictionary(r => r.Check);
        }
        finally { Directory.Delete(repo, true); }
    }

    private const string GoodMakefile = "DOCKER_TAG ?= svc-dev\ntest:\n\ttrue\nitest: cook-image\n\ttrue\ncook-image:\n\tdocker build -t $(DOCKER_TAG) .\n";

    [Fact]
    public async Task AServiceThatKeepsTheContractPasses()
    {
        var r = await Check(GoodMakefile, "FROM scratch\n", soa =>
        {
            soa.Service("svc", "backend", "prod.main");
            soa.Write("svc/kubernetes-prod.yaml", "main: {deploy_group: prod.main}\n");
            soa.Write("svc/smartstack.yaml", "main: {proxy_port: 20001}\n");
        });
        Assert.All(r.Values, c => Assert.Equal(ServiceCheckStatus.Passed, c.Status));
        Assert.Contains("MakeTarget:cook-image", r.Keys);
        Assert.Contains("MeshRegistration", r.Keys);
    }

    [Fact]
    public async Task EachBreachIsReported()
    {
        var r = await Check("test:\n\ttrue\n", "FROM scratch\nRUN ln -sf /usr/share/zoneinfo/US/Pacific /etc/localtime\n", soa =>
        {
            soa.Service("svc", "backend", "prod.main");
            soa.Write("svc/kubernetes-prod.yaml", "main: {deploy_group: prod.other, healthcheck_mode: http}\n");
        });
        Assert.Equal(ServiceCheckStatus.Passed, r["MakeTarget:test"].Status);
        Assert.Equal(ServiceCheckStatus.Failed, r["MakeTarget:itest"].Status);
        Assert.Equal(ServiceCheckStatus.Failed, r["MakeTarget:cook-image"].Status);
        Assert.Equal(ServiceCheckStatus.Warning, r["MakefileDockerTag"].Status);
        Assert.Equal(ServiceCheckStatus.Warning, r["DockerfileTimeZone"].Status);
        Assert.Contains("Dockerfile:2", r["DockerfileTimeZone"].Message);
        Assert.Equal(ServiceCheckStatus.Failed, r["DeployGroups"].Status);
        Assert.Contains("prod.main (prod.other)", r["DeployGroups"].Message);
        Assert.Equal(ServiceCheckStatus.Warning, r["MeshRegistration"].Status);
        Assert.Equal(ServiceCheckStatus.Failed, r["SoaConfigs"].Status);   // the deploy group rule of Test-PaastaConfig
    }

    [Fact]
    public async Task MissingFilesFail()
    {
        var r = await Check("", "", soa =>
        {
            soa.Write("svc/service.yaml", "description: x\nexternal_link: y\n");
            soa.Write("svc/monitoring.yaml", "team: a\n");
        });
        Assert.Equal(ServiceCheckStatus.Failed, r["Dockerfile"].Status);
        Assert.Equal(ServiceCheckStatus.Failed, r["Makefile"].Status);
        Assert.Equal(ServiceCheckStatus.Failed, r["DeployYaml"].Status);
        Assert.Equal(ServiceCheckStatus.Failed, r["Instances"].Status);
        Assert.DoesNotContain("MakeTarget:test", r.Keys);
    }

    [Fact]
    public async Task WithoutMakeOneCheckFailsAndTheOthersStillRun()
    {
        var r = await Check(GoodMakefile, "FROM scratch\n", soa =>
        {
            soa.Service("svc", "backend", "prod.main");
            soa.Write("svc/kubernetes-prod.yaml", "main: {deploy_group: prod.main}\n");
        }, make: "paasta-test-no-such-make");
        Assert.Equal(ServiceCheckStatus.Failed, r["Make"].Status);
        Assert.Contains("'paasta-test-no-such-make' could not be started", r["Make"].Message);
        Assert.DoesNotContain(r.Keys, k => k.StartsWith("MakeTarget:", StringComparison.Ordinal));
        foreach (var check in new[] { "Dockerfile", "Makefile", "MakefileDockerTag", "SoaConfigs", "DeployYaml", "DeployGroups", "MeshRegistration" })
            Assert.Equal(ServiceCheckStatus.Passed, r[check].Status);
    }

    [Fact]
    public async Task ServingInstancesAreFoundByTheirEffectiveHealthcheckMode()
    {
        // Spec §1.4/§4.2: the mode comes from the instance, else its mesh namespace (healthcheck_mode, else mode,
        // http for a namespace with proxy_port); an instance with neither is a worker, which needs no registration.
        var r = await Check(GoodMakefile, "FROM scratch\n", soa =>
        {
            soa.Service("svc", "backend", "prod.main");
            soa.Write("svc/kubernetes-prod.yaml", """
                _d: &d {deploy_group: prod.main}
                web: {<<: *d}
                canary: {<<: *d, registrations: [svc.web]}
                grpc: {<<: *d}
                explicit: {<<: *d, healthcheck_mode: http}
                worker: {<<: *d}
                checked: {<<: *d, healthcheck_mode: cmd, healthcheck_cmd: 'true'}
                """);
            soa.Write("svc/smartstack.yaml", "web: {proxy_port: 20001}\ngrpc: {mode: tcp}\n");
        });
        var mesh = r["MeshRegistration"];
        Assert.Equal(ServiceCheckStatus.Warning, mesh.Status);
        Assert.Contains("prod.grpc (tcp;", mesh.Message);        // mode from smartstack.yaml, but no proxy_port
        Assert.Contains("prod.explicit (http;", mesh.Message);   // its own healthcheck_mode, no smartstack entry
        foreach (var fine in new[] { "prod.web ", "prod.canary ", "prod.worker", "prod.checked" })
            Assert.DoesNotContain(fine, mesh.Message);

        var workers = await Check(GoodMakefile, "FROM scratch\n", soa =>
        {
            soa.Service("svc", "backend", "prod.main");
            soa.Write("svc/kubernetes-prod.yaml", "worker: {deploy_group: prod.main}\n");
        });
        Assert.Equal(ServiceCheckStatus.Passed, workers["MeshRegistration"].Status);
        Assert.StartsWith("No long-running instance serves HTTP or TCP", workers["MeshRegistration"].Message);
    }

    [Fact]
    public async Task MakeTargetsAreDetectedWithMakeQuestion()
    {
        var dir = Directory.CreateTempSubdirectory("paasta-make-").FullName;
        try
        {
            // A target whose recipe would fail still exists; only "no rule" (exit 2) means missing.
            File.WriteAllText(Path.Combine(dir, "Makefile"), "cook-image:\n\tfalse\nreal.txt:\n\ttouch real.txt\n");
            Assert.True(await MakeTarget.ExistsAsync(dir, "cook-image", CancellationToken.None));
            Assert.True(await MakeTarget.ExistsAsync(dir, "real.txt", CancellationToken.None));
            Assert.False(await MakeTarget.ExistsAsync(dir, "itest", CancellationToken.None));
            Assert.False(File.Exists(Path.Combine(dir, "real.txt")));                   // --question runs nothing
        }
        finally { Directory.Delete(dir, true); }
    }
}
