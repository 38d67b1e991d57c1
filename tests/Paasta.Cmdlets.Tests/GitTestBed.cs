using System.Diagnostics;

namespace Paasta.Cmdlets.Tests;

/// <summary>A bare "remote" with commits, and soa-configs for service 'svc' whose git_url is that remote.</summary>
public sealed class GitTestBed : IDisposable
{
    public GitTestBed()
    {
        Root = Directory.CreateTempSubdirectory("paasta-cmdlet-git-").FullName;
        Remote = Path.Combine(Root, "remote.git");
        Work = Path.Combine(Root, "work");
        Soa = Path.Combine(Root, "soa");
        Git(Root, "init", "-q", "--bare", "-b", "main", Remote);
        Git(Root, "init", "-q", "-b", "main", Work);
        Write("svc/service.yaml", $"description: test\nexternal_link: http://example\ngit_url: {Remote}\n");
        Write("svc/deploy.yaml", "pipeline:\n- step: prod.main\n- step: prod.canary\n");
        Write("svc/kubernetes-c1.yaml",
            "main:\n  deploy_group: prod.main\nmain2:\n  deploy_group: prod.main\nmain3:\n  deploy_group: prod.main\ncanary:\n  deploy_group: prod.canary\n");
    }

    public string Root { get; }
    public string Remote { get; }
    public string Work { get; }
    public string Soa { get; }
    public string DeploymentsJson => Path.Combine(Soa, "svc", "deployments.json");

    public void Write(string relativePath, string content)
    {
        var path = Path.Combine(Soa, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    public string Commit(string message = "change")
    {
        File.WriteAllText(Path.Combine(Work, "file.txt"), message + Guid.NewGuid());
        Git(Work, "add", "file.txt");
        Git(Work, "-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-q", "-m", message);
        Git(Work, "push", "-q", Remote, "HEAD:refs/heads/main");
        return Git(Work, "rev-parse", "HEAD").Trim();
    }

    /// <summary>The remote's tags whose names end with <paramref name="suffix"/>.</summary>
    public List<string> Tags(string suffix) =>
        Git(Root, "ls-remote", "--tags", Remote).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('\t')[1]).Where(n => n.EndsWith(suffix, StringComparison.Ordinal)).ToList();

    public static string Git(string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
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

    /// <summary>Serves <see cref="Root"/> over git:// (pushes allowed) until disposed; null when git-daemon is not installed.</summary>
    public IDisposable? ServeGitProtocol(out int port)
    {
        port = 0;
        if (!File.Exists(Path.Combine(Git(Root, "--exec-path").Trim(), "git-daemon"))) return null;
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var start = new ProcessStartInfo("git") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "daemon", "--reuseaddr", "--export-all", "--enable=receive-pack", $"--base-path={Root}", $"--port={port}", "--listen=127.0.0.1", Root })
            start.ArgumentList.Add(a);
        var daemon = Process.Start(start)!;
        daemon.ErrorDataReceived += (_, _) => { };
        daemon.BeginErrorReadLine();
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                probe.Connect(System.Net.IPAddress.Loopback, port);
                return new Stopper(daemon);
            }
            catch (System.Net.Sockets.SocketException) { Thread.Sleep(50); }
        }
        daemon.Kill(entireProcessTree: true);
        return null;
    }

    private sealed class Stopper(Process process) : IDisposable
    {
        public void Dispose()
        {
            try { process.Kill(entireProcessTree: true); process.WaitForExit(5000); } catch (InvalidOperationException) { }
            process.Dispose();
        }
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
