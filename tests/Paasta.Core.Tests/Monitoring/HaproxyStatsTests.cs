using System.Net;
using System.Net.Sockets;
using System.Text;
using Paasta.Monitoring;
using Paasta.Tests.Corpus;
using Paasta.Errors;

namespace Paasta.Tests.Monitoring;

public class HaproxyStatsTests
{
    /// <summary>What HAProxy 2.6 (Debian 12) printed for `show stat` on its stats socket.</summary>
    private static string Fixture() =>
        File.ReadAllText(Path.Combine(MalformedCorpusTests.RepoRoot, "tests", "Paasta.Core.Tests", "Monitoring", "haproxy-2.6-show-stat.csv"));

    [Fact]
    public void ParsesRealShowStatOutput()
    {
        var rows = HaproxyStatsCsv.Parse(Fixture(), "fixture");
        Assert.Equal(10, rows.Count);
        Assert.Equal(new[] { "UP", "UP", "DOWN", "no check", "MAINT" }, rows.Where(r => r.Proxy == "web.main" && r.IsServer).Select(r => r.Status));
        var counts = HaproxyStatsCsv.CountUp(rows);
        Assert.Equal(2, counts["web.main"]);    // web-0, web-1; not DOWN, "no check", MAINT, nor the BACKEND row
        Assert.Equal(1, counts["web.canary"]);
        Assert.False(counts.ContainsKey("stats")); // only FRONTEND/BACKEND rows there
    }

    [Fact]
    public void CountsEveryStatusStartingWithUp()
    {
        // check_desc comes before status here, so a field holding a quoted comma would shift status if split naively.
        var csv = "# pxname,svname,check_desc,status,weight\n"
            + "svc.main,a,Layer7 check passed,UP,1\n"
            + "svc.main,b,going down,UP 1/3,1\n"
            + "svc.main,c,going up,DOWN 1/2,1\n"
            + "svc.main,d,,NOLB,1\n"
            + "svc.main,e,,DRAIN,1\n"
            + "svc.main,f,\"quoted, with a comma and \"\"quotes\"\"\",\"UP\",1\n"
            + "svc.main,g,\"a, b\",DOWN,1\n"
            + "svc.main,BACKEND,,UP,6\n"
            + "svc.main,FRONTEND,,OPEN,\n"
            + "other.ns,x,,DOWN,1\n";
        var rows = HaproxyStatsCsv.Parse(csv, "test");
        Assert.Equal("UP", rows.Single(r => r.Server == "f").Status);
        Assert.Equal("DOWN", rows.Single(r => r.Server == "g").Status);
        var counts = HaproxyStatsCsv.CountUp(rows);
        Assert.Equal(3, counts["svc.main"]);
        Assert.Equal(0, counts["other.ns"]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("<html>stats</html>\n")]
    [InlineData("svc.main,a,UP\n")]
    [InlineData("# pxname,svname,status\nsvc.main,a\n")]
    public void RefusesWhatIsNotStatsCsv(string text) =>
        Assert.Equal("HaproxyStatsInvalid", Assert.Throws<PaastaException>(() => HaproxyStatsCsv.Parse(text, "src")).ErrorId);

    [Fact]
    public void SourcesAndLocationsParse()
    {
        Assert.Equal("/run/haproxy.sock", HaproxyStatsSource.Parse("/run/haproxy.sock").SocketPath);
        Assert.Equal("/run/haproxy.sock", HaproxyStatsSource.Parse("unix:/run/haproxy.sock").SocketPath);
        Assert.Equal("/run/haproxy.sock", HaproxyStatsSource.Parse("unix:///run/haproxy.sock").SocketPath);
        Assert.Equal("http://h:3212/;csv;norefresh", HaproxyStatsSource.Parse("http://h:3212/").Url!.ToString());
        Assert.Equal("http://h:3212/;csv;norefresh;scope=web.main", HaproxyStatsSource.Parse("http://h:3212/;csv;norefresh;scope=web.main").Url!.ToString());
        Assert.Equal("HaproxyStatsSourceInvalid", Assert.Throws<PaastaException>(() => HaproxyStatsSource.Parse("ftp://h/")).ErrorId);
        Assert.Equal("HaproxyStatsSourceInvalid", Assert.Throws<PaastaException>(() => HaproxyStatsSource.Parse("relative.sock")).ErrorId);

        var locations = HaproxyLocation.FromArguments(new[]
        {
            "uswest=http://10.0.0.1:3212/", "/run/local.sock", "uswest=http://10.0.0.2:3212/;csv;scope=a=b", "http://x:1/?q=a=b",
        }, "prod");
        Assert.Equal(new[] { "prod", "uswest" }, locations.Select(l => l.Name));
        Assert.Equal(new[] { "/run/local.sock", "http://x:1/?q=a=b" }, locations[0].Sources.Select(s => s.Text));
        Assert.Equal(2, locations[1].Sources.Count);
    }

    [Fact]
    public async Task ReadsTheStatsSocketAndTriesTheNextSourceOnError()
    {
        var dir = Path.Combine(Path.GetTempPath(), "paasta-hap-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "stats.sock");
        try
        {
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(4);
            string? command = null;
            var server = Task.Run(async () =>
            {
                using var peer = await listener.AcceptAsync();
                var buffer = new byte[64];
                var n = await peer.ReceiveAsync(buffer, SocketFlags.None);
                command = Encoding.ASCII.GetString(buffer, 0, n);
                await peer.SendAsync(Encoding.ASCII.GetBytes(Fixture()), SocketFlags.None);
                peer.Shutdown(SocketShutdown.Both);
            });
            using var reader = new HaproxyStatsReader(TimeSpan.FromSeconds(5));
            var missing = Path.Combine(dir, "missing.sock");
            var location = HaproxyLocation.FromArguments(new[] { missing, path }, "here").Single();
            var counts = await reader.CountAsync(location, CancellationToken.None);
            await server;
            Assert.Equal("show stat\n", command);
            Assert.Equal(path, counts.Source.Text);
            Assert.Equal(2, counts.Up("web.main"));
            Assert.Equal(0, counts.Up("nope.main"));

            var gone = HaproxyLocation.FromArguments(new[] { missing }, "here").Single();
            var e = await Assert.ThrowsAsync<PaastaException>(() => reader.CountAsync(gone, CancellationToken.None));
            Assert.Equal("HaproxyStatsUnavailable", e.ErrorId);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public async Task ASilentSourceTimesOutInsteadOfHanging()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(); // accepts connections (backlog) but never answers
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var reader = new HaproxyStatsReader(TimeSpan.FromMilliseconds(500));
        var started = DateTime.UtcNow;
        var e = await Assert.ThrowsAsync<PaastaException>(() =>
            reader.ReadAsync(HaproxyStatsSource.Parse($"http://127.0.0.1:{port}/"), CancellationToken.None));
        Assert.Equal("HaproxyStatsTimeout", e.ErrorId);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.Zero, TimeSpan.FromSeconds(5));
    }
}
