using LibGit2Sharp;
using Paasta.Errors;

namespace Paasta.Git;

/// <summary>The git checkout a service's code is built from (for image tags and PAASTA_GIT_SHA of local builds).</summary>
public static class LocalCheckout
{
    /// <summary>The sha HEAD points at when <paramref name="directory"/> is inside a git work tree; null otherwise.</summary>
    public static string? HeadSha(string directory)
    {
        try
        {
            var gitDir = Repository.Discover(directory);
            if (gitDir is null) return null;
            using var repo = new Repository(gitDir);
            return repo.Head?.Tip?.Sha;
        }
        catch (LibGit2SharpException) { return null; }
    }

    /// <summary>
    /// A full sha for -Commit: a 40-hex sha as is; anything else (a short sha, HEAD, a branch or tag) resolved in the
    /// checkout at <paramref name="directory"/>.
    /// </summary>
    public static string ResolveCommit(string commit, string directory)
    {
        var wanted = commit.Trim();
        if (CommitResolver.IsFullSha(wanted)) return wanted.ToLowerInvariant();
        string? gitDir = null;
        try { gitDir = Repository.Discover(directory); }
        catch (LibGit2SharpException) { }
        if (gitDir is null)
            throw new PaastaException("InvalidCommit", PaastaErrorKind.InvalidArgument,
                $"'{commit}' is not a full 40-character sha, and {directory} is not a git checkout to resolve it in. Give the full sha, or -Path of the service's checkout.")
            { Target = commit };
        try
        {
            using var repo = new Repository(gitDir);
            var found = repo.Lookup<Commit>(wanted);
            return found?.Sha ?? throw new PaastaException("CommitNotFound", PaastaErrorKind.ObjectNotFound,
                $"'{commit}' names no commit in {Path.GetDirectoryName(gitDir.TrimEnd('/', '\\'))}.")
            { Target = commit };
        }
        catch (AmbiguousSpecificationException e)
        {
            throw new PaastaException("CommitAmbiguous", PaastaErrorKind.InvalidArgument,
                $"'{commit}' matches several commits; give more characters of the sha.", e)
            { Target = commit };
        }
    }
}
