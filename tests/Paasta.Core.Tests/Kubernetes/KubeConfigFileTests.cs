using System.Text.Json;
using k8s;
using Paasta.Errors;
using Paasta.Kubernetes;

namespace Paasta.Tests.Kubernetes;

/// <summary>Paasta's kubeconfig reader gives KubernetesClient exactly what the client's own loader would.</summary>
public sealed class KubeConfigFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("paasta-kubeconfig-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string EveryField = """
        apiVersion: v1
        kind: Config
        preferences:
          colors: true
        current-context: exec-context
        clusters:
        - name: local
          cluster:
            server: https://127.0.0.1:6443
            certificate-authority: certs/ca.crt
            tls-server-name: kubernetes.local
            insecure-skip-tls-verify: false
            extensions:
            - name: client.authentication.k8s.io/exec
              extension:
                audience: local
        - name: remote
          cluster:
            server: https://remote.example:443
            certificate-authority-data: Y2VydA==
        users:
        - name: exec-user
          user:
            exec:
              apiVersion: client.authentication.k8s.io/v1beta1
              command: aws
              args: [eks, get-token, --cluster-name, prod]
              env:
              - name: AWS_PROFILE
                value: prod
              installHint: install the aws cli
              provideClusterInfo: true
        - name: cert-user
          user:
            client-certificate: /abs/client.crt
            client-key: keys/client.key
            as: someone
            as-groups: [admins, ops]
        - name: token-user
          user:
            token: not-a-real-token
            username: basic
            password: basic-password
            auth-provider:
              name: oidc
              config:
                idp-issuer-url: https://issuer.example
        contexts:
        - name: exec-context
          context:
            cluster: remote
            user: exec-user
            namespace: paasta
        - name: cert-context
          context: {cluster: local, user: cert-user}
        unknown-top-level-key: ignored
        """;

    private string Write(string text)
    {
        var path = Path.Combine(_dir, "kubeconfig");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void ReadsEveryFieldAsTheClientsOwnLoaderDoes()
    {
        var path = Write(EveryField);
        var ours = KubeConfigFile.Load(path);
        var theirs = KubernetesClientConfiguration.LoadKubeConfig(new FileInfo(path));
        Assert.Equal(JsonSerializer.Serialize(theirs), JsonSerializer.Serialize(ours));
        Assert.Equal(Path.GetFullPath(path), ours.FileName);
        Assert.Equal("aws", ours.Users.Single(u => u.Name == "exec-user").UserCredentials.ExternalExecution.Command);
    }

    // Exec users run their command when the configuration is built, and file paths must exist: tokens only here.
    private const string TokenContexts = """
        current-context: prod
        clusters:
        - name: local
          cluster: {server: https://127.0.0.1:6443, insecure-skip-tls-verify: true, tls-server-name: kubernetes.local}
        - name: remote
          cluster: {server: https://remote.example:443}
        users:
        - name: one
          user: {token: first-token}
        - name: two
          user: {username: basic, password: basic-password}
        contexts:
        - name: prod
          context: {cluster: remote, user: one, namespace: paasta}
        - name: dev
          context: {cluster: local, user: two}
        """;

    [Theory]
    [InlineData(null, "https://remote.example:443")]
    [InlineData("dev", "https://127.0.0.1:6443")]
    public void BuildsTheSameClientConfigurationForAContext(string? context, string host)
    {
        var path = Write(TokenContexts);
        var ours = KubeConfigFile.ClientConfiguration(path, context);
        var theirs = KubernetesClientConfiguration.BuildConfigFromConfigFile(path, context);
        Assert.Equal(host, ours.Host);
        Assert.Equal((theirs.Host, theirs.Namespace, theirs.AccessToken, theirs.Username, theirs.Password, theirs.SkipTlsVerify, theirs.TlsServerName, theirs.CurrentContext),
            (ours.Host, ours.Namespace, ours.AccessToken, ours.Username, ours.Password, ours.SkipTlsVerify, ours.TlsServerName, ours.CurrentContext));
    }

    [Fact]
    public void CertificatePathsAreRelativeToTheFile()
    {
        var path = Write(EveryField);
        var config = KubeConfigFile.Load(path);
        var cluster = config.Clusters.Single(c => c.Name == "local");
        Assert.Equal("certs/ca.crt", cluster.ClusterEndpoint.CertificateAuthority);
        Assert.Equal(Path.Combine(_dir, "kubeconfig"), config.FileName);
    }

    [Fact]
    public void AMissingFileIsKubeConfigNotFoundAndBrokenYamlIsKubeConfigInvalid()
    {
        var missing = Assert.Throws<PaastaException>(() => KubeConnection.Open(new KubeTarget(Path.Combine(_dir, "none"), null)));
        Assert.Equal("KubeConfigNotFound", missing.ErrorId);
        var broken = Write("clusters:\n- name: [unclosed\n");
        var invalid = Assert.Throws<PaastaException>(() => KubeConnection.Open(new KubeTarget(broken, null)));
        Assert.Equal("KubeConfigInvalid", invalid.ErrorId);
        Assert.Equal(broken, invalid.File);
    }

    [Fact]
    public void AnUnknownContextIsKubeConfigInvalid()
    {
        var path = Write(EveryField);
        var e = Assert.Throws<PaastaException>(() => KubeConnection.Open(new KubeTarget(path, "no-such-context")));
        Assert.Equal("KubeConfigInvalid", e.ErrorId);
        Assert.Contains("(context no-such-context)", e.Message);
    }
}
