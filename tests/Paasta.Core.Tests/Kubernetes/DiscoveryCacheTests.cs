using Paasta.Kubernetes;
using Paasta.Sync;

namespace Paasta.Tests.Kubernetes;

/// <summary>
/// API discovery kept on disk between processes (DiscoveryCache): a new connection to the same server asks no more
/// within ten minutes, and a cache the server no longer agrees with sends Sync back to the server, not into an error.
/// </summary>
public sealed class DiscoveryCacheTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("paasta-discovery-").FullName;
    private readonly FakeKubeApi _api = new();
    private readonly string _kubeconfig;

    public DiscoveryCacheTests() => _kubeconfig = FakeKubeApi.KubeConfig(Path.Combine(_dir, "kubeconfig"), _api);

    public void Dispose()
    {
        _api.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string CacheDir => Path.Combine(_dir, "cache");

    private KubeConnection Open(bool cached = true) =>
        KubeConnection.Open(new KubeTarget(_kubeconfig, null) { DiscoveryCacheDirectory = cached ? CacheDir : null });

    private int DiscoveryRequests => _api.Requests.Count(r => r == "GET /apis");

    // Each test has a server on a port of its own, so the process-wide memory of discovery never answers for it
    // unless the test asked first.
    [Fact]
    public async Task ANewConnectionToTheSameServerReadsTheDiskInsteadOfAsking()
    {
        using (var first = Open()) Assert.Equal("policy/v1beta1", await first.PickVersionAsync("PodDisruptionBudget", new[] { "policy/v1", "policy/v1beta1" }));
        Assert.Equal(1, DiscoveryRequests);
        var file = DiscoveryCache.PathFor(CacheDir, _api.Url + "/");
        Assert.True(File.Exists(file), "the discovery was not saved");

        var fromDisk = DiscoveryCache.Read(CacheDir, _api.Url + "/", TimeSpan.FromMinutes(10));
        Assert.NotNull(fromDisk);
        Assert.Contains("batch/v1beta1", fromDisk!);
        Assert.Contains("v1", fromDisk!);
    }

    [Fact]
    public void AnOldFileOrAnotherServersFileIsAMiss()
    {
        DiscoveryCache.Write(CacheDir, "https://a.example/", new[] { "v1", "apps/v1" });
        Assert.NotNull(DiscoveryCache.Read(CacheDir, "https://a.example/", TimeSpan.FromMinutes(10)));
        Assert.Null(DiscoveryCache.Read(CacheDir, "https://b.example/", TimeSpan.FromMinutes(10)));
        File.SetLastWriteTimeUtc(DiscoveryCache.PathFor(CacheDir, "https://a.example/"), DateTime.UtcNow.AddMinutes(-11));
        Assert.Null(DiscoveryCache.Read(CacheDir, "https://a.example/", TimeSpan.FromMinutes(10)));
        File.WriteAllText(DiscoveryCache.PathFor(CacheDir, "https://b.example/"), "https://other.example/\nv1\n");
        Assert.Null(DiscoveryCache.Read(CacheDir, "https://b.example/", TimeSpan.FromMinutes(10)));
    }

    [Fact]
    public async Task SyncReadsTheClusterWithoutAskingWhenTheDiskKnows()
    {
        using (var first = Open()) await new KubernetesReconciler(first).ObserveAsync(Array.Empty<SyncRequest>(), default);
        var asked = _api.Requests.Count;
        KubeConnection.ForgetProcessDiscovery(_api.Url + "/"); // as a new process
        using var second = Open();
        var state = await new KubernetesReconciler(second).ObserveAsync(Array.Empty<SyncRequest>(), default);
        Assert.Equal("policy/v1beta1", state.PdbApiVersion);
        Assert.Equal(1, DiscoveryRequests);
        Assert.Equal(2, _api.Requests.Count - asked); // the Deployment and PDB LISTs only
    }

    [Fact]
    public async Task AVersionTheServerNoLongerServesSendsSyncBackToTheServer()
    {
        // Saved when the server served policy/v1 (within the ten minutes); it serves only policy/v1beta1 now.
        DiscoveryCache.Write(CacheDir, _api.Url + "/", new[] { "v1", "apps/v1", "policy/v1", "policy/v1beta1" });
        using var kube = Open();
        var state = await new KubernetesReconciler(kube).ObserveAsync(Array.Empty<SyncRequest>(), default);
        Assert.Equal("policy/v1beta1", state.PdbApiVersion);
        Assert.Contains(_api.Requests, r => r.StartsWith("GET /apis/policy/v1/poddisruptionbudgets?", StringComparison.Ordinal));
        Assert.Equal(1, DiscoveryRequests);
        Assert.DoesNotContain("policy/v1", DiscoveryCache.Read(CacheDir, _api.Url + "/", TimeSpan.FromMinutes(10))!);
    }

    [Fact]
    public async Task WithoutACacheFolderEveryConnectionAsks()
    {
        using (var first = Open(cached: false)) await first.ServesAsync("apps/v1");
        Assert.False(Directory.Exists(CacheDir));
    }
}
