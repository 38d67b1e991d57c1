using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace Paasta.Cmdlets.Tests;

/// <summary>
/// A PowerShell session in this process with the built Paasta module imported ($env:PAASTA_TEST_MODULE, else
/// out/Paasta/&lt;version&gt;/Paasta.psd1 of this checkout), isolated from the user's settings file.
/// </summary>
public sealed class PaastaHost : IDisposable
{
    private readonly Runspace _runspace;
    private readonly string _settings;

    public PaastaHost()
    {
        var state = InitialSessionState.CreateDefault2();
        _runspace = RunspaceFactory.CreateRunspace(state);
        _runspace.Open();
        _settings = Path.Combine(Path.GetTempPath(), $"paasta-host-{Guid.NewGuid():N}.json");
        Invoke("$env:PAASTA_CONFIG = $args[0]; Import-Module $args[1] -ErrorAction Stop", _settings, ModulePath);
    }

    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Paasta.sln"))) return dir.FullName;
            throw new InvalidOperationException("Paasta.sln not found above " + AppContext.BaseDirectory);
        }
    }

    public static string ModulePath
    {
        get
        {
            if (Environment.GetEnvironmentVariable("PAASTA_TEST_MODULE") is { Length: > 0 } given) return given;
            var props = File.ReadAllText(Path.Combine(RepositoryRoot, "Directory.Build.props"));
            var version = System.Text.RegularExpressions.Regex.Match(props, "<Version>([^<]+)</Version>").Groups[1].Value;
            var path = Path.Combine(RepositoryRoot, "out", "Paasta", version, "Paasta.psd1");
            if (!File.Exists(path)) throw new InvalidOperationException($"Build the module first (./build.ps1): {path} is missing.");
            return path;
        }
    }

    /// <summary>Runs a script; $args are the given values. Errors are collected, not thrown.</summary>
    public Result Invoke(string script, params object?[] args)
    {
        using var ps = PowerShell.Create();
        ps.Runspace = _runspace;
        ps.AddScript(script);
        foreach (var a in args) ps.AddArgument(a);
        Collection<PSObject> output;
        RuntimeException? terminating = null;
        try { output = ps.Invoke(); }
        catch (RuntimeException e) { output = new(); terminating = e; }
        var errors = ps.Streams.Error.ToList();
        if (terminating is not null) errors.Add(terminating.ErrorRecord);
        return new Result(output.ToList(), errors, ps.Streams.Warning.Select(w => w.Message).ToList(), ps.Streams.Verbose.Select(v => v.Message).ToList())
        {
            Progress = ps.Streams.Progress.ToList(),
        };
    }

    public void Dispose()
    {
        _runspace.Dispose();
        try { File.Delete(_settings); } catch (IOException) { }
    }

    public sealed record Result(List<PSObject> Output, List<ErrorRecord> Errors, List<string> Warnings, List<string> Verbose)
    {
        public List<ProgressRecord> Progress { get; init; } = new();

        public IEnumerable<string> ErrorIds => Errors.Select(e => e.FullyQualifiedErrorId.Split(',')[0]);
    }
}
