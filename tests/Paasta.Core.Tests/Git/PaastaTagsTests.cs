using Paasta.Git;
using Paasta.Errors;

namespace Paasta.Tests.Git;

public class PaastaTagsTests
{
    private const string A = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private const string B = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    private const string C = "cccccccccccccccccccccccccccccccccccccccc";

    private static GitRefListing Listing(params (string Name, string Sha)[] refs) =>
        new(GitRepositoryLocation.Parse("/nonexistent/repo.git"), refs.Select(r => new GitRef(r.Name, r.Sha)));

    [Fact]
    public void Timestamps_are_utc_fixed_width()
    {
        var t = new DateTimeOffset(2024, 3, 15, 16, 22, 33, TimeSpan.FromHours(2));
        Assert.Equal("20240315T142233", GitTimestamp.ToTimestamp(t));
        Assert.True(GitTimestamp.IsTimestamp("20240315T142233"));
        Assert.False(GitTimestamp.IsTimestamp("2024031T5142233"));
        Assert.False(GitTimestamp.IsTimestamp("20240315T14223"));
        Assert.Equal(new DateTimeOffset(2024, 3, 15, 14, 22, 33, TimeSpan.Zero), GitTimestamp.TryParse("20240315T142233"));
    }

    [Fact]
    public void Tag_names_follow_the_contract()
    {
        Assert.Equal("refs/tags/paasta-prod.canary-20240315T142233-deploy", PaastaTags.DeployRefName("prod.canary", null, "20240315T142233"));
        Assert.Equal("refs/tags/paasta-prod.canary+1710512553-20240315T142233-deploy", PaastaTags.DeployRefName("prod.canary", "1710512553", "20240315T142233"));
        Assert.Equal("refs/tags/paasta-pnw-prod.main-20240316T090000-stop", PaastaTags.ControlRefName("pnw-prod.main", "20240316T090000", "stop"));
        Assert.Equal("refs/tags/paasta-prod.canary+7-20240315T142233-rollback", PaastaTags.RollbackRefName("prod.canary", "7", "20240315T142233"));
    }

    [Fact]
    public void Latest_deploy_tag_wins_and_several_tags_on_one_commit_are_fine()
    {
        var refs = Listing(
            ("refs/heads/main", A),
            ("refs/tags/paasta-prod.main-20240101T000000-deploy", A),
            ("refs/tags/paasta-prod.main-20240301T000000-deploy", B),
            ("refs/tags/paasta-prod.main-20240201T000000-deploy", C),
            ("refs/tags/paasta-prod.canary-20240301T000000-deploy", B),
            ("refs/tags/paasta-prod.canary-20240301T000001-deploy", B));
        var index = PaastaTagIndex.Build(refs);
        Assert.Equal(B, index.LatestDeploy("prod.main")!.Sha);
        Assert.Equal("20240301T000000", index.LatestDeploy("prod.main")!.Timestamp);
        Assert.Equal("refs/tags/paasta-prod.canary-20240301T000001-deploy", index.LatestDeploy("prod.canary")!.RefName);
        Assert.Null(index.LatestDeploy("prod.other"));
    }

    [Fact]
    public void Equal_timestamps_keep_the_ref_that_sorts_first()
    {
        var refs = Listing(
            ("refs/tags/paasta-g+zz-20240101T000000-deploy", B),
            ("refs/tags/paasta-g+aa-20240101T000000-deploy", A));
        Assert.Equal("aa", PaastaTagIndex.Build(refs).LatestDeploy("g")!.ImageVersion);
    }

    [Fact]
    public void Image_versions_are_everything_between_plus_and_the_timestamp()
    {
        var refs = Listing(
            ("refs/tags/paasta-prod.canary+1710512553-20240315T142233-deploy", A),
            ("refs/tags/paasta-a+b+c-20240315T142233-deploy", B),
            ("refs/tags/paasta-x+v1-2-20240101T000000-extra-20240102T000000-deploy", C));
        var index = PaastaTagIndex.Build(refs);
        Assert.Equal("1710512553", index.LatestDeploy("prod.canary")!.ImageVersion);
        // "a+b+c" reads as group a (image b+c), group a+b (image c) and group a+b+c (no image), as the regex allows.
        Assert.Equal("b+c", index.LatestDeploy("a")!.ImageVersion);
        Assert.Equal("c", index.LatestDeploy("a+b")!.ImageVersion);
        Assert.Null(index.LatestDeploy("a+b+c")!.ImageVersion);
        Assert.Equal("v1-2-20240101T000000-extra", index.LatestDeploy("x")!.ImageVersion);
        Assert.Equal("20240102T000000", index.LatestDeploy("x")!.Timestamp);
    }

    [Fact]
    public void Dots_in_deploy_groups_are_literal()
    {
        // PaaSTA interpolates the group into a regex unescaped, so "prod.canary" would match "prodXcanary"; Paasta escapes.
        var refs = Listing(("refs/tags/paasta-prodXcanary-20240101T000000-deploy", A));
        var index = PaastaTagIndex.Build(refs, new HashSet<string> { "prod.canary" });
        Assert.Null(index.LatestDeploy("prod.canary"));
        Assert.Empty(PaastaTags.TagsOfGroup(refs, "prod.canary"));
        Assert.Single(PaastaTags.TagsOfGroup(refs, "prodXcanary"));
    }

    [Fact]
    public void Malformed_deploy_tags_are_ignored()
    {
        var refs = Listing(
            ("refs/tags/paasta-g-2024010T000000-deploy", A),
            ("refs/tags/paasta-g-20240101T000000-deployed", A),
            ("refs/tags/notpaasta-g-20240101T000000-deploy", A),
            ("refs/heads/paasta-g-20240101T000000-deploy", A),
            ("refs/tags/paasta--20240101T000000-deploy", A),
            ("refs/tags/paasta-g-20240101T000000-deploy^{}", A));
        Assert.Null(PaastaTagIndex.Build(refs).LatestDeploy("g"));
    }

    [Theory]
    [InlineData("refs/tags/cluster.instance-20150721T183905-start", "cluster.instance", "start")]
    [InlineData("refs/tags/paasta-cluster.instance-20150721T183905-start", "cluster.instance", "start")]
    [InlineData("refs/tags/paasta-paasta-cluster.instance-20150721T183905-stop", "cluster.instance", "stop")]
    [InlineData("refs/tags/paasta-pnw-prod.batch_job.do-it-20150721T183905-stop", "pnw-prod.batch_job.do-it", "stop")]
    public void Start_and_stop_tags_accept_legacy_prefixes(string name, string branch, string state)
    {
        Assert.True(PaastaTags.TryParseControl(new GitRef(name, A), out var tag));
        Assert.Equal(branch, tag.Branch);
        Assert.Equal(state, tag.State);
        Assert.Equal("20150721T183905", tag.ForceBounce);
    }

    [Theory]
    [InlineData("refs/tags/paasta-c.i-20150721T183905-restart")]
    [InlineData("refs/tags/paasta-c i-20150721T183905-start")]
    [InlineData("refs/heads/paasta-c.i-20150721T183905-start")]
    public void Other_refs_are_not_control_tags(string name) =>
        Assert.False(PaastaTags.TryParseControl(new GitRef(name, A), out _));

    [Fact]
    public void Control_state_is_the_newest_tag_for_that_branch_and_sha()
    {
        var refs = Listing(
            ("refs/tags/paasta-c.main-20240101T000000-stop", A),
            ("refs/tags/paasta-c.main-20240102T000000-start", A),
            ("refs/tags/paasta-paasta-c.main-20240103T000000-stop", B),
            ("refs/tags/paasta-c.canary-20240104T000000-stop", A));
        var index = PaastaTagIndex.Build(refs);
        Assert.Equal("start", index.Control("c.main", A)!.State);
        Assert.Equal("20240102T000000", index.Control("c.main", A)!.ForceBounce);
        Assert.Equal("stop", index.Control("c.main", B)!.State);
        Assert.Null(index.Control("c.main", C));
        Assert.Equal("stop", index.Control("c.canary", A)!.State);
    }

    [Fact]
    public void Rollback_tags_are_per_group_and_sha_newest_first()
    {
        var refs = Listing(
            ("refs/tags/paasta-g-20240101T000000-rollback", A),
            ("refs/tags/paasta-g+7-20240301T000000-rollback", A),
            ("refs/tags/paasta-g-20240201T000000-rollback", B),
            ("refs/tags/paasta-gX-20240401T000000-rollback", A));
        var tags = PaastaTags.RollbackTags(refs, "g", A);
        Assert.Equal(new[] { "20240301T000000", "20240101T000000" }, tags.Select(t => t.Timestamp));
        Assert.Equal("7", tags[0].ImageVersion);
    }

    [Fact]
    public void Deployed_versions_are_distinct_and_newest_first()
    {
        var refs = Listing(
            ("refs/tags/paasta-g-20240101T000000-deploy", A),
            ("refs/tags/paasta-g-20240201T000000-deploy", B),
            ("refs/tags/paasta-g-20240301T000000-deploy", A),
            ("refs/tags/paasta-g+2-20240401T000000-deploy", A));
        var versions = PaastaTags.DeployedVersions(refs, "g");
        Assert.Equal(new[] { new DeploymentVersion(A, "2"), new DeploymentVersion(A, null), new DeploymentVersion(B, null) }, versions.Select(v => v.Version));
        Assert.Equal("20240301T000000", versions[1].Timestamp);
    }

    [Fact]
    public void Deployment_versions_print_like_PaaSTA()
    {
        Assert.Equal(A, new DeploymentVersion(A, null).ToString());
        Assert.Equal($"DeploymentVersion(sha={A}, image_version=5)", new DeploymentVersion(A, "5").ToString());
        Assert.NotEqual(new DeploymentVersion(A, null), new DeploymentVersion(A, "5"));
    }

    [Fact]
    public void Short_shas_resolve_only_when_unique()
    {
        var abcd1 = "abcd1" + new string('0', 35);
        var abcd2 = "abcd2" + new string('0', 35);
        var refs = Listing(("refs/heads/main", abcd1), ("refs/heads/other", abcd2), ("refs/tags/v1", abcd1), ("refs/tags/v2^{}", C));
        Assert.Equal(abcd1, CommitResolver.Resolve(refs, "ABCD1"));
        Assert.Equal(C, CommitResolver.Resolve(refs, "cccc"));
        Assert.Equal(B, CommitResolver.Resolve(refs, B)); // a full sha is taken as is
        var ambiguous = Assert.Throws<PaastaException>(() => CommitResolver.Resolve(refs, "abcd"));
        Assert.Equal("CommitAmbiguous", ambiguous.ErrorId);
        Assert.Contains(abcd1, ambiguous.Message);
        Assert.Contains(abcd2, ambiguous.Message);
        Assert.Equal("CommitNotFound", Assert.Throws<PaastaException>(() => CommitResolver.Resolve(refs, "0123")).ErrorId);
        Assert.Equal("InvalidCommit", Assert.Throws<PaastaException>(() => CommitResolver.Resolve(refs, "abc")).ErrorId);
        Assert.Equal("InvalidCommit", Assert.Throws<PaastaException>(() => CommitResolver.Resolve(refs, "xyz123")).ErrorId);
    }

    [Theory]
    [InlineData("git@github.com:org/repo.git", false)]
    [InlineData("ssh://git@host/org/repo", false)]
    [InlineData("https://host/org/repo", false)]
    [InlineData("/srv/git/repo.git", true)]
    [InlineData("file:///srv/git/repo.git", true)]
    [InlineData("relative/repo.git", true)]
    [InlineData("./a:b", true)]
    public void Locations_are_classified_like_git(string url, bool local)
    {
        var location = GitRepositoryLocation.Parse(url, "/base");
        Assert.Equal(local, location.IsLocal);
        if (url == "file:///srv/git/repo.git") Assert.Equal(Path.GetFullPath("/srv/git/repo.git"), location.LocalPath);
        if (url == "relative/repo.git") Assert.Equal(Path.GetFullPath("/base/relative/repo.git"), location.LocalPath);
    }
}
