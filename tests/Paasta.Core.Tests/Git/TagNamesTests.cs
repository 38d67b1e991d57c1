using System.Diagnostics;
using Paasta.Errors;
using Paasta.Git;

namespace Paasta.Tests.Git;

/// <summary>What names a tag can carry, and the repository locations hostile input gives.</summary>
public class TagNamesTests
{
    private const string Ts = "20240101T000000";

    [Theory]
    [InlineData("prod.main")]
    [InlineData("pnw-prod.canary_2")]
    [InlineData("a")]
    public void Names_of_the_tag_grammar_are_written_and_read_back(string group)
    {
        var name = PaastaTags.DeployRefName(group, "1710512553", Ts);
        var index = PaastaTagIndex.Build(new GitRefListing(GitRepositoryLocation.Parse("/nonexistent"), new[] { new GitRef(name, new string('a', 40)) }));
        Assert.Equal("1710512553", index.LatestDeploy(group)!.ImageVersion);
        var control = PaastaTags.ControlRefName(group + ".inst", Ts, PaastaTags.Stop);
        Assert.True(PaastaTags.TryParseControl(new GitRef(control, ""), out var read));
        Assert.Equal(group + ".inst", read.Branch);
    }

    [Theory]
    [InlineData("local.main+evil")]
    [InlineData("prod main")]
    [InlineData("prod/main")]
    [InlineData("prod..main")]
    [InlineData("prod.lock")]
    [InlineData("pröd")]
    [InlineData("")]
    public void Deploy_groups_a_tag_cannot_carry_are_refused(string group)
    {
        Assert.Equal("InvalidDeployGroup", Assert.Throws<PaastaException>(() => TagNames.RequireDeployGroup(group)).ErrorId);
        Assert.Equal("InvalidDeployGroup", Assert.Throws<PaastaException>(() => PaastaTags.DeployRefName(group, null, Ts)).ErrorId);
        Assert.Equal("InvalidDeployGroup", Assert.Throws<PaastaException>(() => PaastaTags.RollbackRefName(group, null, Ts)).ErrorId);
    }

    [Theory]
    [InlineData("a+b")]
    [InlineData("two words")]
    [InlineData("x/y")]
    [InlineData("")]
    public void Image_versions_a_tag_or_docker_tag_cannot_carry_are_refused(string imageVersion)
    {
        Assert.Equal("InvalidImageVersion", Assert.Throws<PaastaException>(() => PaastaTags.DeployRefName("prod", imageVersion, Ts)).ErrorId);
    }

    [Fact]
    public void An_image_version_longer_than_a_docker_tag_allows_is_refused()
    {
        TagNames.RequireImageVersion(new string('1', TagNames.MaxImageVersionLength));
        Assert.Equal("InvalidImageVersion", Assert.Throws<PaastaException>(() => TagNames.RequireImageVersion(new string('1', TagNames.MaxImageVersionLength + 1))).ErrorId);
    }

    [Theory]
    [InlineData("c1.ünï")]
    [InlineData("c1.two words")]
    [InlineData("paasta-c1.main")]
    [InlineData("c1..main")]
    public void Control_branches_a_tag_cannot_carry_are_refused(string branch)
    {
        Assert.Equal("InstanceNameNotTaggable", Assert.Throws<PaastaException>(() => PaastaTags.ControlRefName(branch, Ts, PaastaTags.Stop)).ErrorId);
    }

    [Fact]
    public void The_tag_writer_writes_only_names_PaaSTA_reads()
    {
        using var repo = new GitTestRepository();
        var sha = repo.Commit();
        var writer = new TagWriter(new GitRemoteClient());
        foreach (var name in new Func<string, string>[] { ts => $"refs/tags/paasta-c1.ünï-{ts}-stop", ts => $"refs/tags/release-{ts}", ts => $"refs/tags/paasta-g-{ts}-deployed" })
            Assert.Equal("InvalidTagName", Assert.Throws<PaastaException>(() => writer.Write(repo.Location, name, sha, force: false)).ErrorId);
        Assert.DoesNotContain(repo.LsRemote().Keys, k => k.StartsWith("refs/tags/", StringComparison.Ordinal));
        Assert.StartsWith("paasta-g+1-", writer.Write(repo.Location, ts => PaastaTags.DeployRefName("g", "1", ts), sha, force: true).TagName);
    }

    [Fact]
    public void Why_a_leading_paasta_is_refused_in_control_branches()
    {
        // The reader drops up to two legacy "paasta-" prefixes, so this tag names c1.main, not paasta-c1.main.
        Assert.True(PaastaTags.TryParseControl(new GitRef($"refs/tags/paasta-paasta-c1.main-{Ts}-stop", ""), out var read));
        Assert.Equal("c1.main", read.Branch);
    }

    [Fact]
    public void A_control_character_in_a_repository_is_GitRepositoryInvalid()
    {
        var e = Assert.Throws<PaastaException>(() => GitRepositoryLocation.Parse("/tmp/a\0b.git"));
        Assert.Equal("GitRepositoryInvalid", e.ErrorId);
        Assert.Contains("\\u0000", e.Message);
        Assert.Equal("GitRepositoryInvalid", Assert.Throws<PaastaException>(() => GitRepositoryLocation.Parse("https://host/x.git\n")).ErrorId);
    }

    [Fact]
    public void A_password_in_a_url_is_masked_everywhere_but_the_transport()
    {
        var location = GitRepositoryLocation.Parse("https://user:TOKEN@example.com/x.git");
        Assert.Equal("https://user:***@example.com/x.git", location.Url);
        Assert.Equal("https://user:***@example.com/x.git", location.ToString());
        Assert.Equal("https://user:TOKEN@example.com/x.git", location.TransportUrl);
        var e = Assert.Throws<PaastaException>(() => CommitResolver.Resolve(new GitRefListing(location, Array.Empty<GitRef>()), "abcd"));
        Assert.DoesNotContain("TOKEN", e.Message);
    }

    [Fact]
    public void Paths_resolve_against_the_given_folder_and_the_home_folder()
    {
        Assert.Equal(Path.GetFullPath("/base/x.git"), GitRepositoryLocation.Parse("x.git", "/base").LocalPath);
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        Assert.Equal(Path.GetFullPath(Path.Join(home, "x.git")), GitRepositoryLocation.Parse("~/x.git", "/base").LocalPath);
    }

    [Fact]
    public void A_fifo_among_the_refs_is_refused_not_waited_on()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var repo = new GitTestRepository();
        repo.Commit();
        var fifo = Path.Combine(repo.Remote, "refs", "tags", "paasta-evil-20240101T000000-deploy");
        using (var mkfifo = Process.Start("mkfifo", fifo)) mkfifo.WaitForExit();
        var listing = Task.Run(() => new GitRemoteClient().ListRefs(repo.Location));
        Assert.True(Task.WhenAny(listing, Task.Delay(TimeSpan.FromSeconds(30))).GetAwaiter().GetResult() == listing, "listing the refs blocked on a FIFO");
        var e = Assert.IsType<PaastaException>(listing.Exception?.InnerException);
        Assert.Equal("NotARegularFile", e.ErrorId);
        Assert.Equal(fifo, e.File);
    }
}
