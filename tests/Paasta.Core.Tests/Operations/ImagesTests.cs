using Paasta.Docker;
using Paasta.Errors;
using Paasta.Operations;
using Paasta.Settings;

namespace Paasta.Tests.Operations;

/// <summary>Build-PaastaImage and Publish-PaastaImage: the names images get, which are pushed, and where.</summary>
public sealed class ImagesTests : IDisposable
{
    private const string Sha = "4ef01b5a574b519ab546309e89f72972a33b6b75";
    private static readonly LocalIdentity Me = new("alice", "box.example.com", "box");
    private readonly TempSoaDir _soa = new();
    private readonly RecordingSink _sink = new();
    private readonly FakeContainerEngine _engine = new();

    public ImagesTests()
    {
        _soa.Service("svc");
        _soa.Write("svc/kubernetes-local.yaml", "main: {}\n");
    }

    public void Dispose() => _soa.Dispose();

    private OperationContext Context(PaastaSettings? given = null, PaastaSettings? saved = null, Dictionary<string, string>? environment = null) =>
        new(new ResolvedSettings((given ?? new PaastaSettings()) with { SoaDir = _soa.Root }, () => saved ?? new PaastaSettings(),
            name => environment?.GetValueOrDefault(name)), _sink, default, _soa.Root);

    [Fact]
    public void ABuildIsTaggedWithTheTagElseTheCommitsNameElseDockerTagElseCookImagesName()
    {
        var saved = new PaastaSettings { DockerRegistry = "r:5000" };
        string Tag(ImageBuildRequest request, Dictionary<string, string>? environment = null) =>
            Images.Build(Context(saved: saved, environment: environment), request, _engine, Me)!.Image;
        Assert.Equal("mine", Tag(new ImageBuildRequest { Service = "svc", Tag = "mine", Commit = Sha }));
        Assert.Equal($"r:5000/services-svc:paasta-{Sha}-v2", Tag(new ImageBuildRequest { Service = "svc", Commit = Sha, ImageVersion = "v2" }));
        Assert.Equal("from-env", Tag(new ImageBuildRequest { Service = "services-svc" }, new() { ["DOCKER_TAG"] = "from-env" }));
        Assert.Equal("paasta-cook-image-svc-alice", Tag(new ImageBuildRequest { Service = "svc/" }));
        Assert.Equal("InvalidImageVersion", Assert.Throws<PaastaException>(() => Tag(new ImageBuildRequest { Service = "svc", ImageVersion = "a b" })).ErrorId);
    }

    [Fact]
    public void WhatIfBuildsNothing()
    {
        _sink.Confirm = false;
        Assert.Null(Images.Build(Context(), new ImageBuildRequest { Service = "svc", Tag = "t" }, _engine, Me));
        Assert.Empty(_engine.Calls);
        Assert.Equal(("t", $"Build the image from {_soa.Root}"), Assert.Single(_sink.Asked));
    }

    [Fact]
    public void PublishPushesEachNameTheRegistryLacksOrAllWithForce()
    {
        var plain = $"r:5000/services-svc:paasta-{Sha}";
        var versioned = plain + "-v2";
        _engine.Local.Add(versioned);          // only the versioned name was built: the plain one is tagged from it
        _engine.InRegistry.Add(plain);
        var request = new ImagePublishRequest { Service = "svc", Commit = Sha, ImageVersion = "v2" };
        var results = Images.Publish(Context(saved: new PaastaSettings { DockerRegistry = "r:5000" }), request, _engine);
        Assert.Equal(new[] { (plain, false), (versioned, true) }, results.Select(r => (r.Image, r.Pushed)));
        Assert.Equal(new[] { $"manifest {plain}", $"manifest {versioned}", $"push {versioned}" }, _engine.Calls);

        var forced = Images.Publish(Context(saved: new PaastaSettings { DockerRegistry = "r:5000" }), request with { Force = true }, _engine);
        Assert.All(forced, r => Assert.True(r.Pushed));
        Assert.All(forced, r => Assert.True(r.ExistedBefore));
    }

    [Fact]
    public void PublishRefusesAnImageThatWasNeverBuilt()
    {
        var e = Assert.Throws<PaastaException>(() => Images.Publish(Context(given: new PaastaSettings { DockerRegistry = "given" }), new ImagePublishRequest { Service = "svc", Commit = Sha }, _engine));
        Assert.Equal("ImageNotBuilt", e.ErrorId);
        Assert.Equal($"given/services-svc:paasta-{Sha}", e.Target);
    }

    [Fact]
    public void ImagesUseTheOneRegistryRule()
    {
        var request = new ImagePublishRequest { Service = "svc", Commit = Sha };
        var none = Assert.Throws<PaastaException>(() => Images.Publish(Context(), request, _engine));
        Assert.Equal("RegistryNotConfigured", none.ErrorId);
        Assert.Equal(PaastaErrorKind.InvalidOperation, none.Kind);
        _soa.Write("svc/service.yaml", "description: x\nexternal_link: y\ndocker_registry: yaml:5000\n");
        _engine.InRegistry.Add($"yaml:5000/services-svc:paasta-{Sha}");
        _engine.InRegistry.Add($"given:1/services-svc:paasta-{Sha}");
        Assert.Equal("yaml:5000", Images.Publish(Context(saved: new PaastaSettings { DockerRegistry = "saved" }), request, _engine).Single().Registry);
        Assert.Equal("given:1", Images.Publish(Context(given: new PaastaSettings { DockerRegistry = "given:1/" }), request, _engine).Single().Registry);
    }
}
