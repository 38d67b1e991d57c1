using Paasta.Errors;

namespace Paasta.Git;

/// <summary>
/// Turns what a user typed for -Commit into a full sha (docs/BEHAVIOUR.md §2.6 step 1): a full 40-hex sha is taken as
/// is; a 4–39 character prefix must match the sha of exactly one commit among the remote's refs
/// (peeled annotated tags included).
/// </summary>
public static class CommitResolver
{
    public static bool IsFullSha(string commit) => commit.Length == 40 && commit.All(char.IsAsciiHexDigit);

    public static string Resolve(GitRefListing refs, string commit)
    {
        var wanted = (commit ?? "").Trim().ToLowerInvariant();
        if (wanted.Length is < 4 or > 40 || !wanted.All(char.IsAsciiHexDigit))
            throw new PaastaException("InvalidCommit", PaastaErrorKind.InvalidArgument,
                $"'{commit}' is not a commit: give a full sha or at least its first 4 hex digits.") { Target = commit };
        if (wanted.Length == 40) return wanted;

        var matches = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var r in refs.RefsWithPeeled())
        {
            if (!r.Sha.StartsWith(wanted, StringComparison.OrdinalIgnoreCase)) continue;
            var sha = r.Sha.ToLowerInvariant();
            if (!matches.TryGetValue(sha, out var names)) matches[sha] = names = new List<string>();
            names.Add(r.Name);
        }
        // Two refs of one annotated tag (the tag object and its ^{} commit) have different shas; both are candidates, as in PaaSTA.
        return matches.Count switch
        {
            1 => matches.Keys.Single(),
            0 => throw new PaastaException("CommitNotFound", PaastaErrorKind.ObjectNotFound,
                $"No ref on {refs.Location.Url} points at a commit starting with '{wanted}'. Push the commit (a branch or tag) first, or give the full 40-character sha.")
            { Target = commit },
            _ => throw new PaastaException("CommitAmbiguous", PaastaErrorKind.InvalidArgument,
                $"'{wanted}' matches {matches.Count} commits on {refs.Location.Url}: " +
                string.Join("; ", matches.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => $"{m.Key} ({string.Join(", ", m.Value.Take(3))}{(m.Value.Count > 3 ? ", …" : "")})")) +
                ". Give more characters of the sha.")
            { Target = commit },
        };
    }
}
