using System.Diagnostics;
using System.Management.Automation;

namespace Paasta.Cmdlets.Tests;

/// <summary>
/// The deployment cmdlets as an operator meets them: pipeline input acts once per deploy group, deployments.json is
/// never emptied behind one's back, and names, URLs and files that cannot be trusted are refused (issues 14, 15, 16).
/// </summary>
public sealed class DeploymentCmdletTests : IDisposable
{
    private readonly PaastaHost _host = new();
    private readonly GitTestBed _bed = new();

    public void Dispose()
    {
        _host.Dispose();
        _bed.Dispose();
    }

    private PaastaHost.Result Run(string script, params object?[] args) => _host.Invoke(script, args);

    private void Publish(string group, string sha) =>
        Assert.Empty(Run("Publish-PaastaDeployment -SoaDir $args[0] -Service svc -DeployGroup $args[1] -Commit $args[2] -WarningAction SilentlyContinue", _bed.Soa, group, sha).Errors);

    // ---------------------------------------------------------------- once per (service, deploy group)

    [Fact]
    public void Undo_from_the_pipeline_rolls_each_deploy_group_back_once()
    {
        var good = _bed.Commit("good");
        Publish("prod.main", good);
        Publish("prod.canary", good);
        var bad = _bed.Commit("bad");
        Publish("prod.main", bad);
        Publish("prod.canary", bad);

        // Four instances, three of them in prod.main.
        var r = Run("Get-PaastaDeployment -SoaDir $args[0] -Service svc -Live | Undo-PaastaDeployment -SoaDir $args[0] -Confirm:$false -PassThru", _bed.Soa);
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { "prod.canary", "prod.main" }, r.Output.Select(o => (string)o.Properties["DeployGroup"].Value).Order(StringComparer.Ordinal));
        Assert.Equal(2, _bed.Tags("-rollback").Count);
        Assert.Equal(6, _bed.Tags("-deploy").Count);
    }

    [Fact]
    public void Publish_from_the_pipeline_marks_a_deploy_group_once()
    {
        var sha = _bed.Commit();
        var r = Run("$sha = $args[1]; 1..3 | ForEach-Object { [pscustomobject]@{ Service = 'svc'; DeployGroup = 'prod.main'; Commit = $sha } } | Publish-PaastaDeployment -SoaDir $args[0] -PassThru", _bed.Soa, sha);
        Assert.Empty(r.Errors);
        Assert.Single(r.Output);
        Assert.Single(_bed.Tags("-deploy"));
    }

    [Fact]
    public void New_PaastaDeployments_from_the_pipeline_generates_each_service_once()
    {
        Publish("prod.main", _bed.Commit());
        var r = Run("'svc', 'svc', 'svc' | New-PaastaDeployments -SoaDir $args[0]", _bed.Soa);
        Assert.Empty(r.Errors);
        Assert.Single(r.Output);
    }

    [Fact]
    public void An_instance_in_the_kubernetes_and_eks_file_of_a_cluster_gets_one_stop_tag()
    {
        _bed.Write("svc/eks-c1.yaml", "main:\n  deploy_group: prod.main\n");
        Publish("prod.main", _bed.Commit());
        var r = Run("Stop-PaastaInstance -SoaDir $args[0] -Service svc -Cluster c1 -Instance main -Confirm:$false", _bed.Soa);
        Assert.Empty(r.Errors);
        Assert.Single(_bed.Tags("-stop"));
    }

    [Fact]
    public void Restart_takes_services_by_name_or_wildcard_and_tags_each_instance_once()
    {
        Publish("prod.main", _bed.Commit());
        var r = Run("Restart-PaastaInstance -SoaDir $args[0] -Service 's*', svc, 'nomatch*' -Cluster c1 -Instance main -PassThru", _bed.Soa);
        Assert.Empty(r.Errors);
        Assert.Equal("main", (string)Assert.Single(r.Output).Properties["Instance"].Value);
        Assert.Single(_bed.Tags("-start"));
        Assert.Equal(new[] { "ServiceNotFound" }, Run("Restart-PaastaInstance -SoaDir $args[0] -Service nosuch -Cluster c1 -Instance main", _bed.Soa).ErrorIds);
    }

    // ---------------------------------------------------------------- deployments.json is never emptied silently

    [Fact]
    public void New_PaastaDeployments_refuses_to_drop_deploy_groups_unless_forced()
    {
        Publish("prod.main", _bed.Commit());
        Assert.Empty(Run("New-PaastaDeployments -SoaDir $args[0] -Service svc", _bed.Soa).Errors);
        var before = File.ReadAllText(_bed.DeploymentsJson);
        _bed.Write("svc/service.yaml", "description: test\nexternal_link: http://example\ngit_url: null\n");

        var refused = Run("New-PaastaDeployments -SoaDir $args[0] -Service svc", _bed.Soa);
        var error = Assert.Single(refused.Errors);
        Assert.Equal("DeployGroupsWouldBeDropped,Paasta.Commands.NewPaastaDeployments", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidOperation, error.CategoryInfo.Category);
        Assert.Contains("'prod.main'", error.Exception.Message);
        Assert.Empty(refused.Output);
        Assert.Equal(before, File.ReadAllText(_bed.DeploymentsJson));

        var whatIf = Run("New-PaastaDeployments -SoaDir $args[0] -Service svc -WhatIf", _bed.Soa);
        Assert.Empty(whatIf.Errors);
        Assert.Equal(new[] { "prod.main" }, ((IEnumerable<string>)Assert.Single(whatIf.Output).Properties["DroppedDeployGroups"].Value).ToArray());
        Assert.Equal(before, File.ReadAllText(_bed.DeploymentsJson));

        var forced = Run("New-PaastaDeployments -SoaDir $args[0] -Service svc -Force -WarningAction SilentlyContinue", _bed.Soa);
        Assert.Empty(forced.Errors);
        Assert.True((bool)Assert.Single(forced.Output).Properties["Written"].Value);
        Assert.Equal("{\"v1\": {}, \"v2\": {\"deployments\": {}, \"controls\": {}}}", File.ReadAllText(_bed.DeploymentsJson));
    }

    [Fact]
    public void Get_PaastaDeployment_reports_an_instance_that_does_not_exist()
    {
        var r = Run("Get-PaastaDeployment -SoaDir $args[0] -Service svc -Instance nosuch -Live", _bed.Soa);
        Assert.Empty(r.Output);
        var error = Assert.Single(r.Errors);
        Assert.Equal("InstanceNotFound,Paasta.Commands.GetPaastaDeployment", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
    }

    // ---------------------------------------------------------------- hostile input

    [Fact]
    public void A_deploy_group_with_a_plus_is_refused_before_anything_is_written()
    {
        var sha = _bed.Commit();
        var r = Run("Publish-PaastaDeployment -SoaDir $args[0] -Service svc -DeployGroup 'local.main+evil' -Commit $args[1] -WarningAction SilentlyContinue", _bed.Soa, sha);
        Assert.Equal(new[] { "InvalidDeployGroup" }, r.ErrorIds);
        Assert.Empty(_bed.Tags("-deploy"));
    }

    [Fact]
    public void An_instance_name_no_tag_can_carry_is_refused_before_anything_is_written()
    {
        _bed.Write("svc/kubernetes-c2.yaml", "ünï:\n  deploy_group: prod.main\n");
        Publish("prod.main", _bed.Commit());
        var r = Run("Stop-PaastaInstance -SoaDir $args[0] -Service svc -Cluster c2 -Instance ünï -Confirm:$false", _bed.Soa);
        var error = Assert.Single(r.Errors);
        Assert.Equal("InstanceNameNotTaggable,Paasta.Commands.StopPaastaInstance", error.FullyQualifiedErrorId);
        Assert.Empty(_bed.Tags("-stop"));
    }

    [Theory]
    [InlineData("New-PaastaDeployments -SoaDir $args[0] -Service svc")]
    [InlineData("Publish-PaastaDeployment -SoaDir $args[0] -Service svc -DeployGroup prod.main -Commit abcd -WarningAction SilentlyContinue")]
    [InlineData("Get-PaastaDeployment -SoaDir $args[0] -Service svc -Live")]
    public void A_NUL_in_git_url_is_a_Paasta_error(string script)
    {
        _bed.Write("svc/service.yaml", "description: test\nexternal_link: http://example\ngit_url: \"/tmp/a\\0b.git\"\n");
        var error = Assert.Single(Run(script, _bed.Soa).Errors);
        Assert.StartsWith("GitRepositoryInvalid,", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
    }

    [Fact]
    public void A_token_in_Repository_is_shown_nowhere()
    {
        var sha = _bed.Commit();
        var url = "http://user:TOKEN@127.0.0.1:9/x.git";
        var results = new[]
        {
            Run("Get-PaastaDeployment -SoaDir $args[0] -Service svc -Live -Repository $args[1] -Verbose", _bed.Soa, url),
            Run("Publish-PaastaDeployment -SoaDir $args[0] -Service svc -DeployGroup prod.main -Commit $args[2] -Repository $args[1] -Verbose -WarningAction SilentlyContinue", _bed.Soa, url, sha),
        };
        foreach (var r in results)
        {
            Assert.NotEmpty(r.Errors);
            var shown = r.Errors.SelectMany(e => new[] { e.Exception.Message, e.ErrorDetails?.Message, e.TargetObject?.ToString() })
                .Concat(r.Verbose).Concat(r.Warnings)
                .Concat(r.Progress.SelectMany(p => new[] { p.Activity, p.StatusDescription, p.CurrentOperation }))
                .OfType<string>().ToList();
            Assert.Contains(shown, s => s.Contains("user:***@", StringComparison.Ordinal));
            Assert.DoesNotContain(shown, s => s.Contains("TOKEN", StringComparison.Ordinal));
        }

        using var daemon = _bed.ServeGitProtocol(out var port);
        if (daemon is null) return; // git-daemon is not installed here
        Publish("prod.main", sha);
        var generated = Run("New-PaastaDeployments -SoaDir $args[0] -Service svc -Repository $args[1]", _bed.Soa, $"git://user:TOKEN@127.0.0.1:{port}/remote.git");
        Assert.Empty(generated.Errors);
        Assert.Equal($"git://user:***@127.0.0.1:{port}/remote.git", Assert.Single(generated.Output).Properties["Repository"].Value);
    }

    [Fact]
    public void A_fifo_among_the_refs_is_an_error_not_a_hang()
    {
        if (!OperatingSystem.IsLinux()) return;
        var sha = _bed.Commit();
        var fifo = Path.Combine(_bed.Remote, "refs", "tags", "paasta-evil-20240101T000000-deploy");
        using (var mkfifo = Process.Start("mkfifo", fifo)) mkfifo.WaitForExit();
        var run = Task.Run(() => Run("Publish-PaastaDeployment -SoaDir $args[0] -Service svc -DeployGroup prod.main -Commit $args[1]", _bed.Soa, sha));
        if (!run.Wait(TimeSpan.FromSeconds(60)))
        {
            File.WriteAllText(fifo, ""); // let the blocked reader go, so the session can close
            Assert.Fail("Publish-PaastaDeployment blocked on a FIFO under refs/tags");
        }
        var error = Assert.Single(run.Result.Errors);
        Assert.Equal("NotARegularFile,Paasta.Commands.PublishPaastaDeployment", error.FullyQualifiedErrorId);
        File.Delete(fifo); // git itself would block on it
        Assert.Empty(_bed.Tags("-deploy"));
    }
}
