using System.Diagnostics;
using LibGit2Sharp;
using LibGit2Sharp.Handlers;
using Paasta.Errors;

namespace Paasta.Git;

/// <summary>A user name and password (or token) for an https remote.</summary>
public sealed record GitCredential(string Username, string Password)
{
    public override string ToString() => $"GitCredential({Username}, ***)";
}

/// <summary>Supplies credentials for <paramref name="url"/>; return null to let the next source try.</summary>
public delegate GitCredential? GitCredentialProvider(string url, string? usernameFromUrl);

/// <summary>
/// Where Paasta gets credentials when a remote asks for them. ssh remotes (<c>ssh://</c> and
/// <c>user@host:path</c>) never come here: libgit2 runs the system's OpenSSH client, which uses the user's
/// ssh agent, keys and ~/.ssh/config. For https remotes the sources are tried in this order, each once:
/// <list type="number">
///   <item>the credential the caller passed (the cmdlets' -Credential);</item>
///   <item><see cref="Provider"/>, a hook a host application sets (for example to read a vault);</item>
///   <item>the environment variables <c>PAASTA_GIT_USERNAME</c> and <c>PAASTA_GIT_PASSWORD</c> (a token works as password);</item>
///   <item>the user's git credential helpers, through <c>git credential fill</c> (with prompting disabled);</item>
///   <item>the platform's default credentials (Negotiate/NTLM), which only some servers accept.</item>
/// </list>
/// </summary>
public static class GitCredentials
{
    public const string UsernameVariable = "PAASTA_GIT_USERNAME";
    public const string PasswordVariable = "PAASTA_GIT_PASSWORD";

    /// <summary>The host's credential hook; null by default. Called on the thread doing the git operation.</summary>
    public static GitCredentialProvider? Provider { get; set; }

    /// <summary>
    /// A fresh credential session for one operation: every source is offered at most once, so a wrong password
    /// fails instead of looping. The callback never throws (an exception must not cross libgit2's native frames);
    /// once every source has been refused it answers with an empty credential and sets <see cref="CredentialSession.Exhausted"/>.
    /// </summary>
    internal static CredentialSession Session(GitCredential? explicitCredential) => new(explicitCredential);

    internal sealed class CredentialSession
    {
        private readonly GitCredential? _explicit;
        private int _attempt;

        public CredentialSession(GitCredential? explicitCredential)
        {
            _explicit = explicitCredential;
            Handler = Next;
        }

        public CredentialsHandler Handler { get; }

        /// <summary>True when the remote asked again after every source was used: the failure is authentication.</summary>
        public bool Exhausted { get; private set; }

        public PaastaException AuthenticationFailed(string url, Exception? inner = null) =>
            new("GitAuthenticationFailed", PaastaErrorKind.SecurityError,
                $"{url} refused every credential Paasta could find. Pass -Credential, set {UsernameVariable}/{PasswordVariable}, " +
                "or configure a git credential helper (git config credential.helper).", inner) { Target = url };

        private Credentials Next(string url, string usernameFromUrl, SupportedCredentialTypes types)
        {
            try
            {
                while (true)
                {
                    switch (_attempt++)
                    {
                        case 0:
                            if (_explicit is not null) return ToLibGit2(_explicit);
                            break;
                        case 1:
                            GitCredential? provided = null;
                            try { provided = Provider?.Invoke(url, usernameFromUrl); }
                            catch (Exception) { /* a faulty hook counts as "no credential" */ }
                            if (provided is not null) return ToLibGit2(provided);
                            break;
                        case 2:
                            if (Environment.GetEnvironmentVariable(UsernameVariable) is { Length: > 0 } user
                                && Environment.GetEnvironmentVariable(PasswordVariable) is { Length: > 0 } password)
                                return ToLibGit2(new GitCredential(user, password));
                            break;
                        case 3:
                            if (FromGitCredentialHelper(url, usernameFromUrl) is { } helper) return ToLibGit2(helper);
                            break;
                        case 4:
                            if (types.HasFlag(SupportedCredentialTypes.Default)) return new DefaultCredentials();
                            break;
                        default:
                            Exhausted = true;
                            return new UsernamePasswordCredentials { Username = usernameFromUrl ?? "", Password = "" };
                    }
                }
            }
            catch (Exception)
            {
                // Never let an exception unwind through libgit2's native frames.
                Exhausted = true;
                return new UsernamePasswordCredentials { Username = usernameFromUrl ?? "", Password = "" };
            }
        }
    }

    private static Credentials ToLibGit2(GitCredential c) => new UsernamePasswordCredentials { Username = c.Username, Password = c.Password };

    /// <summary>Asks the user's configured git credential helpers, never prompting. Null when git is absent or has nothing.</summary>
    internal static GitCredential? FromGitCredentialHelper(string url, string? usernameFromUrl)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            return null;
        try
        {
            var start = new ProcessStartInfo("git", "credential fill")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.Environment["GIT_TERMINAL_PROMPT"] = "0";
            start.Environment["GIT_ASKPASS"] = "";
            start.Environment["SSH_ASKPASS"] = "";
            using var process = Process.Start(start);
            if (process is null) return null;
            var request = $"protocol={uri.Scheme}\nhost={uri.Authority}\npath={uri.AbsolutePath.TrimStart('/')}\n";
            if (!string.IsNullOrEmpty(usernameFromUrl)) request += $"username={usernameFromUrl}\n";
            process.StandardInput.Write(request + "\n");
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(10_000))
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                return null;
            }
            if (process.ExitCode != 0) return null;
            string? user = null, password = null;
            foreach (var line in output.Result.Split('\n'))
            {
                if (line.StartsWith("username=", StringComparison.Ordinal)) user = line["username=".Length..].TrimEnd('\r');
                else if (line.StartsWith("password=", StringComparison.Ordinal)) password = line["password=".Length..].TrimEnd('\r');
            }
            return user is not null && password is not null ? new GitCredential(user, password) : null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
        {
            return null;
        }
    }
}
