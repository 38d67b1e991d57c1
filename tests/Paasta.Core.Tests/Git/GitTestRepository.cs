using System.Diagnostics;
using Paasta.Git;

namespace Paasta.Tests.Git;

/// <summary>
/// A real bare "remote" and a working clone, made with the git CLI in a temp folder, so tests cross-check
/// Paasta against git itself.
/// </summary>
public sealed class GitTestRepository : IDisposable
{
    public GitTestRepository()
    {
        Root = Directory.CreateTempSubdirectory("paasta-gittest-").FullName;
        Remote = Path.Combine(Root, "remote.git");
        Work = Path.Combine(Root, "work");
        Git(Root, "init", "-q", "--bare", "-b", "main", Remote);
        Git(Root, "init", "-q", "-b", "main", Work);
    }

    public string Root { get; }
    public string Remote { get; }
    public string Work { get; }
    public GitRepositoryLocation Location => GitRepositoryLocation.Parse(Remote);

    /// <summary>Commits a change in the clone and pushes main; returns the commit's sha.</summary>
    public string Commit(string message = "change")
    {
        File.WriteAllText(Path.Combine(Work, "file.txt"), message + Guid.NewGuid());
        Git(Work, "add", "file.txt");
        Git(Work, "-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-q", "-m", message);
        Git(Work, "push", "-q", Remote, "HEAD:refs/heads/main");
        return Git(Work, "rev-parse", "HEAD").Trim();
    }

    /// <summary>Tags <paramref name="sha"/> in the clone with the git CLI and pushes the tag.</summary>
    public void TagWithGit(string tagName, string sha, bool annotated = false)
    {
        if (annotated) Git(Work, "-c", "user.name=test", "-c", "user.email=test@example.com", "tag", "-a", "-m", "annotated", tagName, sha);
        else Git(Work, "tag", tagName, sha);
        Git(Work, "push", "-q", Remote, $"refs/tags/{tagName}:refs/tags/{tagName}");
    }

    /// <summary><c>git ls-remote</c> of the remote, as name → sha.</summary>
    public Dictionary<string, string> LsRemote(string? url = null)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in Git(Root, "ls-remote", url ?? Remote).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split('\t');
            map[parts[1]] = parts[0];
        }
        return map;
    }

    public static string Git(string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo("git")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        start.Environment["GIT_TERMINAL_PROMPT"] = "0";
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"git {string.Join(' ', args)} failed ({p.ExitCode}): {stderr.Result}");
        return stdout.Result;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>A throwaway soa-configs folder.</summary>
public sealed class SoaConfigsFolder : IDisposable
{
    public SoaConfigsFolder()
    {
        Root = Directory.CreateTempSubdirectory("paasta-soa-").FullName;
    }

    public string Root { get; }

    public string Write(string service, string file, string content)
    {
        var dir = Directory.CreateDirectory(Path.Combine(Root, service)).FullName;
        var path = Path.Combine(dir, file);
        File.WriteAllText(path, content);
        return path;
    }

    public string DeploymentsPath(string service) => Path.Combine(Root, service, "deployments.json");

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
