using Paasta.Docker;
using Paasta.Errors;
using Paasta.Settings;

namespace Paasta.Tests.Docker;

public class HealthcheckLoopTests
{
    /// <summary>A clock that only moves when the loop sleeps.</summary>
    private sealed class FakeClock
    {
        public TimeSpan Now { get; private set; }
        public int Sleeps { get; private set; }
        public Task Delay(TimeSpan span, CancellationToken _)
        {
            Now += span;
            Sleeps++;
            return Task.CompletedTask;
        }
    }

    private static HealthcheckSpec Spec(double grace = 10, double interval = 2, long max = 3) => new("http", "http://x/status", grace, interval, 1, max);

    private static Task<HealthcheckResult> Run(HealthcheckSpec spec, Func<int, bool> passesOnAttempt, FakeClock clock, Func<bool>? exited = null, List<HealthcheckProgress>? seen = null)
    {
        var n = 0;
        return HealthcheckLoop.RunAsync(spec, _ => Task.FromResult(new HealthcheckAttempt(passesOnAttempt(++n), $"attempt {n}")),
            exited ?? (() => false), p => seen?.Add(p), CancellationToken.None, () => clock.Now, clock.Delay);
    }

    [Fact]
    public async Task PassesOnTheFirstGoodCheck()
    {
        var clock = new FakeClock();
        var r = await Run(Spec(), n => n == 3, clock);
        Assert.True(r.Healthy);
        Assert.Equal(3, r.Attempts);
        Assert.Equal(0, r.CountedFailures);
        Assert.Equal("attempt 3", r.Message);
        Assert.Equal(TimeSpan.FromSeconds(4), clock.Now);
    }

    [Fact]
    public async Task FailuresInsideTheGracePeriodDoNotCount()
    {
        var clock = new FakeClock();
        var seen = new List<HealthcheckProgress>();
        var r = await Run(Spec(grace: 10, interval: 2, max: 3), _ => false, clock, seen: seen);
        Assert.False(r.Healthy);
        // Checks at 0,2,4,6,8 s are in the grace period; 10, 12, 14 s count; the third counted failure ends it.
        Assert.Equal(8, r.Attempts);
        Assert.Equal(3, r.CountedFailures);
        Assert.Contains("3 failures after the 10 s grace period", r.Message);
        Assert.Equal(5, seen.Count(p => p.InGracePeriod));
        Assert.False(r.ContainerExited);
    }

    [Fact]
    public async Task AContainerThatExitsFailsAtOnce()
    {
        var clock = new FakeClock();
        var checks = 0;
        var r = await Run(Spec(), _ => { checks++; return false; }, clock, exited: () => checks >= 2);
        Assert.False(r.Healthy);
        Assert.True(r.ContainerExited);
        Assert.Equal(2, r.Attempts);
    }

    [Fact]
    public async Task CancellationStopsTheLoop()
    {
        using var cts = new CancellationTokenSource();
        var clock = new FakeClock();
        var task = HealthcheckLoop.RunAsync(Spec(), _ => { cts.Cancel(); return Task.FromResult(new HealthcheckAttempt(false, "no")); },
            () => false, null, cts.Token, () => clock.Now, (t, ct) => { ct.ThrowIfCancellationRequested(); return Task.CompletedTask; });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
    }

    [Fact]
    public async Task HttpProbeFollowsPaastasRule()
    {
        using var listener = new System.Net.HttpListener();
        var port = PortPicker.FreePort();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var serve = Task.Run(async () =>
        {
            for (var i = 0; i < 3; i++)
            {
                var ctx = await listener.GetContextAsync();
                var path = ctx.Request.Url!.AbsolutePath;
                ctx.Response.StatusCode = path == "/missing" ? 404 : 200;
                if (path == "/comma") ctx.Response.AddHeader("Content-Type", "text/plain, text/html");
                var body = System.Text.Encoding.UTF8.GetBytes("ok");
                await ctx.Response.OutputStream.WriteAsync(body);
                ctx.Response.Close();
            }
        });
        var ok = await HealthcheckProbes.HttpAsync($"http://127.0.0.1:{port}/status", TimeSpan.FromSeconds(5), CancellationToken.None);
        var missing = await HealthcheckProbes.HttpAsync($"http://127.0.0.1:{port}/missing", TimeSpan.FromSeconds(5), CancellationToken.None);
        var comma = await HealthcheckProbes.HttpAsync($"http://127.0.0.1:{port}/comma", TimeSpan.FromSeconds(5), CancellationToken.None);
        await serve;
        Assert.True(ok.Success, ok.Message);
        Assert.Contains("HTTP 200", ok.Message);
        Assert.False(missing.Success);
        Assert.Contains("HTTP 404", missing.Message);
        Assert.False(comma.Success);
        var refused = await HealthcheckProbes.HttpAsync($"http://127.0.0.1:{PortPicker.FreePort()}/", TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.False(refused.Success);
        var tcp = await HealthcheckProbes.TcpAsync("127.0.0.1", PortPicker.FreePort(), TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.False(tcp.Success);
    }
}

public class ImageNamesTests
{
    [Theory]
    [InlineData("registry:443/services-svc:paasta-4ef01b5a574b519ab546309e89f72972a33b6b75", "4ef01b5a574b519ab546309e89f72972a33b6b75", null)]
    [InlineData("services-svc:paasta-abc123-20240101T000000", "abc123", "20240101T000000")]
    [InlineData("registry/some-image-deadbeef", "deadbeef", null)]
    [InlineData("registry/image:v1", "v1", null)]
    public void ParsesTheShaOutOfADockerUrl(string url, string sha, string? imageVersion)
    {
        Assert.Equal((sha, imageVersion), ImageNames.ParseGitSha(url));
    }

    [Fact]
    public void NamesAndSplitsImages()
    {
        Assert.Equal("127.0.0.1:5000/services-hello:paasta-abc", ImageNames.Full("127.0.0.1:5000/", "hello", "abc", null));
        Assert.Equal("r/services-hello:paasta-abc-v2", ImageNames.Full("r", "hello", "abc", "v2"));
        Assert.Equal(("127.0.0.1:5000/services-hello", "paasta-abc"), ImageNames.SplitTag("127.0.0.1:5000/services-hello:paasta-abc"));
        Assert.Equal(("127.0.0.1:5000/services-hello", "latest"), ImageNames.SplitTag("127.0.0.1:5000/services-hello"));
        Assert.Equal(("127.0.0.1:5000", "services-hello", "paasta-abc"), ImageNames.SplitRegistry("127.0.0.1:5000/services-hello:paasta-abc"));
        Assert.Equal(("registry-1.docker.io", "library/busybox", "latest"), ImageNames.SplitRegistry("busybox"));
        Assert.Equal(("localhost", "a/b", "1"), ImageNames.SplitRegistry("localhost/a/b:1"));
        Assert.Equal("a-b_c.d-e", ImageNames.SafeTagPart("A B_c.d@e"));
    }

    [Theory]
    [InlineData("127.0.0.1:5000", true)]
    [InlineData("127.1.2.3", true)]
    [InlineData("localhost:5000", true)]
    [InlineData("[::1]:5000", true)]
    [InlineData("docker-paasta.yelpcorp.com:443", false)]
    [InlineData("10.0.0.1:5000", false)]
    public void LoopbackRegistriesAreSpokenToOverHttp(string host, bool loopback) => Assert.Equal(loopback, ImageRegistry.IsLoopback(host));
}

public class DockerIgnoreTests
{
    [Fact]
    public void MatchesLikeTheDockerCli()
    {
        var ignore = new DockerIgnore();
        foreach (var line in new[] { "# comment", "", ".git", "*.log", "build/**", "docs/*.md", "!docs/keep.md", "**/tmp" })
            ignore.Add(line);
        Assert.True(ignore.IsExcluded(".git"));
        Assert.True(ignore.IsExcluded(".git/config"));
        Assert.True(ignore.IsExcluded("app.log"));
        Assert.False(ignore.IsExcluded("logs/app.log"));               // * does not cross folders
        Assert.True(ignore.IsExcluded("build/x/y.o"));
        Assert.True(ignore.IsExcluded("docs/readme.md"));
        Assert.False(ignore.IsExcluded("docs/keep.md"));               // the exception wins, being later
        Assert.True(ignore.IsExcluded("a/b/tmp/file"));
        Assert.False(ignore.IsExcluded("src/main.c"));
    }

    [Fact]
    public void BuildContextLeavesOutIgnoredFiles()
    {
        var dir = Directory.CreateTempSubdirectory("paasta-ctx-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "Dockerfile"), "FROM scratch\n");
            File.WriteAllText(Path.Combine(dir, ".dockerignore"), "secret.txt\nDockerfile\n");
            File.WriteAllText(Path.Combine(dir, "secret.txt"), "x");
            Directory.CreateDirectory(Path.Combine(dir, "www"));
            File.WriteAllText(Path.Combine(dir, "www/index.html"), "hi");
            using var tar = new MemoryStream();
            Assert.Equal(3, BuildContext.Write(dir, tar));
            tar.Position = 0;
            using var reader = new System.Formats.Tar.TarReader(tar);
            var names = new List<string>();
            while (reader.GetNextEntry() is { } e) names.Add(e.Name);
            Assert.Contains("Dockerfile", names);                        // always sent, as the CLI does
            Assert.Contains("www/index.html", names);
            Assert.DoesNotContain("secret.txt", names);
        }
        finally { Directory.Delete(dir, true); }
    }
}

public class DockerEngineTests
{
    [Fact]
    public async Task AMissingDaemonIsAClearConnectionError()
    {
        var engine = DockerEngine.Connect("unix:///tmp/paasta-no-such-docker.sock");
        var e = await Assert.ThrowsAsync<PaastaException>(() => engine.Call("ping", c => c.System.PingAsync()));
        Assert.Equal("DockerUnavailable", e.ErrorId);
        Assert.Equal(PaastaErrorKind.ConnectionError, e.Kind);
        Assert.Contains("there is no socket at /tmp/paasta-no-such-docker.sock", e.Message);
        Assert.Contains("Is dockerd running?", e.Message);
    }

    [Fact]
    public void EndpointsComeFromTheParameterThenDockerHost()
    {
        Assert.Equal("tcp://h:1", DockerEngine.ResolveEndpoint(" tcp://h:1 "));
        if (Environment.GetEnvironmentVariable("DOCKER_HOST") is null) Assert.Equal(DockerEngine.DefaultHost, DockerEngine.ResolveEndpoint(null));
        Assert.Equal("DockerHostInvalid", Assert.Throws<PaastaException>(() => DockerEngine.Connect("ftp://x")).ErrorId);
    }
}
