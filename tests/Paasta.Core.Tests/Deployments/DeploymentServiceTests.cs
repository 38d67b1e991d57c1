using Paasta.Config;
using Paasta.Deployments;
using Paasta.Git;
using Paasta.Tests.Git;
using Paasta.Errors;
using Paasta.Operations;

namespace Paasta.Tests.Deployments;

/// <summary>The git contract end to end: real repositories, real soa-configs, the engine's operations.</summary>
public sealed class DeploymentServiceTests : IDisposable
{
    private readonly GitTestRepository _repo = new();
    private readonly SoaConfigsFolder _soa = new();
    private readonly DeploymentService _service = new();

    public DeploymentServiceTests()
    {
        _soa.Write("svc", "service.yaml", $"description: test\nexternal_link: http://example\ngit_url: {_repo.Remote}\n");
        _soa.Write("svc", "deploy.yaml", "pipeline:\n- step: itest\n- step: prod.canary\n- step: prod.main\n- step: never.deployed\n");
        _soa.Write("svc", "kubernetes-c1.yaml", "main:\n  deploy_group: prod.main\ncanary:\n  deploy_group: prod.canary\nidle:\n  deploy_group: never.deployed\n");
        _soa.Write("svc", "tron-c1.yaml", "job:\n  deploy_group: prod.main\n  schedule: daily\n  actions:\n    run:\n      command: echo\n");
    }

    public void Dispose()
    {
        _repo.Dispose();
        _soa.Dispose();
    }

    private SoaConfigReader Reader => new(_soa.Root);
    private GitRefListing Refs() => _service.Client.ListRefs(_repo.Location);
    private InstanceConfig Instance(string name) =>
        Reader.LoadInstances(Reader.LoadService("svc")).Select(r => r.Value!).Single(i => i.Instance == name);

    private DeployTagResult Mark(string group, string commit, string? imageVersion = null)
    {
        var refs = Refs();
        return _service.MarkForDeployment("svc", _repo.Location, refs, group, CommitResolver.Resolve(refs, commit), imageVersion);
    }

    private InstanceControlResult Control(string instance, ControlAction action)
    {
        var refs = Refs();
        return _service.ApplyControl(DeploymentService.PlanControl(Instance(instance), _repo.Location, PaastaTagIndex.Build(refs), action), refs);
    }

    private DeploymentsFile Generate(string? repository = null, bool force = false)
    {
        var sink = new RecordingSink();
        var files = new DeploymentOperations().Generate(sink.Context(_soa.Root), new GenerateDeploymentsRequest(new[] { "svc" }) { Repository = repository, Force = force });
        if (!sink.Errors.IsEmpty) throw sink.Errors.First();
        return Assert.Single(files);
    }

    [Fact]
    public void Generated_file_follows_the_tags()
    {
        var sha = _repo.Commit();
        var deployed = Mark("prod.main", sha[..6]);
        Assert.Equal(sha, deployed.Sha);
        Assert.Matches(@"^paasta-prod\.main-\d{8}T\d{6}-deploy$", deployed.Tag);
        Mark("prod.canary", sha, "17");

        var file = Generate();
        Assert.True(file.Written);
        var text = File.ReadAllText(_soa.DeploymentsPath("svc"));
        Assert.Equal(file.Json, text);
        Assert.Equal(
            $"{{\"v1\": {{\"svc:paasta-c1.main\": {{\"docker_image\": \"services-svc:paasta-{sha}\", \"desired_state\": \"start\", \"force_bounce\": null}}, " +
            $"\"svc:paasta-c1.canary\": {{\"docker_image\": \"services-svc:paasta-{sha}-17\", \"desired_state\": \"start\", \"force_bounce\": null}}, " +
            $"\"svc:paasta-c1.job.run\": {{\"docker_image\": \"services-svc:paasta-{sha}\", \"desired_state\": \"start\", \"force_bounce\": null}}}}, " +
            $"\"v2\": {{\"deployments\": {{\"prod.main\": {{\"docker_image\": \"services-svc:paasta-{sha}\", \"git_sha\": \"{sha}\", \"image_version\": null}}, " +
            $"\"prod.canary\": {{\"docker_image\": \"services-svc:paasta-{sha}-17\", \"git_sha\": \"{sha}\", \"image_version\": \"17\"}}}}, " +
            $"\"controls\": {{\"svc:c1.main\": {{\"desired_state\": \"start\", \"force_bounce\": null}}, \"svc:c1.canary\": {{\"desired_state\": \"start\", \"force_bounce\": null}}, " +
            $"\"svc:c1.job.run\": {{\"desired_state\": \"start\", \"force_bounce\": null}}}}}}}}",
            text);

        var again = Generate();
        Assert.False(again.Changed);
        Assert.False(again.Written);
    }

    [Fact]
    public void Stop_lasts_until_a_different_commit_is_deployed()
    {
        var first = _repo.Commit("one");
        Mark("prod.main", first);
        var stop = Control("main", ControlAction.Stop);
        Assert.Equal("stop", stop.State);
        Assert.Equal(first, stop.Sha);
        Assert.Equal(first, _repo.LsRemote()[stop.RefName]);
        Assert.Equal(new ControlEntry("stop", stop.ForceBounce), Generate().Controls["svc:c1.main"]);

        // Marking the same commit again keeps it stopped...
        Mark("prod.main", first);
        Assert.Equal("stop", Generate().Controls["svc:c1.main"].DesiredState);

        // ...a different commit starts it.
        var second = _repo.Commit("two");
        Mark("prod.main", second);
        Assert.Equal(new ControlEntry("start", null), Generate().Controls["svc:c1.main"]);
    }

    [Fact]
    public void Restart_after_stop_starts_with_a_new_force_bounce()
    {
        var sha = _repo.Commit();
        Mark("prod.main", sha);
        var stop = Control("main", ControlAction.Stop);
        var restart = Control("main", ControlAction.Restart);
        Assert.Equal("start", restart.State);
        Assert.Equal("Restart", restart.Action);
        Assert.True(string.CompareOrdinal(restart.ForceBounce, stop.ForceBounce) > 0);
        Assert.Equal(new ControlEntry("start", restart.ForceBounce), Generate().Controls["svc:c1.main"]);
        var again = Control("main", ControlAction.Restart);
        Assert.NotEqual(restart.ForceBounce, again.ForceBounce);
        Assert.Equal(again.ForceBounce, Generate().Controls["svc:c1.main"].ForceBounce);
    }

    [Fact]
    public void Tron_actions_are_controlled_as_cluster_job_action()
    {
        var sha = _repo.Commit();
        Mark("prod.main", sha);
        var stop = Control("job.run", ControlAction.Stop);
        Assert.StartsWith("paasta-c1.job.run-", stop.Tag);
        Assert.Equal("stop", Generate().Controls["svc:c1.job.run"].DesiredState);
    }

    [Fact]
    public void A_deploy_group_without_a_deploy_tag_is_refused()
    {
        _repo.Commit();
        var refs = Refs();
        var e = Assert.Throws<PaastaException>(() => DeploymentService.PlanControl(Instance("idle"), _repo.Location, PaastaTagIndex.Build(refs), ControlAction.Stop));
        Assert.Equal("NoDeployTag", e.ErrorId);
        Assert.Contains("never.deployed", e.Message);
        Assert.DoesNotContain(_repo.LsRemote().Keys, k => k.EndsWith("-stop"));
        Assert.DoesNotContain("never.deployed", Generate().Deployments.Keys);
    }

    [Fact]
    public void Unknown_short_shas_are_refused()
    {
        _repo.Commit();
        var refs = Refs();
        var unknown = refs.Refs.Select(r => r.Sha[..4]).Contains("0000") ? "ffff" : "0000";
        Assert.Equal("CommitNotFound", Assert.Throws<PaastaException>(() => CommitResolver.Resolve(refs, unknown)).ErrorId);
    }

    [Fact]
    public void Git_url_null_gives_empty_deployments()
    {
        _soa.Write("svc", "service.yaml", "description: test\nexternal_link: http://example\ngit_url: null\n");
        var file = Generate();
        Assert.Null(file.Repository);
        Assert.Equal("{\"v1\": {}, \"v2\": {\"deployments\": {}, \"controls\": {}}}", File.ReadAllText(_soa.DeploymentsPath("svc")));
    }

    [Fact]
    public void A_missing_git_url_is_a_clear_error_and_an_override_wins()
    {
        _soa.Write("svc", "service.yaml", "description: test\nexternal_link: http://example\n");
        Assert.Equal("GitRepositoryNotConfigured", Assert.Throws<PaastaException>(() => Generate()).ErrorId);
        var sha = _repo.Commit();
        Mark("prod.main", sha);
        var file = Generate("file://" + _repo.Remote);
        Assert.Equal(sha, file.Deployments["prod.main"].GitSha);
    }

    [Fact]
    public void An_invalid_old_file_is_replaced()
    {
        _repo.Commit();
        _soa.Write("svc", "deployments.json", "{\"v1\": ");
        Assert.True(Generate().Written);
        DeploymentsDocument.Parse(File.ReadAllText(_soa.DeploymentsPath("svc")));
    }

    [Fact]
    public void Rollback_goes_back_one_version_and_marks_the_bad_commit()
    {
        var good = _repo.Commit("good");
        Mark("prod.main", good);
        var bad = _repo.Commit("bad");
        Mark("prod.main", bad, "3");
        var refs = Refs();

        var plan = DeploymentService.PlanRollback("svc", _repo.Location, refs, "prod.main", null, null, false);
        Assert.Equal(new DeploymentVersion(bad, "3"), plan.Current.Version);
        Assert.Equal(new DeploymentVersion(good, null), plan.Target);
        var result = _service.ApplyRollback(plan, refs);
        Assert.Matches(@"^paasta-prod\.main\+3-\d{8}T\d{6}-rollback$", result.RollbackTag);

        var lsRemote = _repo.LsRemote();
        Assert.Equal(bad, lsRemote["refs/tags/" + result.RollbackTag]);
        Assert.Equal(good, lsRemote["refs/tags/" + result.DeployTag]);
        Assert.Equal(good, Generate().Deployments["prod.main"].GitSha);
        Assert.Single(PaastaTags.RollbackTags(Refs(), "prod.main", bad));

        // Going "back" again means returning to the bad version (roll forward); asking for the current one does nothing.
        var now = Refs();
        Assert.True(DeploymentService.PlanRollback("svc", _repo.Location, now, "prod.main", good[..7], null, false).NothingToDo);
        Assert.Equal("VersionNeverDeployed", Assert.Throws<PaastaException>(() =>
            DeploymentService.PlanRollback("svc", _repo.Location, now, "prod.main", bad, "99", false)).ErrorId);
        Assert.False(DeploymentService.PlanRollback("svc", _repo.Location, now, "prod.main", bad, "99", true).NothingToDo);
    }

    [Fact]
    public void Rollback_needs_a_previous_version()
    {
        var sha = _repo.Commit();
        Mark("prod.main", sha);
        var refs = Refs();
        Assert.Equal("NoPreviousVersion", Assert.Throws<PaastaException>(() => DeploymentService.PlanRollback("svc", _repo.Location, refs, "prod.main", null, null, false)).ErrorId);
        Assert.Equal("NoDeployTag", Assert.Throws<PaastaException>(() => DeploymentService.PlanRollback("svc", _repo.Location, refs, "never.deployed", null, null, false)).ErrorId);
    }

    [Fact]
    public void Live_and_file_views_agree()
    {
        var sha = _repo.Commit();
        Mark("prod.main", sha);
        Control("main", ControlAction.Stop);
        var document = Generate().Document;
        var instances = DeploymentService.LoadAllInstances(Reader, Reader.LoadService("svc"));
        var fromFile = DeploymentService.DescribeFromFile("svc", instances, document).ToList();
        var live = DeploymentService.DescribeLive("svc", instances, PaastaTagIndex.Build(Refs())).ToList();
        Assert.Equal(fromFile.Select(i => (i.ControlBranch, i.GitSha, i.DesiredState, i.ForceBounce)), live.Select(i => (i.ControlBranch, i.GitSha, i.DesiredState, i.ForceBounce)));
        Assert.False(fromFile.Single(i => i.Instance == "idle").Deployed);
        Assert.Equal("stop", live.Single(i => i.Instance == "main").DesiredState);
        Assert.NotNull(live.Single(i => i.Instance == "main").DeployedAt);
    }
}
