using Paasta.Docker;
using Paasta.Errors;
using Paasta.Operations;
using Paasta.Settings;

namespace Paasta.Tests.Operations;

/// <summary>The decisions of Invoke-PaastaLocalRun: instance, image, environment, and the order of its steps.</summary>
public sealed class LocalRunTests : IDisposable
{
    private const string Sha = "4ef01b5a574b519ab546309e89f72972a33b6b75";
    private const string OtherSha = "99999999574b519ab546309e89f72972a33b6b75";
    private static readonly LocalIdentity Me = new("alice", "box.example.com", "box");
    private readonly TempSoaDir _soa = new();
    private readonly RecordingSink _sink = new();

    public LocalRunTests()
    {
        _soa.Service("svc", "backend", "local.everything");
        _soa.Write("svc/kubernetes-local.yaml", "main: {deploy_group: local.everything, healthcheck_mode: http}\njob: {cpus: 2}\n");
        _soa.Write("svc/adhoc-local.yaml", "job: {cpus: 3, cmd: ./job}\nonce: {deploy_group: local.everything, cmd: echo once}\n");
        _soa.Write("svc/tron-local.yaml",
            "nightly:\n  schedule: daily\n  deploy_group: local.everything\n  actions:\n    run: {command: 'report --day {shortdate-1} --month {ym}'}\n    bad: {command: 'echo {runid}'}\n");
    }

    public void Dispose() => _soa.Dispose();

    private OperationContext Context(PaastaSettings? given = null, PaastaSettings? saved = null, Dictionary<string, string>? environment = null) =>
        new(new ResolvedSettings((given ?? new PaastaSettings()) with { SoaDir = _soa.Root }, () => saved ?? new PaastaSettings(),
            name => environment?.GetValueOrDefault(name)), _sink, default, _soa.Root);

    private LocalRunDecision? Decide(LocalRunRequest request, OperationContext? context = null) =>
        LocalRun.Decide(context ?? Context(), request, Me, () => 40000, _ => true);

    private static Dictionary<string, string> Env(LocalRunDecision decision) => decision.Plan.Environment.ToDictionary(e => e.Key, e => e.Value);

    private void Deployments(string dockerImageSha, string gitSha) => _soa.Write("svc/deployments.json",
        "{\"v1\": {}, \"v2\": {\"deployments\": {\"local.everything\": {\"docker_image\": \"services-svc:paasta-" + dockerImageSha
        + "\", \"git_sha\": \"" + gitSha + "\", \"image_version\": null}}, \"controls\": {}}}");

    [Fact]
    public void ANameInSeveralFilesIsTakenAsPaastaTakesIt_AdhocFirst()
    {
        var d = Decide(new LocalRunRequest { Service = "svc", Cluster = "local", Instance = "job", Image = "img" })!;
        Assert.Equal("adhoc", d.Instance.InstanceType);
        Assert.Equal(3, d.Instance.Cpus);
    }

    [Fact]
    public void ALiteralInstanceThatMatchesNothingIsInstanceNotFound()
    {
        Assert.Null(Decide(new LocalRunRequest { Service = "svc", Cluster = "local", Instance = "nope", Image = "img" }));
        Assert.Equal("InstanceNotFound", Assert.Single(_sink.Errors).ErrorId);
        Assert.Throws<PaastaException>(() => Decide(new LocalRunRequest { Service = "nosuch", Instance = "main", Image = "img" }));
    }

    [Fact]
    public void AWildcardMustNameOneInstance()
    {
        var e = Assert.Throws<PaastaException>(() => Decide(new LocalRunRequest { Service = "svc", Cluster = "local", Instance = "*", Image = "img" }));
        Assert.Equal("LocalRunInstanceAmbiguous", e.ErrorId);
        Assert.Equal("once", Decide(new LocalRunRequest { Service = "svc", Cluster = "local", Instance = "onc?", Image = "img" })!.Instance.Instance);
    }

    [Fact]
    public void TheClusterIsTheGivenOneThenTheSettingThenTheOnlyOne()
    {
        Assert.Equal("local", Decide(new LocalRunRequest { Service = "svc", Instance = "main", Image = "img" })!.Instance.Cluster);
        _soa.Write("svc/kubernetes-other.yaml", "main: {}\n");
        Assert.Equal("ClusterRequired", Assert.Throws<PaastaException>(() => Decide(new LocalRunRequest { Service = "svc", Instance = "main", Image = "img" })).ErrorId);
        Assert.Equal("other", Decide(new LocalRunRequest { Service = "svc", Instance = "main", Image = "img" }, Context(saved: new PaastaSettings { Cluster = "other" }))!.Instance.Cluster);
        Assert.Equal("local", Decide(new LocalRunRequest { Service = "svc", Cluster = "local", Instance = "main", Image = "img" }, Context(saved: new PaastaSettings { Cluster = "other" }))!.Instance.Cluster);
    }

    [Fact]
    public void BuildTagsTheImageWithDockerTagElseLocalRunsName()
    {
        var d = Decide(new LocalRunRequest { Service = "svc", Instance = "main", Path = "checkout" })!;
        Assert.Equal(LocalRunImageSource.Build, d.Source);
        Assert.Equal("paasta-local-run-svc-alice", d.Image);
        Assert.Equal(Path.Combine(_soa.Root, "checkout"), d.BuildPath);
        Assert.Equal("paasta-local-run-svc-alice", Env(d)["PAASTA_DOCKER_IMAGE"]);
        var tagged = Decide(new LocalRunRequest { Service = "svc", Instance = "main" }, Context(environment: new() { ["DOCKER_TAG"] = $"r/services-svc:paasta-{Sha}" }))!;
        Assert.Equal($"r/services-svc:paasta-{Sha}", tagged.Image);
        Assert.Equal(Sha[..8], Env(tagged)["PAASTA_GIT_SHA"]);        // the commit the tag names
    }

    [Fact]
    public void PullRunsTheDeployedImageAndPaastaGitShaComesFromItsTag()
    {
        // git_sha and the tag disagree (a hand-edited or re-tagged deployment): the image that runs decides.
        Deployments(Sha, OtherSha);
        var d = Decide(new LocalRunRequest { Service = "svc", Instance = "main", Pull = true }, Context(saved: new PaastaSettings { DockerRegistry = "registry.example:5000" }))!;
        Assert.Equal($"registry.example:5000/services-svc:paasta-{Sha}", d.Image);
        var env = Env(d);
        Assert.Equal(Sha[..8], env["PAASTA_GIT_SHA"]);
        Assert.Equal($"services-svc:paasta-{Sha}", env["PAASTA_DOCKER_IMAGE"]);
    }

    [Fact]
    public void CommitRunsTheImageOfThatCommitFromTheRegistryWithoutDeploymentsJson()
    {
        var d = Decide(new LocalRunRequest { Service = "svc", Instance = "main", Commit = Sha.ToUpperInvariant() }, Context(saved: new PaastaSettings { DockerRegistry = "registry.example:5000" }))!;
        Assert.Equal(LocalRunImageSource.Commit, d.Source);
        Assert.Equal($"registry.example:5000/services-svc:paasta-{Sha}", d.Image);
        var env = Env(d);
        Assert.Equal(Sha[..8], env["PAASTA_GIT_SHA"]);
        Assert.Equal($"services-svc:paasta-{Sha}", env["PAASTA_DOCKER_IMAGE"]);
        Assert.Equal("ImageSourceConflict", Assert.Throws<PaastaException>(() => Decide(new LocalRunRequest { Service = "svc", Instance = "main", Commit = Sha, Image = "x" })).ErrorId);
        Assert.Equal("ImageSourceConflict", Assert.Throws<PaastaException>(() => Decide(new LocalRunRequest { Service = "svc", Instance = "main", Commit = Sha, Build = true })).ErrorId);
        Assert.Equal("InvalidCommit", Assert.Throws<PaastaException>(() => Decide(new LocalRunRequest { Service = "svc", Instance = "main", Commit = "abc", Path = "/nonexistent" },
            Context(saved: new PaastaSettings { DockerRegistry = "r" }))).ErrorId);
    }

    [Fact]
    public void TheRegistryIsTheParameterThenServiceYamlThenTheSettings()
    {
        Deployments(Sha, Sha);
        LocalRunRequest Pull() => new() { Service = "svc", Instance = "main", Pull = true };
        var none = Assert.Throws<PaastaException>(() => Decide(Pull()));
        Assert.Equal("RegistryNotConfigured", none.ErrorId);
        Assert.Equal(PaastaErrorKind.InvalidOperation, none.Kind);
        Assert.StartsWith("saved/", Decide(Pull(), Context(saved: new PaastaSettings { DockerRegistry = "saved" }))!.Image);
        _soa.Write("svc/service.yaml", "description: x\nexternal_link: y\ndocker_registry: yaml:5000\n");
        Assert.StartsWith("yaml:5000/", Decide(Pull(), Context(saved: new PaastaSettings { DockerRegistry = "saved" }))!.Image);
        Assert.StartsWith("yaml:5000/", Decide(Pull(), Context(environment: new() { ["PAASTA_DOCKER_REGISTRY"] = "env" }))!.Image);
        Assert.StartsWith("given/", Decide(Pull(), Context(given: new PaastaSettings { DockerRegistry = "given/" }))!.Image);
    }

    [Fact]
    public void KubernetesInstancesGetTheSoaConfigsCommit()
    {
        Assert.Equal("", Env(Decide(new LocalRunRequest { Service = "svc", Instance = "main", Image = "img" })!)["PAASTA_SOA_CONFIGS_SHA"]);
        _soa.Write(".metadata.json", $$"""{"git_sha": "{{Sha}}"}""");
        Assert.Equal(Sha, Env(Decide(new LocalRunRequest { Service = "svc", Instance = "main", Image = "img" })!)["PAASTA_SOA_CONFIGS_SHA"]);
        Assert.DoesNotContain("PAASTA_SOA_CONFIGS_SHA", Env(Decide(new LocalRunRequest { Service = "svc", Instance = "once", Image = "img" })!).Keys);
    }

    [Fact]
    public void TronActionsRunWithTheirDateVariablesFilledInInteractivelyWithoutAPort()
    {
        var d = Decide(new LocalRunRequest { Service = "svc", Instance = "nightly.run", Image = "img", Date = new DateTime(2024, 1, 1, 15, 30, 0) })!;
        Assert.Equal("tron", d.Instance.InstanceType);
        Assert.Equal(new[] { "sh", "-c", "report --day 2023-12-31 --month 2024-01" }, d.Plan.Command);
        Assert.True(d.Plan.Interactive);
        Assert.Null(d.Plan.HostPort);
        Assert.Equal("", Env(d)["PAASTA_GIT_SHA"]);
        // -Command replaces it; a variable only a Tron master has is refused, naming the file, line and key.
        Assert.Equal(new[] { "sh", "-c", "true" }, Decide(new LocalRunRequest { Service = "svc", Instance = "nightly.bad", Image = "img", Command = new[] { "true" } })!.Plan.Command);
        var bad = Assert.Throws<PaastaException>(() => Decide(new LocalRunRequest { Service = "svc", Instance = "nightly.bad", Image = "img" }));
        Assert.Equal("TronCommandInvalid", bad.ErrorId);
        Assert.EndsWith("tron-local.yaml", bad.File);
        Assert.Equal(6, bad.Line);
        Assert.Equal("command", bad.Key);
        Assert.Contains("{runid}", bad.Message);
    }

    [Fact]
    public void AnEnvValueWithoutItsNameIsRefusedWithoutEchoingIt()
    {
        var e = Assert.Throws<PaastaException>(() => Decide(new LocalRunRequest { Service = "svc", Instance = "main", Image = "img", Env = new[] { new EnvArgument(null, "SOME-SECRET") } }));
        Assert.Equal("EnvInvalid", e.ErrorId);
        Assert.DoesNotContain("SOME-SECRET", e.Message);
        Assert.Null(e.Target);
        var named = Assert.Throws<PaastaException>(() => Decide(new LocalRunRequest
        {
            Service = "svc", Instance = "main", Image = "img",
            Env = new[] { new EnvArgument("OK", "1"), new EnvArgument("TOKEN=hunter2", "x") },
        }));
        Assert.Equal("EnvInvalid", named.ErrorId);
        Assert.DoesNotContain("hunter2", named.Message);
        Assert.Contains("entry 2 of 2", named.Message);
        Assert.Contains("'TOKEN…'", named.Message);
        var fine = Decide(new LocalRunRequest { Service = "svc", Instance = "main", Image = "img", Env = new[] { new EnvArgument(null, "A=b=c"), new EnvArgument("B", "") } })!;
        Assert.Equal("b=c", Env(fine)["A"]);
        Assert.Equal("", Env(fine)["B"]);
    }

    [Fact]
    public void StepsAreAskedInOrderAndWhatIfTouchesNoEngine()
    {
        var engine = new FakeContainerEngine();
        _sink.Confirm = false;
        Assert.Null(LocalRun.Invoke(Context(), new LocalRunRequest { Service = "svc", Instance = "main", Path = "checkout" }, engine, null, Me));
        Assert.Empty(engine.Calls);
        Assert.Equal("Build the image from " + Path.Combine(_soa.Root, "checkout") + " (make cook-image with DOCKER_TAG, or the Dockerfile)", Assert.Single(_sink.Asked).Action);

        _sink.Confirm = true;
        var result = Assert.IsType<LocalRunResult>(LocalRun.Invoke(Context(), new LocalRunRequest { Service = "svc", Instance = "main", Path = "checkout" }, engine, null, Me));
        Assert.Equal(new[] { $"build paasta-local-run-svc-alice from {Path.Combine(_soa.Root, "checkout")}", "run paasta-local-run-svc-alice" }, engine.Calls);
        Assert.Equal("svc.main on local", _sink.Asked.Last().Target);
        Assert.True(result.Healthy);
        // Docker's progress and output reach the sink.
        Assert.Contains(_sink.ProgressReports, p => p.Activity == "make cook-image (paasta-local-run-svc-alice)" && p.State == ProgressState.Completed);
        Assert.Contains(_sink.Messages, m => m.Text == "Step 1/1 : FROM scratch");
    }

    [Fact]
    public void PullAndCommitPullBeforeRunning_DryRunRunsNothing()
    {
        Deployments(Sha, Sha);
        var engine = new FakeContainerEngine();
        var context = Context(saved: new PaastaSettings { DockerRegistry = "r" });
        LocalRun.Invoke(context, new LocalRunRequest { Service = "svc", Instance = "main", Pull = true }, engine, null, Me);
        LocalRun.Invoke(context, new LocalRunRequest { Service = "svc", Instance = "main", Commit = OtherSha }, engine, null, Me);
        Assert.Equal(new[] { $"pull r/services-svc:paasta-{Sha}", $"run r/services-svc:paasta-{Sha}", $"pull r/services-svc:paasta-{OtherSha}", $"run r/services-svc:paasta-{OtherSha}" }, engine.Calls);
        Assert.Contains(_sink.ProgressReports, p => p.Activity == $"Pulling r/services-svc:paasta-{Sha}" && p.PercentComplete == 50);
        var plan = Assert.IsType<LocalRunPlan>(LocalRun.Invoke(context, new LocalRunRequest { Service = "svc", Instance = "main", Pull = true, DryRun = true }, engine, null, Me));
        Assert.Equal(4, engine.Calls.Count);
        Assert.Equal($"r/services-svc:paasta-{Sha}", plan.Image);
    }

    [Fact]
    public void AFailedHealthcheckIsAnErrorCarryingTheResult()
    {
        var engine = new FakeContainerEngine { Healthy = false };
        var result = LocalRun.Invoke(Context(), new LocalRunRequest { Service = "svc", Instance = "main", Image = "img" }, engine, null, Me);
        var error = Assert.Single(_sink.Errors);
        Assert.Equal("HealthcheckFailed", error.ErrorId);
        Assert.Same(result, error.Target);
    }

    [Fact]
    public void AnInteractiveRunNeedsAConsole()
    {
        var engine = new FakeContainerEngine();
        Assert.Equal("LocalRunNeedsConsole", Assert.Throws<PaastaException>(() => LocalRun.Invoke(Context(), new LocalRunRequest { Service = "svc", Instance = "once", Image = "img" }, engine, null, Me)).ErrorId);
        LocalRun.Invoke(Context(), new LocalRunRequest { Service = "svc", Instance = "once", Image = "img", Interactive = false }, engine, null, Me);
        Assert.False(engine.LastPlan!.Interactive);
    }

    [Fact]
    public void PortsAndModesAreCheckedBeforeAnythingRuns()
    {
        Assert.Equal("PortInUse", Assert.Throws<PaastaException>(() => LocalRun.Decide(Context(), new LocalRunRequest { Service = "svc", Instance = "main", Image = "img", Port = 1234 }, Me, () => 40000, _ => false)).ErrorId);
        Assert.Equal("LocalRunModeConflict", Assert.Throws<PaastaException>(() => Decide(new LocalRunRequest { Service = "svc", Instance = "main", Image = "img", Detach = true, Interactive = true })).ErrorId);
        Assert.Equal("ImageSourceConflict", Assert.Throws<PaastaException>(() => Decide(new LocalRunRequest { Service = "svc", Instance = "main", Image = "img", Pull = true })).ErrorId);
    }
}
