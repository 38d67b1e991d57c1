using System.Management.Automation;

namespace Paasta.Cmdlets.Tests;

/// <summary>
/// The Kubernetes cmdlets as an operator meets them, where no cluster is needed: offline rendering, the pipeline
/// binding of Wait-PaastaDeployment, and refusals that come before any connection.
/// </summary>
public sealed class KubernetesCmdletTests : IDisposable
{
    private const string Sha = "4ef01b5a574b519ab546309e89f72972a33b6b75";
    private readonly PaastaHost _host = new();
    private readonly string _soa = Path.Combine(Path.GetTempPath(), "paasta-cmdlet-kube-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly string _missingKubeConfig;

    public KubernetesCmdletTests()
    {
        var hello = Path.Combine(_soa, "hello");
        Directory.CreateDirectory(hello);
        foreach (var file in Directory.GetFiles(Path.Combine(PaastaHost.RepositoryRoot, "examples", "soa-configs", "hello")))
            File.Copy(file, Path.Combine(hello, Path.GetFileName(file)));
        File.WriteAllText(Path.Combine(hello, "deployments.json"),
            $"{{\"v1\": {{}}, \"v2\": {{\"deployments\": {{\"local.everything\": {{\"docker_image\": \"services-hello:paasta-{Sha}\", \"git_sha\": \"{Sha}\", \"image_version\": null}}}}, \"controls\": {{{Control("main")}, {Control("canary")}}}}}}}");
        _missingKubeConfig = Path.Combine(_soa, "no-kubeconfig");
        // Whatever the machine has, these tests must not reach a cluster: KUBECONFIG names a file that does not exist.
        _host.Invoke("$env:KUBECONFIG = $args[0]; Remove-Item Env:PAASTA_KUBE_CONTEXT, Env:PAASTA_CLUSTER_CONTEXT, Env:PAASTA_CLUSTER -ErrorAction Ignore", _missingKubeConfig);
    }

    private static string Control(string instance) => $"\"hello:local.{instance}\": {{\"desired_state\": \"start\", \"force_bounce\": null}}";

    public void Dispose()
    {
        _host.Dispose();
        try { Directory.Delete(_soa, recursive: true); } catch (IOException) { }
    }

    private static string Kind(PSObject o) => (string)o.Properties["Kind"].Value;

    [Fact]
    public void RendersEveryObjectSyncWouldApplyWithoutACluster()
    {
        var r = _host.Invoke("ConvertTo-PaastaKubernetesObject -SoaDir $args[0] -Service hello -Cluster local", _soa);
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { "Namespace", "LimitRange", "Deployment", "PodDisruptionBudget", "Deployment", "PodDisruptionBudget" }, r.Output.Select(Kind));
        Assert.Equal("k8s.Models.V1Deployment", r.Output[2].BaseObject.GetType().FullName);
        var names = _host.Invoke("ConvertTo-PaastaKubernetesObject -SoaDir $args[0] -Service hello -Cluster local | ForEach-Object { $_.Metadata.Name }", _soa).Output.Select(o => o.ToString());
        Assert.Equal(new[] { "paastasvc-hello", "limit-mem-cpu-disk-per-container", "hello-main", "hello-main", "hello-canary", "hello-canary" }, names);
    }

    [Fact]
    public void AsYamlIsOneManifest()
    {
        var r = _host.Invoke("ConvertTo-PaastaKubernetesObject -SoaDir $args[0] -Service hello -Cluster local -Instance main -AsYaml", _soa);
        Assert.Empty(r.Errors);
        var yaml = Assert.IsType<string>(Assert.Single(r.Output).BaseObject);
        Assert.Equal(4, yaml.Split("---\n").Length);
        Assert.Contains("image: 127.0.0.1:5000/services-hello:paasta-" + Sha, yaml);
        Assert.Contains("apiVersion: policy/v1\nkind: PodDisruptionBudget", yaml);
    }

    [Fact]
    public void TakesInstancesFromGetPaastaInstanceAndRefusesOthers()
    {
        var r = _host.Invoke("Get-PaastaInstance -SoaDir $args[0] -Service hello -Cluster local | ConvertTo-PaastaKubernetesObject -SoaDir $args[0]", _soa);
        Assert.Equal(6, r.Output.Count);
        // adhoc-local.yaml and tron-local.yaml give instances this cmdlet does not render: piped, they bind by
        // name, and the instance query says there is no long-running instance of that name.
        Assert.NotEmpty(r.Errors);
        Assert.All(r.Errors, e => Assert.Equal("InstanceNotFound", e.FullyQualifiedErrorId.Split(',')[0]));
        Assert.All(r.Errors, e => Assert.Contains("long-running", e.Exception.Message));
        var given = _host.Invoke("ConvertTo-PaastaKubernetesObject -SoaDir $args[0] -InputObject (Get-PaastaInstance -SoaDir $args[0] -Service hello -Cluster local)", _soa);
        Assert.Equal(6, given.Output.Count);
        Assert.NotEmpty(given.Errors);
        Assert.All(given.ErrorIds, id => Assert.Equal("InstanceNotLongRunning", id));
    }

    [Fact]
    public void WithAKubeConfigItReadsTheCluster()
    {
        var r = _host.Invoke("ConvertTo-PaastaKubernetesObject -SoaDir $args[0] -Service hello -Cluster local -KubeConfig $args[1]", _soa, _missingKubeConfig);
        Assert.Empty(r.Output);
        Assert.Equal(new[] { "KubeConfigNotFound" }, r.ErrorIds);
    }

    [Fact]
    public void InstancesOfTwoClustersThatWouldShareAContextAreRefusedBeforeAnyConnection()
    {
        File.Copy(Path.Combine(_soa, "hello", "kubernetes-local.yaml"), Path.Combine(_soa, "hello", "kubernetes-other.yaml"));
        var r = _host.Invoke("Sync-PaastaInstance -SoaDir $args[0] -Service hello -Confirm:$false", _soa);
        Assert.Empty(r.Output);
        var error = Assert.Single(r.Errors);
        Assert.Equal("MultipleClusters", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.Contains("local, other", error.Exception.Message);
    }

    [Fact]
    public void WaitFromThePipelineActsOncePerServiceAndDeployGroup()
    {
        // Two deployments of one group piped in: one wait (here failing at once, as there is no kubeconfig), not two.
        var r = _host.Invoke("""
            @([pscustomobject]@{ Service = 'hello'; DeployGroup = 'local.everything'; Commit = $args[1] },
              [pscustomobject]@{ Service = 'hello'; DeployGroup = 'local.everything'; Commit = $args[1] }) |
                Wait-PaastaDeployment -SoaDir $args[0] -TimeoutSec 5
            """, _soa, Sha);
        Assert.Equal(new[] { "KubeConfigNotFound" }, r.ErrorIds);
    }

    [Theory]
    [InlineData("Wait-PaastaDeployment -SoaDir $args[0] -Service hello -DeployGroup local.everything -Commit $args[1] -Timeout 5")]
    [InlineData("Sync-PaastaInstance -SoaDir $args[0] -Service hello -Cluster local -Wait -Timeout 5 -Confirm:$false")]
    public void TheOldNameTimeoutStillBindsTimeoutSec(string script)
    {
        // Bound: the cmdlet gets as far as the (missing) kubeconfig.
        var r = _host.Invoke(script, _soa, Sha);
        Assert.Equal(new[] { "KubeConfigNotFound" }, r.ErrorIds);
        var bound = _host.Invoke("(Get-Command Wait-PaastaDeployment).ResolveParameter('Timeout').Name, (Get-Command Sync-PaastaInstance).ResolveParameter('Timeout').Name");
        Assert.Equal(new[] { "TimeoutSec", "TimeoutSec" }, bound.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void WaitTakesSeveralServicesByNameOrWildcard()
    {
        // hello by name, and a wildcard that matches nothing (no error): the wait starts, and fails at the missing kubeconfig.
        var r = _host.Invoke("Wait-PaastaDeployment -SoaDir $args[0] -Service hello, 'nomatch*' -DeployGroup local.everything -Commit $args[1] -TimeoutSec 5", _soa, Sha);
        Assert.Equal(new[] { "KubeConfigNotFound" }, r.ErrorIds);
        var missing = _host.Invoke("Wait-PaastaDeployment -SoaDir $args[0] -Service nosuch, 'nomatch*' -DeployGroup local.everything -TimeoutSec 5", _soa);
        Assert.Equal(new[] { "ServiceNotFound" }, missing.ErrorIds);
    }

    [Fact]
    public void SyncWithoutAnyInstanceDoesNothing()
    {
        var r = _host.Invoke("Sync-PaastaInstance -SoaDir $args[0] -Service 'nomatch*' -Confirm:$false", _soa);
        Assert.Empty(r.Output);
        Assert.Empty(r.Errors);
    }

    [Fact]
    public void HelpHasExamplesAndNamesTheOutputTypes()
    {
        var r = _host.Invoke("$h = Get-Help ConvertTo-PaastaKubernetesObject -Full; $h.examples.example.Count; (Get-Command ConvertTo-PaastaKubernetesObject).OutputType.Name");
        Assert.True((int)r.Output[0].BaseObject >= 3);
        Assert.Contains("k8s.Models.V1Deployment", r.Output.Skip(1).Select(o => o.ToString()));
        Assert.Contains("System.String", r.Output.Skip(1).Select(o => o.ToString()));
    }
}
