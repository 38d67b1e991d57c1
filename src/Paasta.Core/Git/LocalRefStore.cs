using System.Text;
using LibGit2Sharp;
using Paasta.Errors;
using Paasta.IO;

namespace Paasta.Git;

/// <summary>
/// Reads and writes the refs of a repository on this machine directly in its ref database (loose ref
/// files plus <c>packed-refs</c>), the way git itself does.
/// <para>
/// Why not libgit2 here: libgit2's local transport looks every ref up one by one (re-checking packed-refs
/// each time), which costs seconds on a repository with 100,000 tags where <c>git ls-remote</c> needs one
/// read of packed-refs. And libgit2's "create if absent" checks for the ref <em>before</em> taking the ref's
/// lock, so two writers racing on one name can both succeed, the second silently moving the first's tag.
/// </para>
/// <para>
/// Writing follows git's lock protocol: create <c>&lt;ref&gt;.lock</c> exclusively (O_EXCL), and only while
/// holding it check that the ref exists neither as a loose file nor in packed-refs, write the sha, and
/// rename the lock into place. git (update-ref, receive-pack, pack-refs) takes the same lock before touching
/// a loose ref, so the check-and-create is atomic against every git writer: an existing ref is never moved
/// or deleted, and a writer that loses a race is told the name is taken. A stale lock left by a crashed
/// writer only makes that one name unavailable; callers then use a fresh timestamp.
/// </para>
/// </summary>
internal static class LocalRefStore
{
    private static readonly UTF8Encoding Utf8NoBom = new(false);

    /// <summary>The repository's git dir and common dir (they differ for linked worktrees).</summary>
    internal sealed record RepositoryDirs(string GitDir, string CommonDir)
    {
        public bool UsesReftable =>
            Directory.Exists(Path.Combine(CommonDir, "reftable"));
    }

    public static RepositoryDirs Locate(GitRepositoryLocation location)
    {
        var path = Path.TrimEndingDirectorySeparator(location.LocalPath!);
        string? gitDir = null;
        if (IsGitDir(path)) gitDir = path;
        else
        {
            var dotGit = Path.Combine(path, ".git");
            if (Directory.Exists(dotGit) && IsGitDir(dotGit)) gitDir = dotGit;
            else if (File.Exists(dotGit))
            {
                var line = ReadSmallFile(dotGit).Split('\n')[0];
                if (line.StartsWith("gitdir:", StringComparison.Ordinal))
                {
                    var target = line["gitdir:".Length..].Trim();
                    target = Path.GetFullPath(Path.IsPathRooted(target) ? target : Path.Combine(path, target));
                    if (IsGitDir(target)) gitDir = target;
                }
            }
        }
        if (gitDir is null)
            throw new PaastaException("GitRepositoryNotFound", PaastaErrorKind.ObjectNotFound,
                $"'{location.Url}' is not a git repository (no such folder, or no HEAD, objects and refs in it or in its .git).")
            { Target = location.Url };
        var common = gitDir;
        var commonFile = Path.Combine(gitDir, "commondir");
        if (File.Exists(commonFile))
        {
            var rel = ReadSmallFile(commonFile).Trim();
            common = Path.GetFullPath(Path.IsPathRooted(rel) ? rel : Path.Combine(gitDir, rel));
        }
        return new RepositoryDirs(Path.TrimEndingDirectorySeparator(gitDir), Path.TrimEndingDirectorySeparator(common));
    }

    private static bool IsGitDir(string dir) =>
        File.Exists(Path.Combine(dir, "HEAD")) && Directory.Exists(Path.Combine(dir, "objects")) && Directory.Exists(Path.Combine(dir, "refs"));

    /// <summary>
    /// The refs as <c>git ls-remote &lt;path&gt;</c> lists them: HEAD, then every ref (loose files override
    /// packed-refs), plus the <c>^{}</c> entries packed-refs records for annotated tags. Annotated tags the
    /// store has no peeled value for are peeled on demand (<see cref="GitRefListing.RefsWithPeeled"/>).
    /// </summary>
    public static GitRefListing Read(GitRepositoryLocation location, RepositoryDirs dirs, CancellationToken cancellation)
    {
        // Loose refs first, then packed-refs: git pack-refs writes packed-refs before it deletes a loose
        // file, so a ref being packed while we read is seen in one place or the other.
        var loose = new Dictionary<string, string>(StringComparer.Ordinal);
        var symbolic = new Dictionary<string, string>(StringComparer.Ordinal);
        var refsRoot = Path.Combine(dirs.CommonDir, "refs");
        foreach (var file in Directory.EnumerateFiles(refsRoot, "*", SearchOption.AllDirectories))
        {
            cancellation.ThrowIfCancellationRequested();
            if (file.EndsWith(".lock", StringComparison.Ordinal)) continue;
            var name = Path.GetRelativePath(dirs.CommonDir, file);
            if (Path.DirectorySeparatorChar != '/') name = name.Replace(Path.DirectorySeparatorChar, '/');
            // A ref packed (deleted) between the listing and the read is in packed-refs now.
            if (ReadRefFile(file) is not { } content) continue;
            if (content.StartsWith("ref:", StringComparison.Ordinal)) symbolic[name] = content[4..].Trim();
            else if (IsSha(content)) loose[name] = content.ToLowerInvariant();
        }

        var refs = new List<GitRef>(loose.Count + 1024);
        var needsPeel = new List<GitRef>();
        var packedPath = Path.Combine(dirs.CommonDir, "packed-refs");
        var packedPeeled = false;
        var fullyPeeled = false;
        var packedNames = new HashSet<string>(StringComparer.Ordinal);
        if (File.Exists(packedPath))
        {
            // packed-refs of a big repository is larger than BoundedFile's limit; it is read as a stream, once it is known to be a file.
            BoundedFile.RequireRegular(packedPath);
            using var reader = new StreamReader(packedPath, Utf8NoBom, false, 1 << 16);
            string? line;
            string? lastName = null;
            var lastWasLooseOverride = false;
            var shas = new Dictionary<string, string>(StringComparer.Ordinal);
            while ((line = reader.ReadLine()) is not null)
            {
                if (line.Length == 0) continue;
                if (line[0] == '#')
                {
                    if (line.StartsWith("# pack-refs with:", StringComparison.Ordinal))
                    {
                        var traits = line["# pack-refs with:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                        packedPeeled = traits.Contains("peeled");
                        fullyPeeled = traits.Contains("fully-peeled");
                    }
                    continue;
                }
                if (line[0] == '^')
                {
                    // The peeled commit of the annotated tag on the previous line; stale when a loose ref overrides it.
                    if (lastName is not null && !lastWasLooseOverride && IsSha(line.AsSpan(1)))
                        refs.Add(new GitRef(lastName + GitRef.PeeledSuffix, Intern(shas, Lower(line[1..]))));
                    continue;
                }
                var space = line.IndexOf(' ');
                if (space <= 0 || !IsSha(line.AsSpan(0, space))) { lastName = null; continue; }
                var refName = line[(space + 1)..];
                lastName = refName;
                packedNames.Add(refName);
                lastWasLooseOverride = loose.ContainsKey(refName);
                if (lastWasLooseOverride) continue;
                var sha = Intern(shas, Lower(line[..space]));
                var packed = new GitRef(refName, sha);
                refs.Add(packed);
                // Without the traits, packed-refs may lack ^ lines for annotated tags.
                if (!fullyPeeled && !(packedPeeled && refName.StartsWith(PaastaTags.TagsPrefix, StringComparison.Ordinal)))
                    needsPeel.Add(packed);
            }
        }
        foreach (var (name, sha) in loose)
        {
            var r = new GitRef(name, sha);
            refs.Add(r);
            needsPeel.Add(r);
        }

        // Symbolic refs (HEAD, refs/remotes/origin/HEAD) show up resolved, like ls-remote shows them.
        var direct = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var r in refs) if (!r.IsPeeled) direct[r.Name] = r.Sha;
        string? Resolve(string target, int depth) =>
            depth > 5 ? null
            : direct.TryGetValue(target, out var s) ? s
            : symbolic.TryGetValue(target, out var next) ? Resolve(next, depth + 1)
            : null;
        foreach (var (name, target) in symbolic)
            if (Resolve(target, 0) is { } s) refs.Add(new GitRef(name, s));
        var headPath = Path.Combine(dirs.GitDir, "HEAD");
        if (File.Exists(headPath))
        {
            var head = ReadSmallFile(headPath).Trim();
            var headSha = head.StartsWith("ref:", StringComparison.Ordinal) ? Resolve(head[4..].Trim(), 0) : IsSha(head) ? head.ToLowerInvariant() : null;
            if (headSha is not null) refs.Insert(0, new GitRef("HEAD", headSha));
        }

        return new GitRefListing(location, refs, needsPeel.Count == 0 ? null : () => Peel(dirs.GitDir, needsPeel));
    }

    /// <summary>The <c>^{}</c> entries for those of <paramref name="candidates"/> that are annotated tags.</summary>
    private static IReadOnlyList<GitRef> Peel(string gitDir, List<GitRef> candidates)
    {
        var peeled = new List<GitRef>();
        try { PeelInto(gitDir, candidates, peeled); }
        catch (LibGit2SharpException) { /* best effort: without peeled entries, only annotated-tag commits cannot be found by prefix */ }
        return peeled;
    }

    private static void PeelInto(string gitDir, List<GitRef> candidates, List<GitRef> peeled)
    {
        using var repo = new Repository(gitDir);
        var cache = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var r in candidates)
        {
            if (!cache.TryGetValue(r.Sha, out var target))
            {
                target = null;
                if (repo.Lookup(new ObjectId(r.Sha)) is TagAnnotation tag)
                {
                    GitObject current = tag;
                    for (var depth = 0; current is TagAnnotation t && depth < 10; depth++) current = t.Target;
                    target = current.Sha;
                }
                cache[r.Sha] = target;
            }
            if (target is not null) peeled.Add(new GitRef(r.Name + GitRef.PeeledSuffix, target));
        }
    }

    public enum CreateOutcome { Created, NameTaken }

    /// <summary>Creates <paramref name="refName"/> → <paramref name="sha"/> if, and only if, no ref of that name exists.</summary>
    public static CreateOutcome CreateIfAbsent(GitRepositoryLocation location, RepositoryDirs dirs, string refName, string sha)
    {
        using (var repo = new Repository(dirs.GitDir))
        {
            if (!repo.ObjectDatabase.Contains(new ObjectId(sha)))
                throw new PaastaException("CommitNotInRepository", PaastaErrorKind.ObjectNotFound,
                    $"Commit {sha} is not in {location.Url}. Push it there first (tags can only point at commits the repository has).")
                { Target = sha };
        }
        var path = Path.Combine(dirs.CommonDir, refName.Replace('/', Path.DirectorySeparatorChar));
        var folder = Path.GetDirectoryName(path)!;
        try { Directory.CreateDirectory(folder); }
        catch (IOException) { return CreateOutcome.NameTaken; } // a ref is in the way of a folder the name needs
        var lockPath = path + ".lock";
        FileStream? lockStream = null;
        for (var attempt = 0; lockStream is null; attempt++)
        {
            try { lockStream = new FileStream(lockPath, FileMode.CreateNew, FileAccess.Write, FileShare.None); }
            catch (IOException) when (File.Exists(lockPath) || File.Exists(path))
            {
                // Someone is writing this very name, or has just renamed their lock into place.
                return CreateOutcome.NameTaken;
            }
            catch (IOException) when (attempt < 3)
            {
                // The other writer's lock came and went between our attempt and the check: look again.
            }
        }
        var committed = false;
        try
        {
            using (lockStream)
            {
                if (File.Exists(path) || Directory.Exists(path) || PackedRefsContains(dirs.CommonDir, refName))
                    return CreateOutcome.NameTaken;
                lockStream.Write(Utf8NoBom.GetBytes(sha.ToLowerInvariant() + "\n"));
                lockStream.Flush(flushToDisk: true);
            }
            File.Move(lockPath, path, overwrite: false);
            committed = true;
            return CreateOutcome.Created;
        }
        catch (IOException) when (File.Exists(path))
        {
            return CreateOutcome.NameTaken;
        }
        finally
        {
            if (!committed)
            {
                try { File.Delete(lockPath); } catch (IOException) { }
            }
        }
    }

    private static bool PackedRefsContains(string commonDir, string refName)
    {
        var packedPath = Path.Combine(commonDir, "packed-refs");
        if (!File.Exists(packedPath)) return false;
        BoundedFile.RequireRegular(packedPath);
        foreach (var line in File.ReadLines(packedPath))
        {
            if (line.Length < 42 || line[0] == '#' || line[0] == '^') continue;
            var space = line.IndexOf(' ');
            if (space > 0 && line.AsSpan(space + 1).SequenceEqual(refName)) return true;
        }
        return false;
    }

    // Loose refs, HEAD and the gitdir/commondir pointers are a line each; a FIFO or a device there is refused (not waited on).
    private const long SmallFileLimit = 64 * 1024;

    private static string ReadSmallFile(string path) => BoundedFile.ReadAllText(path, SmallFileLimit);

    /// <summary>A loose ref's content, trimmed; null when the file has gone (packed meanwhile).</summary>
    private static string? ReadRefFile(string path)
    {
        try { return ReadSmallFile(path).Trim(); }
        catch (PaastaException e) when (e.ErrorId == "FileNotFound") { return null; }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
    }

    private static string Intern(Dictionary<string, string> pool, string sha)
    {
        if (pool.TryGetValue(sha, out var existing)) return existing;
        pool[sha] = sha;
        return sha;
    }

    /// <summary>git writes lower-case hex; only other writers' upper case costs an allocation.</summary>
    private static string Lower(string sha)
    {
        foreach (var c in sha)
            if (c is >= 'A' and <= 'F') return sha.ToLowerInvariant();
        return sha;
    }

    internal static bool IsSha(ReadOnlySpan<char> text)
    {
        if (text.Length != 40 && text.Length != 64) return false;
        foreach (var c in text)
            if (!char.IsAsciiHexDigit(c)) return false;
        return true;
    }
}
