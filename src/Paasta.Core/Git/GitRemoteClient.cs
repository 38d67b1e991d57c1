using System.Runtime.ExceptionServices;
using LibGit2Sharp;
using Paasta.Errors;

namespace Paasta.Git;

/// <summary>How <see cref="GitRemoteClient"/> talks to remotes.</summary>
public sealed record GitClientOptions
{
    /// <summary>Credential for https remotes (see <see cref="GitCredentials"/> for the other sources).</summary>
    public GitCredential? Credential { get; init; }

    /// <summary>How long one remote operation may take (docs/BEHAVIOUR.md §2.4: 60 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>History fetched into the throwaway repository when pushing a tag: 1 commit is all a tag needs.</summary>
    public int FetchDepth { get; init; } = 1;

    /// <summary>
    /// Write to repositories on this machine by pushing, as to a network remote, instead of through their
    /// ref store. Off by default; tests turn it on to exercise the push path without a server.
    /// </summary>
    public bool PushToLocalRepositories { get; init; }
}

/// <summary>What happened to a ref creation.</summary>
public enum RefCreation
{
    Created,
    /// <summary>A ref of that name already exists (or was being written by someone else); nothing was changed.</summary>
    NameTaken,
}

/// <summary>
/// Lists a repository's refs without cloning it, and creates single refs on it. Only ever <em>creates</em>
/// refs: no operation here moves or deletes an existing ref, whatever the caller's force flag says.
/// </summary>
public sealed class GitRemoteClient
{
    public GitRemoteClient(GitClientOptions? options = null) => Options = options ?? new GitClientOptions();

    public GitClientOptions Options { get; }

    /// <summary>The refs of <paramref name="location"/>, as <c>git ls-remote</c> lists them.</summary>
    public GitRefListing ListRefs(GitRepositoryLocation location, CancellationToken cancellation = default)
    {
        try { return ListRefsCore(location, cancellation); }
        catch (LibGit2SharpException e) { throw Failed(location, "list the refs of", e); }
    }

    private GitRefListing ListRefsCore(GitRepositoryLocation location, CancellationToken cancellation)
    {
        if (location.IsLocal)
        {
            var dirs = LocalRefStore.Locate(location);
            if (!dirs.UsesReftable)
            {
                try { return LocalRefStore.Read(location, dirs, cancellation); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new PaastaException("GitRemoteUnreachable", PaastaErrorKind.ConnectionError,
                        $"Unable to fetch remote refs from {location.Url}: {Redaction.Apply(e.Message)}", e) { Target = location.Url };
                }
            }
        }
        var session = GitCredentials.Session(Options.Credential);
        try
        {
            var refs = WithTimeout(() =>
                Repository.ListRemoteReferences(location.TransportUrl, session.Handler)
                    .Select(r => (r.CanonicalName, Sha: r is DirectReference ? r.TargetIdentifier : r.ResolveToDirectReference()?.TargetIdentifier))
                    .Where(r => r.Sha is not null)
                    .Select(r => new GitRef(r.CanonicalName, r.Sha!))
                    .ToList(),
                location, "list the refs of", cancellation);
            return new GitRefListing(location, refs);
        }
        catch (LibGit2SharpException e)
        {
            throw session.Exhausted
                ? session.AuthenticationFailed(location.Url, e)
                : new PaastaException("GitRemoteUnreachable", PaastaErrorKind.ConnectionError,
                    $"Unable to fetch remote refs from {location.Url}: {Redaction.Apply(e.Message)}", e) { Target = location.Url };
        }
    }

    /// <summary>
    /// Creates the lightweight tag <paramref name="refName"/> → <paramref name="sha"/> on the remote when no
    /// ref of that name exists, and reports <see cref="RefCreation.NameTaken"/> (changing nothing) when one does.
    /// </summary>
    /// <param name="force">
    /// PaaSTA pushes deploy and rollback tags in force mode. The push refspec carries the flag, but it never
    /// takes effect: Paasta only sends "create" updates, which the server refuses for an existing name.
    /// </param>
    /// <param name="knownRefs">A recent listing: used to find a remote ref to fetch the commit through.</param>
    /// <param name="sourceRef">A remote ref known to point at <paramref name="sha"/> (e.g. the deploy tag), fetched in preference.</param>
    public RefCreation CreateRef(GitRepositoryLocation location, string refName, string sha, bool force = false,
        GitRefListing? knownRefs = null, string? sourceRef = null, CancellationToken cancellation = default)
    {
        try { return CreateRefCore(location, refName, sha, force, knownRefs, sourceRef, cancellation); }
        catch (LibGit2SharpException e) { throw Failed(location, $"write {refName} to", e); }
    }

    /// <summary>The engine's callers never see LibGit2Sharp types (the cmdlets cannot even load them).</summary>
    private static PaastaException Failed(GitRepositoryLocation location, string what, LibGit2SharpException e) =>
        e is RepositoryNotFoundException
            ? new PaastaException("GitRepositoryNotFound", PaastaErrorKind.ObjectNotFound, $"{location.Url} is not a git repository: {Redaction.Apply(e.Message)}", e) { Target = location.Url }
            : new PaastaException("GitOperationFailed", PaastaErrorKind.WriteError, $"Could not {what} {location.Url}: {Redaction.Apply(e.Message)}", e) { Target = location.Url };

    private RefCreation CreateRefCore(GitRepositoryLocation location, string refName, string sha, bool force,
        GitRefListing? knownRefs, string? sourceRef, CancellationToken cancellation)
    {
        if (!Reference.IsValidName(refName) || !refName.StartsWith(PaastaTags.TagsPrefix, StringComparison.Ordinal))
            throw new PaastaException("InvalidTagName", PaastaErrorKind.InvalidArgument,
                $"'{refName}' is not a valid tag name (check the deploy group, cluster and instance names for spaces, '..', '~', '^', ':', '?', '*', '[' or '\\').")
            { Target = refName };
        if (!LocalRefStore.IsSha(sha))
            throw new PaastaException("InvalidCommit", PaastaErrorKind.InvalidArgument, $"'{sha}' is not a full commit sha.") { Target = sha };
        sha = sha.ToLowerInvariant();
        cancellation.ThrowIfCancellationRequested();

        if (location.IsLocal && !Options.PushToLocalRepositories)
        {
            var dirs = LocalRefStore.Locate(location);
            if (dirs.UsesReftable)
                throw new PaastaException("GitRefStorageUnsupported", PaastaErrorKind.InvalidOperation,
                    $"{location.Url} stores its refs in a reftable, which Paasta cannot write yet. Use a URL (ssh/https) for it instead.")
                { Target = location.Url };
            try
            {
                return LocalRefStore.CreateIfAbsent(location, dirs, refName, sha) == LocalRefStore.CreateOutcome.Created
                    ? RefCreation.Created : RefCreation.NameTaken;
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                throw new PaastaException("GitTagWriteFailed", PaastaErrorKind.WriteError,
                    $"Cannot write {refName} in {location.Url}: {Redaction.Apply(e.Message)}", e) { Target = refName };
            }
        }
        return WithTimeout(() => Push(location, refName, sha, force, knownRefs, sourceRef), location, "push a tag to", cancellation);
    }

    /// <summary>
    /// Pushes one new tag without a clone of the repository.
    /// <para>
    /// A push needs the target commit in the pushing repository (libgit2 resolves the refspec's source
    /// locally). So: make a throwaway bare repository in a temp folder, fetch <em>only</em> a remote ref that
    /// points at the commit (depth 1 over the network: one commit, its tree and blobs), create the tag there,
    /// and push <c>refs/tags/X:refs/tags/X</c>. The remote already has every object the tag needs (the fetched
    /// ref's tip is among the remote heads libgit2 hides from the pack), so the pack is empty: only the ref
    /// update travels.
    /// </para>
    /// <para>
    /// Why this is safe: the update is a <em>create</em> (old value 0000…), and before anything is sent the
    /// negotiation callback checks, against the refs the remote advertised on this very connection, that the
    /// name does not exist; if it does, the push is cancelled and the caller picks a fresh timestamp. The
    /// server then applies the update only if the ref still does not exist (git receive-pack compares the
    /// old value under the ref's lock), so a writer who took the name in between makes our push fail, never
    /// move their tag. With no existing ref, force and non-force pushes are the same update.
    /// </para>
    /// </summary>
    private RefCreation Push(GitRepositoryLocation location, string refName, string sha, bool force, GitRefListing? knownRefs, string? sourceRef)
    {
        var temp = Directory.CreateTempSubdirectory("paasta-git-").FullName;
        var session = GitCredentials.Session(Options.Credential);
        try
        {
            Repository.Init(temp, isBare: true);
            using var repo = new Repository(temp);
            var remote = repo.Network.Remotes.Add("origin", location.TransportUrl);

            var source = sourceRef ?? FindSourceRef(knownRefs, sha);
            // A commit no ref points at can still be fetched by id from servers that allow it (uploadpack.allowReachableSHA1InWant; GitHub does).
            var fetchSpec = $"+{source ?? sha}:refs/paasta/fetched";
            var fetch = new FetchOptions
            {
                CredentialsProvider = session.Handler,
                TagFetchMode = TagFetchMode.None,
                // libgit2's local transport cannot do shallow fetches; the network ones can.
                Depth = location.IsLocal ? 0 : Math.Max(0, Options.FetchDepth),
            };
            try { Commands.Fetch(repo, remote.Name, new[] { fetchSpec }, fetch, null); }
            catch (LibGit2SharpException e)
            {
                if (session.Exhausted) throw session.AuthenticationFailed(location.Url, e);
                throw source is null
                    ? new PaastaException("CommitNotOnRemote", PaastaErrorKind.ObjectNotFound,
                        $"Commit {sha} is not the tip of any ref on {location.Url}, and the server would not send it by id ({Redaction.Apply(e.Message)}). Push the commit (a branch or tag) first.", e) { Target = sha }
                    : new PaastaException("GitRemoteUnreachable", PaastaErrorKind.ConnectionError,
                        $"Unable to fetch {source} from {location.Url}: {Redaction.Apply(e.Message)}", e) { Target = location.Url };
            }
            var oid = new ObjectId(sha);
            if (!repo.ObjectDatabase.Contains(oid))
                throw new PaastaException("CommitNotOnRemote", PaastaErrorKind.ObjectNotFound,
                    $"Commit {sha} is not on {location.Url}. Push the commit first.") { Target = sha };
            repo.Refs.Add(refName, oid);

            var nameExists = false;
            string? rejection = null;
            var push = new PushOptions
            {
                CredentialsProvider = session.Handler,
                OnNegotiationCompletedBeforePush = updates =>
                {
                    foreach (var u in updates)
                        if (u.SourceObjectId is not null && u.SourceObjectId != ObjectId.Zero) nameExists = true;
                    return !nameExists;
                },
                OnPushStatusError = e => rejection = $"{e.Reference}: {Redaction.Apply(e.Message)}",
            };
            try { repo.Network.Push(remote, $"{(force ? "+" : "")}{refName}:{refName}", push); }
            catch (LibGit2SharpException) when (nameExists) { return RefCreation.NameTaken; }
            catch (LibGit2SharpException e)
            {
                if (session.Exhausted) throw session.AuthenticationFailed(location.Url, e);
                // libgit2's local transport reports "already exists" as a failed push rather than a rejected ref.
                if (e is NameConflictException || e.Message.Contains("already exists", StringComparison.OrdinalIgnoreCase)) return RefCreation.NameTaken;
                throw new PaastaException("GitTagWriteFailed", PaastaErrorKind.WriteError,
                    $"Pushing {refName} to {location.Url} failed: {Redaction.Apply(e.Message)}", e) { Target = refName };
            }
            if (rejection is not null)
            {
                // Rejected updates are usually "the name exists now" (someone raced us); anything else is a real refusal (hooks, permissions).
                var now = ListRefs(location);
                if (now.Contains(refName)) return RefCreation.NameTaken;
                throw new PaastaException("GitTagRejected", PaastaErrorKind.WriteError,
                    $"{location.Url} refused {refName}: {rejection}") { Target = refName };
            }
            return RefCreation.Created;
        }
        finally
        {
            DeleteDirectory(temp);
        }
    }

    /// <summary>A remote ref whose tip is <paramref name="sha"/> (an annotated tag for a <c>^{}</c> entry), branches first.</summary>
    private static string? FindSourceRef(GitRefListing? refs, string sha)
    {
        if (refs is null) return null;
        string? best = null;
        var bestRank = int.MaxValue;
        foreach (var r in refs.RefsWithPeeled())
        {
            if (!string.Equals(r.Sha, sha, StringComparison.OrdinalIgnoreCase) || r.Name == "HEAD") continue;
            var name = r.IsPeeled ? r.Name[..^GitRef.PeeledSuffix.Length] : r.Name;
            var rank = name.StartsWith("refs/heads/", StringComparison.Ordinal) ? 0 : name.StartsWith(PaastaTags.TagsPrefix, StringComparison.Ordinal) ? 1 : 2;
            if (rank < bestRank) { best = name; bestRank = rank; }
        }
        return best;
    }

    private T WithTimeout<T>(Func<T> work, GitRepositoryLocation location, string what, CancellationToken cancellation)
    {
        // libgit2 calls cannot be cancelled; past the timeout (or Ctrl+C) the call is abandoned and finishes on its own.
        var task = Task.Run(work, CancellationToken.None);
        try
        {
            if (!task.Wait((int)Math.Min(int.MaxValue, Options.Timeout.TotalMilliseconds), cancellation))
                throw new PaastaException("GitRemoteTimeout", PaastaErrorKind.OperationTimeout,
                    $"Timed out after {Options.Timeout.TotalSeconds:0} s trying to {what} {location.Url}.") { Target = location.Url };
        }
        catch (AggregateException e) when (e.InnerExceptions.Count == 1)
        {
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        return task.Result;
    }

    private static void DeleteDirectory(string path)
    {
        try
        {
            foreach (var file in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories))
                File.SetAttributes(file, FileAttributes.Normal);
            Directory.Delete(path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover temp folder is harmless; the OS cleans temp.
        }
    }
}
