using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Paasta.Git;
using Paasta.Errors;

namespace Paasta.Tests.Git;

/// <summary>Against real repositories made with the git CLI: what Paasta writes, git sees, and the other way round.</summary>
public class GitRemoteClientTests
{
    public static IEnumerable<object[]> Modes() => new[] { new object[] { false }, new object[] { true } };

    private static GitRemoteClient Client(bool push) => new(new GitClientOptions { PushToLocalRepositories = push });

    [Theory]
    [MemberData(nameof(Modes))]
    public void Tags_written_by_Paasta_are_seen_by_git_ls_remote(bool push)
    {
        using var repo = new GitTestRepository();
        var sha = repo.Commit();
        var client = Client(push);
        var refs = client.ListRefs(repo.Location);
        var deploy = PaastaTags.DeployRefName("prod.main", null, "20240101T000000");
        Assert.Equal(RefCreation.Created, client.CreateRef(repo.Location, deploy, sha, force: true, refs));
        var stop = PaastaTags.ControlRefName("c.main", "20240101T000001", "stop");
        Assert.Equal(RefCreation.Created, client.CreateRef(repo.Location, stop, sha, false, client.ListRefs(repo.Location), deploy));

        var lsRemote = repo.LsRemote();
        Assert.Equal(sha, lsRemote[deploy]);
        Assert.Equal(sha, lsRemote[stop]);
        // And git agrees it is a proper tag of the repository.
        Assert.Equal(sha, GitTestRepository.Git(repo.Remote, "rev-parse", "paasta-c.main-20240101T000001-stop^{commit}").Trim());
    }

    [Fact]
    public void Tags_written_by_git_are_read_exactly_as_git_ls_remote_lists_them()
    {
        using var repo = new GitTestRepository();
        var first = repo.Commit("one");
        repo.TagWithGit("paasta-prod.main-20240101T000000-deploy", first);
        repo.TagWithGit("v1.0", first, annotated: true);
        var second = repo.Commit("two");
        repo.TagWithGit("paasta-paasta-c.main-20150721T183905-start", second);
        GitTestRepository.Git(repo.Remote, "pack-refs", "--all");       // some refs packed (with peeled lines)...
        repo.TagWithGit("paasta-prod.main+7-20240102T000000-deploy", second);
        repo.TagWithGit("v2.0", second, annotated: true);                 // ...and some loose, an annotated one among them
        GitTestRepository.Git(repo.Work, "push", "-q", repo.Remote, $"{first}:refs/heads/old");

        var expected = repo.LsRemote();
        foreach (var url in new[] { repo.Remote, repo.Remote + "/", "file://" + repo.Remote })
        {
            var listing = new GitRemoteClient().ListRefs(GitRepositoryLocation.Parse(url));
            var actual = listing.RefsWithPeeled().ToDictionary(r => r.Name, r => r.Sha);
            Assert.Equal(expected.OrderBy(e => e.Key), actual.OrderBy(e => e.Key));
        }
        var index = PaastaTagIndex.Build(new GitRemoteClient().ListRefs(repo.Location));
        Assert.Equal("7", index.LatestDeploy("prod.main")!.ImageVersion);
        Assert.Equal(second, index.LatestDeploy("prod.main")!.Sha);
        Assert.Equal("start", index.Control("c.main", second)!.State);
    }

    [Fact]
    public void The_commit_of_an_annotated_tag_resolves_by_prefix()
    {
        using var repo = new GitTestRepository();
        var sha = repo.Commit("released");
        repo.TagWithGit("release", sha, annotated: true);
        repo.Commit("later"); // main moves on: only the tag's peeled entry has the released commit
        var refs = new GitRemoteClient().ListRefs(repo.Location);
        Assert.Equal(sha, CommitResolver.Resolve(refs, sha[..7]));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void An_existing_name_is_reported_taken_and_never_moved(bool push)
    {
        using var repo = new GitTestRepository();
        var first = repo.Commit("one");
        var second = repo.Commit("two");
        var name = PaastaTags.DeployRefName("g", null, "20240101T000000");
        repo.TagWithGit(PaastaTags.ShortName(name), first);
        var client = Client(push);
        // Even with force (mark-for-deployment's mode), and even when the caller's listing is stale.
        Assert.Equal(RefCreation.NameTaken, client.CreateRef(repo.Location, name, second, force: true, knownRefs: null));
        Assert.Equal(first, repo.LsRemote()[name]);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Racing_writers_all_land_their_tags(bool push)
    {
        using var repo = new GitTestRepository();
        var sha = repo.Commit();
        var writers = 3;
        var start = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, writers).Select(_ => Task.Run(() =>
        {
            var writer = new TagWriter(Client(push));
            start.Wait();
            return writer.Write(repo.Location, ts => PaastaTags.ControlRefName("c.main", ts, "start"), sha, force: false);
        })).ToArray();
        start.Set();
        var names = (await Task.WhenAll(tasks)).Select(t => t.RefName).ToList();
        Assert.Equal(writers, names.Distinct().Count());
        var lsRemote = repo.LsRemote();
        foreach (var name in names) Assert.Equal(sha, lsRemote[name]);
        Assert.Equal(writers, lsRemote.Keys.Count(k => k.EndsWith("-start")));
    }

    [Fact]
    public void A_name_taken_in_this_second_moves_the_writer_to_the_next_second()
    {
        using var repo = new GitTestRepository();
        var sha = repo.Commit();
        var clock = new FixedThenRealClock(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var taken = PaastaTags.ControlRefName("c.main", "20300102T030405", "stop");
        repo.TagWithGit(PaastaTags.ShortName(taken), sha);
        var written = new TagWriter(new GitRemoteClient(), clock).Write(repo.Location, ts => PaastaTags.ControlRefName("c.main", ts, "stop"), sha, false);
        Assert.Equal("20300102T030406", written.Timestamp);
        Assert.Equal(sha, repo.LsRemote()[written.RefName]);
    }

    [Fact]
    public void A_stale_lock_only_costs_one_timestamp()
    {
        using var repo = new GitTestRepository();
        var sha = repo.Commit();
        var clock = new FixedThenRealClock(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var name = PaastaTags.ControlRefName("c.main", "20300102T030405", "start");
        var lockPath = Path.Combine(repo.Remote, name + ".lock");
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
        File.WriteAllText(lockPath, "");
        var written = new TagWriter(new GitRemoteClient(), clock).Write(repo.Location, ts => PaastaTags.ControlRefName("c.main", ts, "start"), sha, false);
        Assert.Equal("20300102T030406", written.Timestamp);
        Assert.False(repo.LsRemote().ContainsKey(name));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_commit_the_repository_lacks_is_refused(bool push)
    {
        using var repo = new GitTestRepository();
        repo.Commit();
        var e = Assert.Throws<PaastaException>(() => Client(push).CreateRef(repo.Location, "refs/tags/paasta-g-20240101T000000-deploy", new string('d', 40)));
        Assert.Contains(e.ErrorId, new[] { "CommitNotInRepository", "CommitNotOnRemote" });
    }

    [Fact]
    public void A_folder_that_is_no_repository_is_a_clear_error()
    {
        using var dir = new SoaConfigsFolder();
        Assert.Equal("GitRepositoryNotFound", Assert.Throws<PaastaException>(() => new GitRemoteClient().ListRefs(GitRepositoryLocation.Parse(dir.Root))).ErrorId);
        Assert.Equal("GitRepositoryNotFound", Assert.Throws<PaastaException>(() => new GitRemoteClient().ListRefs(GitRepositoryLocation.Parse(Path.Combine(dir.Root, "missing")))).ErrorId);
    }

    [Fact]
    public void Invalid_tag_names_are_refused_before_anything_is_written()
    {
        using var repo = new GitTestRepository();
        var sha = repo.Commit();
        Assert.Equal("InvalidTagName", Assert.Throws<PaastaException>(() => new GitRemoteClient().CreateRef(repo.Location, "refs/tags/paasta-bad name-20240101T000000-deploy", sha)).ErrorId);
    }

    [Fact]
    public void A_working_clone_can_be_the_repository()
    {
        using var repo = new GitTestRepository();
        var sha = repo.Commit();
        var location = GitRepositoryLocation.Parse(repo.Work);
        var client = new GitRemoteClient();
        Assert.Equal(RefCreation.Created, client.CreateRef(location, "refs/tags/paasta-g-20240101T000000-deploy", sha));
        Assert.Equal(sha, client.ListRefs(location).ShaOf("refs/tags/paasta-g-20240101T000000-deploy"));
        Assert.Equal(sha, GitTestRepository.Git(repo.Work, "rev-parse", "paasta-g-20240101T000000-deploy").Trim());
    }

    /// <summary>The network path (git protocol, shallow fetch into a throwaway repository, ref-only push) against git daemon.</summary>
    [Fact]
    public void Over_the_git_protocol_tags_are_pushed_without_a_clone()
    {
        using var repo = new GitTestRepository();
        using var daemon = GitDaemon.TryStart(repo.Root);
        if (daemon is null) return; // git-daemon is not installed here
        var first = repo.Commit("one");
        var second = repo.Commit("two");
        var deploy = PaastaTags.DeployRefName("prod", null, "20240101T000000");
        repo.TagWithGit(PaastaTags.ShortName(deploy), first);

        var location = GitRepositoryLocation.Parse($"git://127.0.0.1:{daemon.Port}/remote.git");
        Assert.False(location.IsLocal);
        var client = new GitRemoteClient();
        var refs = client.ListRefs(location);
        Assert.Equal(repo.LsRemote().OrderBy(e => e.Key), refs.Refs.ToDictionary(r => r.Name, r => r.Sha).OrderBy(e => e.Key));

        var stop = PaastaTags.ControlRefName("c.main", "20240101T000001", "stop");
        Assert.Equal(RefCreation.Created, client.CreateRef(location, stop, first, false, refs, deploy));
        var redeploy = PaastaTags.DeployRefName("prod", null, "20240101T000002");
        Assert.Equal(RefCreation.Created, client.CreateRef(location, redeploy, second, true, refs));
        // The name now exists: the push is cancelled before anything is sent, even in force mode.
        Assert.Equal(RefCreation.NameTaken, client.CreateRef(location, stop, second, true, refs));

        var lsRemote = repo.LsRemote();
        Assert.Equal(first, lsRemote[stop]);
        Assert.Equal(second, lsRemote[redeploy]);
        GitTestRepository.Git(repo.Remote, "fsck", "--no-progress");
    }

    private sealed class FixedThenRealClock : TimeProvider
    {
        private readonly DateTimeOffset _start;
        private readonly long _origin = Stopwatch.GetTimestamp();

        public FixedThenRealClock(DateTimeOffset start) => _start = start;

        public override DateTimeOffset GetUtcNow() => _start + Stopwatch.GetElapsedTime(_origin);
    }
}

/// <summary>git daemon serving a folder, with pushes enabled, on a free local port.</summary>
internal sealed class GitDaemon : IDisposable
{
    private readonly Process _process;

    private GitDaemon(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public static GitDaemon? TryStart(string basePath)
    {
        var execPath = GitTestRepository.Git(basePath, "--exec-path").Trim();
        if (!File.Exists(Path.Combine(execPath, "git-daemon"))) return null;
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var start = new ProcessStartInfo("git") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "daemon", "--reuseaddr", "--export-all", "--enable=receive-pack", $"--base-path={basePath}", $"--port={port}", "--listen=127.0.0.1", basePath })
            start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, port);
                return new GitDaemon(process, port);
            }
            catch (SocketException) { Thread.Sleep(50); }
        }
        process.Kill(entireProcessTree: true);
        return null;
    }

    public void Dispose()
    {
        try { _process.Kill(entireProcessTree: true); _process.WaitForExit(5000); } catch (InvalidOperationException) { }
        _process.Dispose();
    }
}

public class TagWriterTests
{
    [Fact]
    public void A_new_tag_is_later_than_the_tags_it_competes_with()
    {
        using var repo = new GitTestRepository();
        var sha = repo.Commit();
        var clock = new ManualClock(new DateTimeOffset(2030, 1, 2, 3, 4, 5, 500, TimeSpan.Zero));
        var writer = new TagWriter(new GitRemoteClient(), clock);
        var written = writer.Write(repo.Location, ts => PaastaTags.ControlRefName("c.main", ts, "start"), sha, false, after: "20300102T030405");
        Assert.Equal("20300102T030406", written.Timestamp);
        // A timestamp far in the future (another machine's clock) is not waited for.
        var skewed = writer.Write(repo.Location, ts => PaastaTags.ControlRefName("c.other", ts, "start"), sha, false, after: "20300102T050000");
        Assert.Equal("20300102T030406", skewed.Timestamp);
    }

    /// <summary>A clock that only moves when someone waits on it.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now;

        public ManualClock(DateTimeOffset now) => _now = now;

        public override DateTimeOffset GetUtcNow() => _now;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            _now += dueTime;
            return System.CreateTimer(callback, state, TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }
}
