using Paasta.Deployments;
using Paasta.Errors;
using Paasta.Git;
using Paasta.Operations;
using Paasta.Tests.Git;

namespace Paasta.Tests.Operations;

/// <summary>The tag → deployments.json operations against real repositories and soa-configs, through a recording sink.</summary>
public sealed class DeploymentOperationsTests : IDisposable
{
    private readonly GitTestRepository _repo = new();
    private readonly SoaConfigsFolder _soa = new();
    private readonly RecordingSink _sink = new();

    public DeploymentOperationsTests()
    {
        _soa.Write("svc", "service.yaml", $"description: test\nexternal_link: http://example\ngit_url: {_repo.Remote}\n");
        _soa.Write("svc", "deploy.yaml", "pipeline:\n- step: prod.canary\n- step: prod.main\n- step: never.deployed\n");
        _soa.Write("svc", "kubernetes-c1.yaml",
            "main:\n  deploy_group: prod.main\ncanary:\n  deploy_group: prod.canary\nidle:\n  deploy_group: never.deployed\n" +
            "main2:\n  deploy_group: prod.main\nmain3:\n  deploy_group: prod.main\n");
    }

    public void Dispose()
    {
        _repo.Dispose();
        _soa.Dispose();
    }

    private OperationContext Context => _sink.Context(_soa.Root);

    /// <summary>Marks a version (through its own sink: the test's sink records only the operation under test).</summary>
    private string Mark(string group, string sha, string? imageVersion = null)
    {
        var setup = new RecordingSink();
        var written = new DeploymentOperations().Publish(setup.Context(_soa.Root), new PublishRequest(new[] { new PublishTarget("svc", group, sha, imageVersion) }));
        Assert.Empty(setup.Errors);
        return Assert.Single(written).Tag;
    }

    private IReadOnlyList<DeploymentsFile> Generate(bool force = false, string? repository = null, params string[] services) =>
        new DeploymentOperations().Generate(Context, new GenerateDeploymentsRequest(services.Length == 0 ? new[] { "svc" } : services) { Force = force, Repository = repository });

    private int TagCount(string suffix) => _repo.LsRemote().Keys.Count(k => k.EndsWith(suffix, StringComparison.Ordinal));

    // ---------------------------------------------------------------- the one deployments.json write

    [Fact]
    public void Generation_writes_deployments_json_after_asking_and_only_when_it_changes()
    {
        var sha = _repo.Commit();
        Mark("prod.main", sha);
        var path = _soa.DeploymentsPath("svc");

        var file = Assert.Single(Generate());
        Assert.True(file.Written);
        Assert.Equal(file.Json, File.ReadAllText(path));
        Assert.Equal(sha, DeploymentsDocument.Parse(File.ReadAllText(path)).Deployments["prod.main"].GitSha);
        var (target, action) = Assert.Single(_sink.Asked.Where(a => a.Target == path));
        Assert.StartsWith("Write deployments.json (1 deploy groups, 3 instances", action);

        var again = Assert.Single(Generate());
        Assert.False(again.Changed);
        Assert.False(again.Written);
        Assert.Single(_sink.Asked.Where(a => a.Target == path)); // nothing to ask the second time
    }

    [Fact]
    public void A_declined_write_leaves_the_file_alone()
    {
        var sha = _repo.Commit();
        Mark("prod.main", sha);
        _sink.Confirm = false; // -WhatIf
        var file = Assert.Single(Generate());
        Assert.True(file.Changed);
        Assert.False(file.Written);
        Assert.False(File.Exists(_soa.DeploymentsPath("svc")));
    }

    [Fact]
    public void Each_service_is_generated_once_however_often_it_is_named()
    {
        var sha = _repo.Commit();
        Mark("prod.main", sha);
        _soa.Write("other", "service.yaml", $"description: test\nexternal_link: http://example\ngit_url: {_repo.Remote}\n");
        _soa.Write("other", "kubernetes-c1.yaml", "main:\n  deploy_group: prod.main\n");
        var ops = new DeploymentOperations();
        var files = ops.Generate(Context, new GenerateDeploymentsRequest(new[] { "svc", "svc", "s*", "other" }));
        Assert.Equal(new[] { "other", "svc" }, files.Select(f => f.Service));
        // Both services use one repository: its refs were listed once.
        Assert.Equal(1, ops.Git.Listings);
        Assert.Empty(_sink.Errors);
    }

    [Fact]
    public void Git_url_null_does_not_silently_drop_the_deploy_groups_of_an_existing_file()
    {
        var sha = _repo.Commit();
        Mark("prod.main", sha);
        Mark("prod.canary", sha);
        Generate();
        var path = _soa.DeploymentsPath("svc");
        var before = File.ReadAllText(path);
        _soa.Write("svc", "service.yaml", "description: test\nexternal_link: http://example\ngit_url: null\n");

        Assert.Empty(Generate());
        var error = Assert.Single(_sink.Errors);
        Assert.Equal("DeployGroupsWouldBeDropped", error.ErrorId);
        Assert.Contains("'prod.main'", error.Message);
        Assert.Contains("'prod.canary'", error.Message);
        Assert.Contains("git_url: null", error.Message);
        Assert.Equal(path, error.File);
        Assert.Equal(before, File.ReadAllText(path));

        // -WhatIf shows the loss, in the question and in the result, and refuses nothing.
        var whatIf = new RecordingSink { Confirm = false };
        var shown = Assert.Single(new DeploymentOperations().Generate(whatIf.Context(_soa.Root), new GenerateDeploymentsRequest(new[] { "svc" })));
        Assert.Empty(whatIf.Errors);
        Assert.Equal(new[] { "prod.canary", "prod.main" }, shown.DroppedDeployGroups.Order(StringComparer.Ordinal));
        Assert.False(shown.Written);
        Assert.Contains(whatIf.Asked, a => a.Action.Contains("drops the deployment of deploy groups", StringComparison.Ordinal) && a.Action.Contains("needs -Force", StringComparison.Ordinal));
        Assert.Equal(before, File.ReadAllText(path));

        // -Force writes it, with a warning.
        var forced = new RecordingSink();
        var written = Assert.Single(new DeploymentOperations().Generate(forced.Context(_soa.Root), new GenerateDeploymentsRequest(new[] { "svc" }) { Force = true }));
        Assert.True(written.Written);
        Assert.Contains(forced.Warnings, w => w.Contains("prod.main", StringComparison.Ordinal));
        Assert.Equal("{\"v1\": {}, \"v2\": {\"deployments\": {}, \"controls\": {}}}", File.ReadAllText(path));
    }

    [Fact]
    public void A_repository_without_the_tags_does_not_silently_empty_the_file()
    {
        var sha = _repo.Commit();
        Mark("prod.main", sha);
        Generate();
        using var empty = new GitTestRepository();
        empty.Commit();
        Assert.Empty(Generate(repository: empty.Remote));
        Assert.Equal("DeployGroupsWouldBeDropped", Assert.Single(_sink.ErrorIds));
        Assert.Contains(empty.Remote, _sink.Errors.Single().Message);
        Assert.Equal(sha, DeploymentsDocument.Parse(File.ReadAllText(_soa.DeploymentsPath("svc"))).Deployments["prod.main"].GitSha);
    }

    [Fact]
    public void A_deploy_group_no_instance_uses_any_more_leaves_without_ceremony()
    {
        var sha = _repo.Commit();
        Mark("prod.main", sha);
        Mark("prod.canary", sha);
        Generate();
        _soa.Write("svc", "kubernetes-c1.yaml", "main:\n  deploy_group: prod.main\n");
        var file = Assert.Single(Generate());
        Assert.Empty(_sink.Errors);
        Assert.True(file.Written);
        Assert.Empty(file.DroppedDeployGroups);
        Assert.Equal(new[] { "prod.main" }, file.Deployments.Keys);
        Assert.Contains(_sink.Messages, m => m.Text.Contains("'prod.canary' leaves deployments.json", StringComparison.Ordinal));
    }

    [Fact]
    public void Generation_reports_progress_and_explains_itself()
    {
        var sha = _repo.Commit();
        Mark("prod.main", sha);
        var reports = new RecordingSink();
        new DeploymentOperations().Generate(reports.Context(_soa.Root), new GenerateDeploymentsRequest(new[] { "svc" }));
        var step = reports.ProgressReports.Where(p => p.Activity == DeploymentOperations.GenerateActivity).ToList();
        Assert.Equal("svc: listing the repository's refs and loading the instances", step[0].Status);
        Assert.Equal(ProgressState.Completed, step[^1].State);
        Assert.Contains(reports.Messages, m => m.Text.StartsWith("Deploy group 'prod.main': paasta-prod.main-", StringComparison.Ordinal));
    }

    [Fact]
    public void A_fifo_where_deployments_json_is_expected_does_not_hang_generation()
    {
        if (!OperatingSystem.IsLinux()) return;
        var sha = _repo.Commit();
        Mark("prod.main", sha);
        var path = _soa.DeploymentsPath("svc");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", path)) mkfifo.WaitForExit();
        var run = Task.Run(() => Generate());
        Assert.True(run.Wait(TimeSpan.FromSeconds(30)), "generation blocked on a FIFO");
        Assert.True(Assert.Single(run.Result).Written);
        Assert.Equal(Paasta.IO.FileKind.Regular, Paasta.IO.BoundedFile.KindOf(path)); // replaced by the atomic rename
    }

    // ---------------------------------------------------------------- Get-PaastaDeployment

    [Fact]
    public void A_literal_instance_that_matches_nothing_is_InstanceNotFound()
    {
        var infos = new DeploymentOperations().DescribeInstances(Context, new DeploymentQuery { Services = new[] { "svc" }, Instances = new[] { "nosuch" }, Live = true });
        Assert.Empty(infos);
        Assert.Equal("InstanceNotFound", Assert.Single(_sink.ErrorIds));
    }

    [Fact]
    public void Records_of_one_call_share_one_listing_of_the_repository()
    {
        var sha = _repo.Commit();
        Mark("prod.main", sha);
        var ops = new DeploymentOperations();
        foreach (var instance in new[] { "main", "canary", "main2" })
            Assert.Single(ops.DescribeInstances(Context, new DeploymentQuery { Services = new[] { "svc" }, Instances = new[] { instance }, Live = true }));
        Assert.Equal(1, ops.Git.Listings);
        Assert.Single(_sink.Messages, m => m.Text == $"Listing the refs of {_repo.Remote}");
    }

    [Fact]
    public void An_instance_without_a_control_entry_is_not_deployed()
    {
        var sha = _repo.Commit();
        Mark("prod.main", sha);
        Generate();
        // An instance added after the file was generated: its group is deployed, but the file has no control entry for it.
        _soa.Write("svc", "kubernetes-c1.yaml", "main:\n  deploy_group: prod.main\nlate:\n  deploy_group: prod.main\n");
        var infos = new DeploymentOperations().DescribeInstances(Context, new DeploymentQuery { Services = new[] { "svc" } });
        Assert.True(infos.Single(i => i.Instance == "main").Deployed);
        var late = infos.Single(i => i.Instance == "late");
        Assert.False(late.Deployed);
        Assert.Null(late.DesiredState);
    }

    [Fact]
    public void Deploy_groups_are_read_from_the_file_or_live()
    {
        var sha = _repo.Commit();
        Mark("prod.main", sha, "5");
        Generate();
        var ops = new DeploymentOperations();
        var fromFile = Assert.Single(ops.DescribeDeployGroups(Context, new DeploymentQuery { Services = new[] { "svc" } }));
        var live = Assert.Single(ops.DescribeDeployGroups(Context, new DeploymentQuery { Services = new[] { "svc" }, Live = true }));
        Assert.Equal((fromFile.DeployGroup, fromFile.Version), (live.DeployGroup, live.Version));
        Assert.Empty(ops.DescribeDeployGroups(Context, new DeploymentQuery { Services = new[] { "svc" }, DeployGroups = new[] { "nosuch" } }));
        Assert.Equal("DeployGroupNotFound", Assert.Single(_sink.ErrorIds));
    }

    // ---------------------------------------------------------------- Publish / Undo: once per (service, deploy group)

    [Fact]
    public void Publish_marks_a_group_once_however_many_records_ask_for_it()
    {
        var sha = _repo.Commit();
        var targets = Enumerable.Range(0, 3).Select(i => new PublishTarget("svc", "prod.main", i == 0 ? sha : sha[..8])).ToList();
        var written = new DeploymentOperations().Publish(Context, new PublishRequest(targets));
        Assert.Single(written);
        Assert.Empty(_sink.Errors);
        Assert.Equal(1, TagCount("-deploy"));
        Assert.Single(_sink.Asked);
    }

    [Fact]
    public void Publish_refuses_two_versions_for_one_group_in_one_call()
    {
        var one = _repo.Commit("one");
        var two = _repo.Commit("two");
        var written = new DeploymentOperations().Publish(Context, new PublishRequest(new[]
        {
            new PublishTarget("svc", "prod.main", one), new PublishTarget("svc", "prod.main", two), new PublishTarget("svc", "prod.canary", two),
        }));
        Assert.Equal(new[] { "prod.canary" }, written.Select(w => w.DeployGroup));
        Assert.Equal("ConflictingDeployVersions", Assert.Single(_sink.ErrorIds));
        Assert.Equal(1, TagCount("-deploy"));
    }

    [Fact]
    public void Publish_warns_as_PaaSTA_does()
    {
        var sha = _repo.Commit();
        Mark("prod.main", sha);
        new DeploymentOperations().Publish(Context, new PublishRequest(new[] { new PublishTarget("svc", "prod.main", sha), new PublishTarget("svc", "prod.typo", sha) }));
        Assert.Contains(_sink.Warnings, w => w.Contains("is already the current version of 'prod.main'", StringComparison.Ordinal));
        Assert.Contains(_sink.Warnings, w => w.Contains("deploy group 'prod.typo' (a typo?)", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("local.main+evil", null)]
    [InlineData("prod main", null)]
    [InlineData("prod/main", null)]
    [InlineData("prod.main", "a+b")]
    [InlineData("prod.main", "two words")]
    public void Publish_refuses_names_a_tag_cannot_carry_before_anything_is_written(string group, string? imageVersion)
    {
        var sha = _repo.Commit();
        var written = new DeploymentOperations().Publish(Context, new PublishRequest(new[] { new PublishTarget("svc", group, sha, imageVersion) }));
        Assert.Empty(written);
        Assert.Equal(imageVersion is null ? "InvalidDeployGroup" : "InvalidImageVersion", Assert.Single(_sink.ErrorIds));
        Assert.Empty(_sink.Asked);
        Assert.Equal(0, TagCount("-deploy"));
    }

    [Fact]
    public void A_plus_in_a_deploy_group_would_redeploy_another_group()
    {
        // Why '+' is refused: the tag reads back as the group before it, with the rest as image version.
        var tag = "refs/tags/paasta-local.main+evil-20240101T000000-deploy";
        var index = PaastaTagIndex.Build(new GitRefListing(GitRepositoryLocation.Parse("/nonexistent"), new[] { new GitRef(tag, new string('a', 40)) }));
        Assert.Equal("evil", index.LatestDeploy("local.main")!.ImageVersion);
        var e = Assert.Throws<PaastaException>(() => PaastaTags.DeployRefName("local.main+evil", null, "20240101T000000"));
        Assert.Equal("InvalidDeployGroup", e.ErrorId);
        Assert.Contains("read back as deploy group 'local.main' with image version 'evil'", e.Message);
    }

    [Fact]
    public void Undo_rolls_a_group_back_once_however_many_records_name_it()
    {
        var good = _repo.Commit("good");
        Mark("prod.main", good);
        var bad = _repo.Commit("bad");
        Mark("prod.main", bad);
        // Get-PaastaDeployment -Service svc | Undo-PaastaDeployment: one record per instance, three of them in prod.main.
        var targets = new[] { "prod.main", "prod.main", "prod.canary", "prod.main" }.Select(g => new RollbackTarget("svc", new[] { g })).ToList();
        var results = new DeploymentOperations().Undo(Context, new RollbackRequest(targets));
        var result = Assert.Single(results);
        Assert.Equal((bad, good), (result.From.Sha, result.To.Sha));
        Assert.Equal(1, TagCount("-rollback"));
        Assert.Equal(3, TagCount("-deploy"));
        Assert.Equal("NoDeployTag", Assert.Single(_sink.ErrorIds)); // prod.canary, once
        Assert.Single(_sink.Asked);
    }

    [Fact]
    public void Undo_of_all_groups_skips_the_never_deployed_ones()
    {
        var good = _repo.Commit("good");
        Mark("prod.main", good);
        Mark("prod.canary", good);
        var bad = _repo.Commit("bad");
        Mark("prod.main", bad);
        Mark("prod.canary", bad);
        var results = new DeploymentOperations().Undo(Context, new RollbackRequest(new[] { new RollbackTarget("svc", null), new RollbackTarget("svc", new[] { "prod.main" }) }));
        Assert.Equal(new[] { "prod.canary", "prod.main" }, results.Select(r => r.DeployGroup));
        Assert.Empty(_sink.Errors);
        Assert.Contains(_sink.Messages, m => m.Text == "Skipping 'never.deployed': never deployed");
    }

    [Fact]
    public void Undo_needs_a_commit_for_an_image_version()
    {
        Assert.Empty(new DeploymentOperations().Undo(Context, new RollbackRequest(new[] { new RollbackTarget("svc", new[] { "prod.main" }) }) { ImageVersion = "3" }));
        Assert.Equal("ImageVersionNeedsCommit", Assert.Single(_sink.ErrorIds));
    }

    [Fact]
    public void Git_steps_show_as_progress_with_each_tag_write_nested()
    {
        var good = _repo.Commit("good");
        Mark("prod.main", good);
        var bad = _repo.Commit("bad");
        Mark("prod.main", bad, "2");
        var reports = new RecordingSink();
        new DeploymentOperations().Undo(reports.Context(_soa.Root), new RollbackRequest(new[] { new RollbackTarget("svc", new[] { "prod.main" }) }));
        var all = reports.ProgressReports.ToList();
        Assert.Contains(all, p => p.Activity == DeploymentOperations.UndoActivity && p.Status == $"Listing the refs of {_repo.Remote}");
        Assert.Contains(all, p => p.Activity == DeploymentOperations.UndoActivity && p.Status == $"svc: rolling prod.main back to {good}");
        var nested = all.Where(p => p.ParentActivity == DeploymentOperations.UndoActivity && p.State == ProgressState.Running).Select(p => p.CurrentOperation).ToList();
        Assert.Contains(nested, c => c!.StartsWith("Writing paasta-prod.main-", StringComparison.Ordinal) && c.EndsWith($"-deploy to {_repo.Remote}", StringComparison.Ordinal));
        Assert.Contains(nested, c => c!.StartsWith("Writing paasta-prod.main+2-", StringComparison.Ordinal) && c.EndsWith($"-rollback to {_repo.Remote}", StringComparison.Ordinal));
        foreach (var activity in all.Select(p => p.Activity).Distinct())
            Assert.Equal(ProgressState.Completed, all.Last(p => p.Activity == activity).State);
    }

    // ---------------------------------------------------------------- hostile input

    [Fact]
    public void A_NUL_in_git_url_is_a_PaastaException_for_every_reader()
    {
        _repo.Commit();
        _soa.Write("svc", "service.yaml", "description: test\nexternal_link: http://example\ngit_url: \"/tmp/a\\0b.git\"\n");
        var ops = new DeploymentOperations();
        ops.Generate(Context, new GenerateDeploymentsRequest(new[] { "svc" }));
        ops.Publish(Context, new PublishRequest(new[] { new PublishTarget("svc", "prod.main", "abcd") }));
        ops.DescribeInstances(Context, new DeploymentQuery { Services = new[] { "svc" }, Live = true });
        Assert.Equal(new[] { "GitRepositoryInvalid", "GitRepositoryInvalid", "GitRepositoryInvalid" }, _sink.ErrorIds);
        Assert.All(_sink.Errors, e => Assert.Equal("git_url", e.Key));
    }

    [Fact]
    public void A_token_in_the_repository_url_is_never_shown()
    {
        using var daemon = GitDaemon.TryStart(_repo.Root);
        if (daemon is null) return; // git-daemon is not installed here
        var sha = _repo.Commit();
        var url = $"git://user:TOKEN@127.0.0.1:{daemon.Port}/remote.git";
        // One operations object per cmdlet call, as the cmdlets use them (a call sees the refs as it first listed them).
        var published = Assert.Single(new DeploymentOperations().Publish(Context, new PublishRequest(new[] { new PublishTarget("svc", "prod.main", sha) }) { Repository = url }));
        var file = Assert.Single(new DeploymentOperations().Generate(Context, new GenerateDeploymentsRequest(new[] { "svc" }) { Repository = url }));
        Assert.Equal(sha, file.Deployments["prod.main"].GitSha);
        var unknown = sha.StartsWith("0000", StringComparison.Ordinal) ? "ffff" : "0000";
        new DeploymentOperations().Publish(Context, new PublishRequest(new[] { new PublishTarget("svc", "prod.main", unknown) }) { Repository = url }); // CommitNotFound names the repository
        Assert.NotEmpty(_sink.Errors);

        Assert.Equal($"git://user:***@127.0.0.1:{daemon.Port}/remote.git", published.Repository);
        Assert.Equal(published.Repository, file.Repository);
        var shown = _sink.Messages.Select(m => m.Text)
            .Concat(_sink.ProgressReports.SelectMany(p => new[] { p.Activity, p.Status, p.CurrentOperation }))
            .Concat(_sink.Asked.SelectMany(a => new[] { a.Target, a.Action }))
            .Concat(_sink.Errors.SelectMany(e => new[] { e.Message, e.Target?.ToString() }))
            .OfType<string>().ToList();
        Assert.Contains(shown, s => s.Contains("user:***@", StringComparison.Ordinal));
        Assert.DoesNotContain(shown, s => s.Contains("TOKEN", StringComparison.Ordinal));
    }

    [Fact]
    public void A_token_in_an_unreachable_url_stays_out_of_the_error()
    {
        var ops = new DeploymentOperations(new GitSession(new GitClientOptions { Timeout = TimeSpan.FromSeconds(20) }));
        ops.DescribeInstances(Context, new DeploymentQuery { Services = new[] { "svc" }, Live = true, Repository = "http://user:TOKEN@127.0.0.1:9/x.git" });
        var error = Assert.Single(_sink.Errors);
        Assert.DoesNotContain("TOKEN", error.Message);
        Assert.DoesNotContain("TOKEN", error.Target?.ToString() ?? "");
        Assert.DoesNotContain(_sink.Messages, m => m.Text.Contains("TOKEN", StringComparison.Ordinal));
    }
}
