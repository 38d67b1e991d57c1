using Paasta.Kubernetes;

namespace Paasta.Tests.Kubernetes;

/// <summary>A connection to a server that does not exist: for planning code, which must never make a request.</summary>
public sealed class OfflineKubeConnection : IDisposable
{
    private readonly string _kubeconfig = Path.Combine(Path.GetTempPath(), $"paasta-kubeconfig-{Guid.NewGuid():N}");

    public OfflineKubeConnection()
    {
        File.WriteAllText(_kubeconfig, """
            apiVersion: v1
            kind: Config
            clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
            users: [{name: u, user: {token: t}}]
            contexts: [{name: x, context: {cluster: c, user: u}}]
            current-context: x
            """);
        Kube = KubeConnection.Open(new KubeTarget(_kubeconfig, null));
    }

    public KubeConnection Kube { get; }

    public void Dispose()
    {
        Kube.Dispose();
        File.Delete(_kubeconfig);
    }
}
