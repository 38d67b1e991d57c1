using System.Diagnostics;
using System.Text.Json;
using Paasta.Config;
using Paasta.Errors;
using Paasta.Validation;

namespace Paasta.Tests.Corpus;

/// <summary>What one corpus case did: the validator's findings, the loader's errors, and anything that went wrong.</summary>
public sealed record CaseOutcome
{
    public List<CaseFinding> Findings { get; init; } = new();
    public List<CaseError> Errors { get; init; } = new();
    /// <summary>An exception other than PaastaException ("Type: message"), or null.</summary>
    public string? RawException { get; init; }
    /// <summary>Why the case did not finish (a crash with its exit code, a hang), or null.</summary>
    public string? Failure { get; init; }
    public TimeSpan Elapsed { get; init; }

    public bool Finished => RawException is null && Failure is null;
}

public sealed record CaseFinding(string RuleId, string? File, int Line, int Column, string Severity, string Message);

public sealed record CaseError(string ErrorId, string? File, int Line, string Message, string? Key);

/// <summary>
/// Runs one corpus case: the validator over the service, then the loader over its instances. In the test process
/// for ordinary cases; in a child process (this assembly's entry point) for cases that could end or hang a
/// process, so that a regression fails that case instead of taking the test host down.
/// </summary>
public static class CorpusCaseRunner
{
    private const string Verb = "corpus-case";

    /// <summary><c>dotnet Paasta.Core.Tests.dll corpus-case SOA_DIR SERVICE</c>: the outcome as JSON on stdout.</summary>
    public static int Main(string[] args)
    {
        if (args.Length != 3 || args[0] != Verb)
        {
            Console.Error.WriteLine($"usage: dotnet Paasta.Core.Tests.dll {Verb} SOA_DIR SERVICE");
            return 2;
        }
        Console.Out.Write(JsonSerializer.Serialize(RunHere(args[1], args[2])));
        return 0;
    }

    public static CaseOutcome RunHere(string soaDir, string service)
    {
        var watch = Stopwatch.StartNew();
        var findings = new List<CaseFinding>();
        var errors = new List<CaseError>();
        try
        {
            var reader = new SoaConfigReader(soaDir);
            foreach (var f in new ConfigValidator(reader).ValidateService(service))
                findings.Add(new CaseFinding(f.RuleId, f.File, f.Line, f.Column, f.Severity.ToString(), f.Message));
            try
            {
                var svc = reader.LoadService(service);
                foreach (var result in reader.LoadInstances(svc))
                    if (result.Error is { } e) errors.Add(new CaseError(e.ErrorId, e.File, e.Line, e.Message, e.Key));
            }
            catch (PaastaException e) { errors.Add(new CaseError(e.ErrorId, e.File, e.Line, e.Message, e.Key)); }
        }
        catch (Exception e) when (e is not PaastaException)
        {
            return new CaseOutcome { Findings = findings, Errors = errors, RawException = $"{e.GetType().FullName}: {e.Message}", Elapsed = watch.Elapsed };
        }
        return new CaseOutcome { Findings = findings, Errors = errors, Elapsed = watch.Elapsed };
    }

    /// <summary>Runs the case in-process, giving up (as a failure) after <paramref name="timeout"/>.</summary>
    public static CaseOutcome RunGuarded(string soaDir, string service, TimeSpan timeout)
    {
        var task = Task.Run(() => RunHere(soaDir, service));
        return task.Wait(timeout) ? task.Result : new CaseOutcome { Failure = $"did not finish within {timeout.TotalSeconds:F0} s (a hang?)", Elapsed = timeout };
    }

    /// <summary>Runs the case in a child process, killed after <paramref name="timeout"/>.</summary>
    public static CaseOutcome RunIsolated(string soaDir, string service, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { typeof(CorpusCaseRunner).Assembly.Location, Verb, soaDir, service }) start.ArgumentList.Add(a);
        using var child = Process.Start(start)!;
        var stdout = child.StandardOutput.ReadToEndAsync();
        var stderr = child.StandardError.ReadToEndAsync();
        if (!child.WaitForExit(timeout))
        {
            child.Kill(entireProcessTree: true);
            child.WaitForExit();
            return new CaseOutcome { Failure = $"did not finish within {timeout.TotalSeconds:F0} s (a hang?); the child process was killed", Elapsed = watch.Elapsed };
        }
        var output = stdout.GetAwaiter().GetResult();
        if (child.ExitCode != 0 || output.Length == 0)
        {
            var tail = string.Join("\n", stderr.GetAwaiter().GetResult().Split('\n').Take(6));
            return new CaseOutcome { Failure = $"the process ended with exit code {child.ExitCode} (a crash?): {tail}", Elapsed = watch.Elapsed };
        }
        return JsonSerializer.Deserialize<CaseOutcome>(output)! with { Elapsed = watch.Elapsed };
    }
}
