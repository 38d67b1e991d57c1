using System.Management.Automation;

namespace Paasta.Cmdlets.Tests;

/// <summary>Invoke-PaastaLocalRun and the image cmdlets as an operator meets them, where no Docker engine is needed.</summary>
public sealed class LocalRunCmdletTests : IDisposable
{
    private const string Sha = "4ef01b5a574b519ab546309e89f72972a33b6b75";
    private const string NoEngine = "unix:///nonexistent/paasta-test-docker.sock";
    private readonly PaastaHost _host = new();
    private static readonly string Examples = Path.Combine(PaastaHost.RepositoryRoot, "examples", "soa-configs");

    public void Dispose() => _host.Dispose();

    private static object? Property(PSObject o, string name) => o.Properties[name]?.Value;

    [Fact]
    public void AnEnvValueWithoutItsNameIsRefusedAndNotEchoed()
    {
        var r = _host.Invoke("Invoke-PaastaLocalRun -SoaDir $args[0] -Service hello -Cluster local -Instance main -Image x -DryRun -Env 'SOME-SECRET'", Examples);
        Assert.Empty(r.Output);
        var error = Assert.Single(r.Errors);
        Assert.Equal("EnvInvalid", r.ErrorIds.Single());
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.DoesNotContain("SOME-SECRET", error.Exception.Message);
        Assert.DoesNotContain("SOME-SECRET", error.ErrorDetails?.Message ?? "");
        Assert.Null(error.TargetObject);
    }

    [Fact]
    public void ATronActionIsPlannedWithItsCommandInteractivelyWithoutAPort()
    {
        var r = _host.Invoke("Invoke-PaastaLocalRun -SoaDir $args[0] -Service hello -Cluster local -Instance nightly_report.collect -Image x -Date 2024-01-01 -DryRun", Examples);
        Assert.Empty(r.Errors);
        var plan = Assert.Single(r.Output);
        Assert.Equal("Paasta.Docker.LocalRunPlan", plan.TypeNames[0]);
        Assert.Equal("tron", Property(plan, "InstanceType"));
        Assert.Equal(new[] { "sh", "-c", "echo collecting" }, ((IEnumerable<string>)Property(plan, "Command")!).ToArray());
        Assert.Equal(true, Property(plan, "Interactive"));
        Assert.Null(Property(plan, "HostPort"));
    }

    [Fact]
    public void CommitNamesTheImageOfThatCommitInTheServicesRegistryOrTheGivenOne()
    {
        var r = _host.Invoke($"Invoke-PaastaLocalRun -SoaDir $args[0] -Service hello -Cluster local -Instance main -Commit {Sha} -DryRun", Examples);
        Assert.Empty(r.Errors);
        Assert.Equal($"127.0.0.1:5000/services-hello:paasta-{Sha}", Property(r.Output.Single(), "Image"));
        var given = _host.Invoke($"Invoke-PaastaLocalRun -SoaDir $args[0] -Service hello -Cluster local -Instance main -Commit {Sha} -Registry given:1 -DryRun", Examples);
        Assert.Equal($"given:1/services-hello:paasta-{Sha}", Property(given.Output.Single(), "Image"));
    }

    [Fact]
    public void WithoutARegistryEveryImageCmdletSaysRegistryNotConfigured()
    {
        if (Environment.GetEnvironmentVariable("PAASTA_DOCKER_REGISTRY") is { Length: > 0 }) return;   // a registry is set for this process
        var soa = Directory.CreateTempSubdirectory("paasta-noreg-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(soa, "svc"));
            File.WriteAllText(Path.Combine(soa, "svc", "service.yaml"), "description: x\n");
            File.WriteAllText(Path.Combine(soa, "svc", "kubernetes-local.yaml"), "main: {}\n");
            foreach (var script in new[]
                     {
                         $"Publish-PaastaImage -SoaDir $args[0] -Service svc -Commit {Sha} -DockerHost {NoEngine}",
                         $"Build-PaastaImage -SoaDir $args[0] -Service svc -Commit {Sha} -DockerHost {NoEngine} -WhatIf",
                         $"Invoke-PaastaLocalRun -SoaDir $args[0] -Service svc -Instance main -Commit {Sha} -DryRun",
                     })
            {
                var r = _host.Invoke(script, soa);
                var error = Assert.Single(r.Errors);
                Assert.Equal("RegistryNotConfigured", r.ErrorIds.Single());
                Assert.Equal(ErrorCategory.InvalidOperation, error.CategoryInfo.Category);
            }
        }
        finally { Directory.Delete(soa, true); }
    }

    [Fact]
    public void WhatIfTouchesNoEngine()
    {
        var run = _host.Invoke($"Invoke-PaastaLocalRun -SoaDir $args[0] -Service hello -Cluster local -Instance greet -Image busybox -DockerHost {NoEngine} -WhatIf", Examples);
        Assert.Empty(run.Output);
        Assert.Empty(run.Errors);
        var build = _host.Invoke($"Build-PaastaImage -SoaDir $args[0] -Service hello -Tag t -Path $args[0] -DockerHost {NoEngine} -WhatIf", Examples);
        Assert.Empty(build.Output);
        Assert.Empty(build.Errors);
    }

    [Fact]
    public void AnUnreachableEngineIsOneConnectionError()
    {
        var r = _host.Invoke($"Invoke-PaastaLocalRun -SoaDir $args[0] -Service hello -Cluster local -Instance main -Image busybox -DockerHost {NoEngine} -Confirm:$false", Examples);
        Assert.Empty(r.Output);
        Assert.Equal(new[] { "DockerUnavailable" }, r.ErrorIds);
        Assert.Equal(ErrorCategory.ConnectionError, r.Errors[0].CategoryInfo.Category);
    }
}
