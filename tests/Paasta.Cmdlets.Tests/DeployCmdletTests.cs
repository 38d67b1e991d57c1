using System.Management.Automation;

namespace Paasta.Cmdlets.Tests;

/// <summary>
/// Deploy-PaastaService as a runbook meets it (issue 17): a session that cannot ask stops at a manual step without an
/// error, -Force answers for it, and the result is a table and JSON a script can read. The first step's group has only
/// an adhoc instance, so nothing here needs a cluster.
/// </summary>
public sealed class DeployCmdletTests : IDisposable
{
    private readonly PaastaHost _host = new();
    private readonly GitTestBed _bed = new();

    public DeployCmdletTests()
    {
        _bed.Write("svc/deploy.yaml", "pipeline:\n- step: itest\n- step: prod.jobs\n  trigger_next_step_manually: true\n- step: prod.main\n");
        _bed.Write("svc/adhoc-c1.yaml", "batch:\n  deploy_group: prod.jobs\n");
    }

    public void Dispose()
    {
        _host.Dispose();
        _bed.Dispose();
    }

    private PaastaHost.Result Run(string script, params object?[] args) => _host.Invoke(script, args);

    [Fact]
    public void A_session_that_cannot_ask_stops_at_the_manual_step_resumably_and_without_an_error()
    {
        var sha = _bed.Commit();
        var r = Run("Deploy-PaastaService -SoaDir $args[0] -Service svc -Commit $args[1] -KubeConfig /nonexistent/kubeconfig", _bed.Soa, sha);

        Assert.Empty(r.Errors);
        Assert.Equal(new[] { "itest Skipped", "prod.jobs Deployed", "prod.main WaitingForApproval" },
            r.Output.Select(o => $"{o.Properties["DeployGroup"].Value} {o.Properties["State"].Value}"));
        Assert.Contains(r.Warnings, w => w.Contains("-Force", StringComparison.Ordinal));
        Assert.Single(_bed.Tags("-deploy")); // prod.jobs only: prod.main waits for approval
        // A second run goes no further without an answer, and writes no second tag for the step already marked.
        var again = Run("Deploy-PaastaService -SoaDir $args[0] -Service svc -Commit $args[1] -KubeConfig /nonexistent/kubeconfig", _bed.Soa, sha);
        Assert.Equal("WaitingForApproval", again.Output.Last().Properties["State"].Value.ToString());
        Assert.Single(_bed.Tags("-deploy"));
    }

    [Fact]
    public void Force_answers_the_manual_step()
    {
        var sha = _bed.Commit();
        // prod.main's instances need a cluster, which this kubeconfig cannot reach: the step fails after it was approved and marked.
        var r = Run("Deploy-PaastaService -SoaDir $args[0] -Service svc -Commit $args[1] -Force -TimeoutSec 5 -KubeConfig /nonexistent/kubeconfig", _bed.Soa, sha);
        Assert.Equal(2, _bed.Tags("-deploy").Count);
        var main = r.Output.Last();
        Assert.Equal(("prod.main", "Failed"), ((string)main.Properties["DeployGroup"].Value, main.Properties["State"].Value.ToString()));
        Assert.Equal(new[] { "DeployStepFailed" }, r.ErrorIds);
    }

    [Fact]
    public void The_result_is_a_table_of_one_line_per_step_and_JSON_with_state_names()
    {
        var sha = _bed.Commit();
        var r = Run("""
            $steps = Deploy-PaastaService -SoaDir $args[0] svc $args[1] -KubeConfig /nonexistent/kubeconfig
            ($steps | Out-String -Width 120)
            ($steps | ConvertTo-Json -Compress)
            """, _bed.Soa, sha);
        var table = (string)r.Output[0].BaseObject;
        Assert.Matches(@"Service\s+DeployGroup\s+State\s+Version\s+Clusters\s+Duration\s+Reason", table);
        Assert.Matches(@"svc\s+prod\.main\s+WaitingForApproval\s+" + sha[..8], table);
        var json = (string)r.Output[1].BaseObject;
        Assert.Contains("\"State\":\"WaitingForApproval\"", json);
        Assert.Contains("\"State\":\"Skipped\"", json);
    }

    [Fact]
    public void AutoRollback_and_NoAutoRollback_cannot_be_given_together_and_Timeout_names_TimeoutSec()
    {
        var r = Run("Deploy-PaastaService -SoaDir $args[0] svc abcd -AutoRollback -NoAutoRollback", _bed.Soa);
        Assert.Equal(new[] { "AmbiguousParameterSet" }, r.ErrorIds);
        var parameters = Run("(Get-Command Deploy-PaastaService).Parameters['TimeoutSec'].Aliases").Output.Select(o => o.ToString());
        Assert.Contains("Timeout", parameters);
    }
}
