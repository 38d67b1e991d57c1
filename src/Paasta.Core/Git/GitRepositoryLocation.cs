using Paasta.Config;
using Paasta.Errors;

namespace Paasta.Git;

/// <summary>
/// Where a service's git repository lives: a URL (ssh, scp-like <c>user@host:path</c>, https, git) or a
/// repository on this machine (a path or a <c>file://</c> URL). Local repositories are read and written
/// directly through their ref database; everything else goes over the git protocol.
/// </summary>
public sealed class GitRepositoryLocation
{
    private readonly string _written;

    private GitRepositoryLocation(string url, string? localPath)
    {
        _written = url;
        Url = Redaction.Apply(url)!;
        LocalPath = localPath;
    }

    /// <summary>
    /// The URL or path as written (service.yaml git_url or -Repository), with any password or token in it masked:
    /// the form every message, progress record and result shows (docs/RELIABILITY.md, "Secrets").
    /// </summary>
    public string Url { get; }

    /// <summary>The absolute path of a local repository; null for network remotes.</summary>
    public string? LocalPath { get; }

    public bool IsLocal => LocalPath is not null;

    /// <summary>What libgit2 is given: the path for local repositories, the URL as written otherwise. Never shown.</summary>
    public string TransportUrl => LocalPath ?? _written;

    public override string ToString() => Url;

    /// <summary>
    /// Classifies <paramref name="urlOrPath"/> as git does: <c>file://</c> and plain paths are local,
    /// <c>scheme://</c> is remote, and <c>[user@]host:path</c> (a colon before any slash) is ssh.
    /// Relative paths are resolved against <paramref name="baseDirectory"/> (else the process's current directory).
    /// </summary>
    public static GitRepositoryLocation Parse(string urlOrPath, string? baseDirectory = null)
    {
        if (string.IsNullOrWhiteSpace(urlOrPath))
            throw new PaastaException("GitRepositoryInvalid", PaastaErrorKind.InvalidArgument,
                "The git repository URL or path is empty.") { Target = urlOrPath };
        if (urlOrPath.Any(char.IsControl))
            throw new PaastaException("GitRepositoryInvalid", PaastaErrorKind.InvalidArgument,
                $"The git repository URL or path '{Printable(Redaction.Apply(urlOrPath)!)}' contains a control character (NUL, newline…), which no URL or path can hold.")
            { Target = Redaction.Apply(urlOrPath) };
        var text = urlOrPath.Trim();
        if (text.StartsWith("file://", StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || !uri.IsFile)
                throw new PaastaException("GitRepositoryInvalid", PaastaErrorKind.InvalidArgument,
                    $"'{urlOrPath}' is not a valid file:// URL.") { Target = urlOrPath };
            return new GitRepositoryLocation(text, Path.GetFullPath(uri.LocalPath));
        }
        if (text.Contains("://", StringComparison.Ordinal) || IsScpLike(text))
            return new GitRepositoryLocation(text, null);
        // "~/x.git" means the home folder, as it does in a shell (PowerShell passes the text unexpanded).
        if (text == "~" || text.StartsWith("~/", StringComparison.Ordinal) || (OperatingSystem.IsWindows() && text.StartsWith("~\\", StringComparison.Ordinal)))
            text = Path.Join(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), text[1..].TrimStart('/', '\\'));
        var path = Path.IsPathRooted(text) ? text : Path.Combine(baseDirectory ?? Directory.GetCurrentDirectory(), text);
        return new GitRepositoryLocation(urlOrPath.Trim(), Path.GetFullPath(path));
    }

    private static string Printable(string text) =>
        string.Concat(text.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));

    /// <summary>True when <paramref name="urlOrPath"/> names a path on this machine (not a URL, not scp-like; file:// URLs are not paths).</summary>
    public static bool IsPath(string urlOrPath) =>
        !urlOrPath.Contains("://", StringComparison.Ordinal) && !IsScpLike(urlOrPath.Trim());

    /// <summary>scp-like syntax: a ':' before the first '/', that is not a Windows drive letter.</summary>
    private static bool IsScpLike(string text)
    {
        var colon = text.IndexOf(':');
        if (colon <= 0) return false;
        var slash = text.IndexOfAny(new[] { '/', '\\' });
        if (slash >= 0 && slash < colon) return false;
        if (colon == 1 && char.IsAsciiLetter(text[0]) && OperatingSystem.IsWindows()) return false;
        return true;
    }

    /// <summary>
    /// The repository of <paramref name="service"/>: <paramref name="repositoryOverride"/> when given, else
    /// service.yaml's git_url. Returns null when service.yaml says <c>git_url: null</c> (no repository, so no
    /// deployments). Paasta has no default URL: an absent git_url is an error naming the fix.
    /// </summary>
    public static GitRepositoryLocation? ForService(ServiceConfig service, string? repositoryOverride, string? baseDirectory = null)
    {
        if (!string.IsNullOrWhiteSpace(repositoryOverride)) return Parse(repositoryOverride, baseDirectory);
        if (service.GitUrlExplicitlyNull) return null;
        if (string.IsNullOrWhiteSpace(service.GitUrl))
            throw new PaastaException("GitRepositoryNotConfigured", PaastaErrorKind.InvalidOperation,
                $"Service '{service.Name}' has no git_url in {Path.Combine(service.Directory, "service.yaml")}, and Paasta has no default. " +
                "Set git_url to the service's repository (URL or path) or pass -Repository.")
            {
                Target = service.Name,
                File = Path.Combine(service.Directory, "service.yaml"),
                Key = "git_url",
            };
        try { return Parse(service.GitUrl!, baseDirectory); }
        catch (PaastaException e) when (e.ErrorId == "GitRepositoryInvalid")
        {
            throw new PaastaException("GitRepositoryInvalid", PaastaErrorKind.InvalidArgument, $"{e.Message} Fix git_url in {Path.Combine(service.Directory, "service.yaml")}.", e)
            {
                Target = service.Name,
                File = Path.Combine(service.Directory, "service.yaml"),
                Key = "git_url",
            };
        }
    }

    /// <summary>Like <see cref="ForService"/>, but a repository is required (writing tags needs one).</summary>
    public static GitRepositoryLocation RequireForService(ServiceConfig service, string? repositoryOverride, string? baseDirectory = null) =>
        ForService(service, repositoryOverride, baseDirectory)
        ?? throw new PaastaException("GitRepositoryNotConfigured", PaastaErrorKind.InvalidOperation,
            $"Service '{service.Name}' says git_url: null (no repository), so it has no deploy tags to read or write. Pass -Repository to name one.")
        {
            Target = service.Name,
            File = Path.Combine(service.Directory, "service.yaml"),
            Key = "git_url",
        };
}
