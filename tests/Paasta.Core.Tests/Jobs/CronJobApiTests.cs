using Paasta.Jobs;
using Paasta.Tests.Kubernetes;
using Paasta.Errors;

namespace Paasta.Tests.Jobs;

/// <summary>
/// Which CronJob API Paasta writes, decided from discovery answers given by a stub (no server): batch/v1 only
/// when it lists cronjobs, else batch/v1beta1; time zones only on batch/v1 from Kubernetes 1.25.
/// </summary>
public class CronJobApiTests
{
    /// <summary>Stands in for a server's /apis, /apis/batch/v1 and /version answers, and records what was asked.</summary>
    private sealed class DiscoveryStub : ICronJobDiscovery
    {
        public HashSet<string> GroupVersions { get; init; } = new();
        public List<string> BatchV1 { get; init; } = new();
        public KubeServerVersion? Version { get; init; }
        public List<string> Asked { get; } = new();

        public Task<bool> ServesAsync(string groupVersion, CancellationToken cancellation)
        {
            Asked.Add(groupVersion);
            return Task.FromResult(GroupVersions.Contains(groupVersion));
        }

        public Task<IReadOnlyCollection<string>> BatchV1ResourcesAsync(CancellationToken cancellation)
        {
            Asked.Add("batch/v1 resources");
            return Task.FromResult<IReadOnlyCollection<string>>(BatchV1);
        }

        public Task<KubeServerVersion?> VersionAsync(CancellationToken cancellation)
        {
            Asked.Add("version");
            return Task.FromResult(Version);
        }
    }

    private static async Task<CronJobApi> Discover(DiscoveryStub stub)
    {
        using var offline = new OfflineKubeConnection();
        return await CronJobApi.DiscoverAsync(offline.Kube, stub, CancellationToken.None);
    }

    [Fact]
    public async Task Kubernetes120ServesCronJobsOnlyInV1beta1()
    {
        // 1.20: batch/v1 exists (Jobs) but has no cronjobs; the version is not even needed.
        var stub = new DiscoveryStub { GroupVersions = { "batch/v1", "batch/v1beta1" }, BatchV1 = { "jobs", "jobs/status" } };
        var api = await Discover(stub);
        Assert.Equal("batch/v1beta1", api.ApiVersion);
        Assert.False(api.SupportsTimeZone);
        Assert.Equal(new CronJobTarget("batch/v1beta1", false), api.Target);
        Assert.DoesNotContain("version", stub.Asked);
    }

    [Theory]
    [InlineData("1", "21", false)]
    [InlineData("1", "24", false)]
    [InlineData("1", "25", true)]
    [InlineData("1", "27+", true)] // vendors append '+'
    public async Task BatchV1WhenItListsCronJobsWithTimeZonesFrom125(string major, string minor, bool timeZones)
    {
        var stub = new DiscoveryStub
        {
            GroupVersions = { "batch/v1", "batch/v1beta1" },
            BatchV1 = { "cronjobs", "cronjobs/status", "jobs" },
            Version = new KubeServerVersion(major, minor, $"v{major}.{minor.TrimEnd('+')}.3"),
        };
        var api = await Discover(stub);
        Assert.Equal("batch/v1", api.ApiVersion);
        Assert.Equal(timeZones, api.SupportsTimeZone);
        Assert.Equal(timeZones, api.Target.TimeZones);
        Assert.Equal(new Version(1, int.Parse(minor.TrimEnd('+'))), api.ServerRelease);
    }

    [Fact]
    public async Task AServerThatHidesItsVersionGetsNoTimeZones()
    {
        var api = await Discover(new DiscoveryStub { GroupVersions = { "batch/v1" }, BatchV1 = { "cronjobs" }, Version = null });
        Assert.Equal("batch/v1", api.ApiVersion);
        Assert.Null(api.ServerRelease);
        Assert.False(api.SupportsTimeZone);
    }

    [Fact]
    public async Task NeitherApiIsKubeApiNotServed()
    {
        var e = await Assert.ThrowsAsync<PaastaException>(() => Discover(new DiscoveryStub { GroupVersions = { "batch/v1" }, BatchV1 = { "jobs" } }));
        Assert.Equal("KubeApiNotServed", e.ErrorId);
        Assert.Equal(PaastaErrorKind.ResourceUnavailable, e.Kind);
    }

    [Theory]
    [InlineData("1", "25", null, 1, 25)]
    [InlineData("1", "25+", "v1.25.3-gke.1", 1, 25)]
    [InlineData("", "", "v1.20.2", 1, 20)]
    [InlineData(null, null, "v1.26.0-eks-abcd", 1, 26)]
    public void ServerReleaseFromVersionFields(string? major, string? minor, string? git, int wantMajor, int wantMinor) =>
        Assert.Equal(new Version(wantMajor, wantMinor), new KubeServerVersion(major, minor, git).Release);

    [Fact]
    public void NoReleaseWhenNothingParses() => Assert.Null(new KubeServerVersion("", "x", "unknown").Release);
}
