using System.Management.Automation;

namespace Paasta.Cmdlets.Tests;

/// <summary>What an operator reads in an ErrorRecord: what to do about it, and what it is about.</summary>
public sealed class ErrorRecordTests : IDisposable
{
    private readonly PaastaHost _host = new();
    private readonly string _soa = Path.Combine(Path.GetTempPath(), $"paasta-errors-{Guid.NewGuid():N}");
    private static readonly string Examples = Path.Combine(PaastaHost.RepositoryRoot, "examples", "soa-configs");

    public void Dispose()
    {
        _host.Dispose();
        if (Directory.Exists(_soa)) Directory.Delete(_soa, recursive: true);
    }

    [Fact]
    public void A_missing_deployments_json_recommends_generating_it()
    {
        // hello has no deployments.json in the examples.
        var r = _host.Invoke("Get-PaastaDeployment -SoaDir $args[0] -Service hello", Examples);
        var error = Assert.Single(r.Errors);
        Assert.Equal("DeploymentsFileNotFound", error.FullyQualifiedErrorId.Split(',')[0]);
        var action = error.ErrorDetails?.RecommendedAction;
        Assert.Contains("New-PaastaDeployments", action);
        Assert.DoesNotContain("Fix", action);
    }

    [Fact]
    public void A_YAML_error_recommends_what_to_change_where()
    {
        Directory.CreateDirectory(Path.Combine(_soa, "svc"));
        File.WriteAllText(Path.Combine(_soa, "svc", "service.yaml"), "description: x\nexternal_link: https://example.com/\n");
        File.WriteAllText(Path.Combine(_soa, "svc", "kubernetes-prod.yaml"), "main:\n  cpus: 1\n  cpus: 2\n");
        var r = _host.Invoke("Get-PaastaInstance -SoaDir $args[0] -Service svc", _soa);
        var error = Assert.Single(r.Errors);
        Assert.Equal("YamlDuplicateKey", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.ParserError, error.CategoryInfo.Category);
        var action = error.ErrorDetails?.RecommendedAction ?? "";
        Assert.StartsWith("Keep one of the two entries", action);
        Assert.Contains("kubernetes-prod.yaml:3", action);
    }
}
