using System.Management.Automation;

namespace Paasta.Cmdlets.Tests;

/// <summary>Not-found rules of the instance query, as an operator meets them at a prompt.</summary>
public sealed class QueryCmdletTests : IDisposable
{
    private readonly PaastaHost _host = new();
    private static readonly string Examples = Path.Combine(PaastaHost.RepositoryRoot, "examples", "soa-configs");

    public void Dispose() => _host.Dispose();

    [Theory]
    [InlineData("Get-PaastaInstance -SoaDir $args[0] -Cluster nosuch", "ClusterNotFound")]
    [InlineData("Get-PaastaInstance -SoaDir $args[0] -Service hello -Instance nosuch", "InstanceNotFound")]
    [InlineData("Get-PaastaInstance -SoaDir $args[0] -Service nosuch", "ServiceNotFound")]
    [InlineData("Get-PaastaService -SoaDir $args[0] -Name nosuch", "ServiceNotFound")]
    public void A_literal_name_that_matches_nothing_is_an_ObjectNotFound_error(string script, string errorId)
    {
        var r = _host.Invoke(script, Examples);
        Assert.Empty(r.Output);
        var error = Assert.Single(r.Errors);
        Assert.Equal(errorId, error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
        Assert.Equal("nosuch", error.TargetObject);
        Assert.False(string.IsNullOrEmpty(error.ErrorDetails?.RecommendedAction));
    }

    [Fact]
    public void A_wildcard_that_matches_nothing_is_no_error()
    {
        var r = _host.Invoke("Get-PaastaInstance -SoaDir $args[0] -Cluster 'nosuch*' -Instance 'x?'", Examples);
        Assert.Empty(r.Output);
        Assert.Empty(r.Errors);
    }

    [Fact]
    public void A_missing_soa_dir_is_one_error_not_an_exception()
    {
        var r = _host.Invoke("Get-PaastaInstance -SoaDir /nonexistent/soa", Examples);
        Assert.Equal(new[] { "SoaDirNotFound" }, r.ErrorIds);
    }
}
