using Paasta.Config;
using Paasta.Yaml;
using Paasta.Validation;
using Paasta.Errors;

namespace Paasta.Tron;

/// <summary>
/// Test-PaastaConfig rules for Tron that the schema cannot express (docs/BEHAVIOUR.md §10.4): every job's schedule must
/// be one Tron parses — cron fields in range, daily times and day letters, intervals with a unit, the
/// mapping form's type and value. Called by <see cref="Validation.ConfigValidator"/> through one hook.
/// </summary>
public static class TronValidation
{
    public static IEnumerable<ConfigFinding> CheckSchedules(ServiceConfig service)
    {
        foreach (var file in service.InstanceFiles.Where(f => f.InstanceType == InstanceTypes.Tron))
        {
            YMapping? root;
            try { root = YamlLoader.LoadMappingFile(file.Path); }
            catch (PaastaException) { continue; } // already reported by the file's own checks
            if (root is null) continue;
            foreach (var (job, node) in root.Entries)
            {
                if (job.StartsWith('_') || node is not YMapping jobMap || !jobMap.TryGet("schedule", out var schedule)) continue;
                if (schedule is not (YScalar { Value: string } or YMapping)) continue; // the schema reports other types
                if (TronSchedule.TryParse(schedule.ToPlain(), out _, out var error)) continue;
                var at = jobMap.KeyNode("schedule") ?? (YNode)schedule;
                yield return new ConfigFinding(service.Name, "TronScheduleInvalid", FindingSeverity.Error, file.Path, at.Line, at.Column, $"{job}.schedule",
                    $"Job '{job}': the schedule {TronSchedule.Describe(schedule.ToPlain())} is not valid: {error}.");
            }
        }
    }

    /// <summary>The job whose lines (from its key to the next top-level key) hold <paramref name="line"/>; null for templates and other lines.</summary>
    public static string? JobAt(YMapping? root, int line)
    {
        if (root is null || line <= 0) return null;
        string? found = null;
        foreach (var (key, node) in root.Entries.OrderBy(e => root.KeyNode(e.Key)?.Line ?? e.Value.Line))
        {
            if ((root.KeyNode(key)?.Line ?? node.Line) > line) break;
            found = key;
        }
        return found is null || found.StartsWith('_') ? null : found;
    }

    /// <summary>
    /// Splits the error findings of one tron file by job: a finding belongs to the job whose lines hold it (or,
    /// without a line, whose name starts its key path); the rest (templates, the file as a whole) are file-wide.
    /// </summary>
    public static (List<ConfigFinding> FileWide, Dictionary<string, List<ConfigFinding>> ByJob) FindingsByJob(string path, IEnumerable<ConfigFinding> findings)
    {
        YMapping? root = null;
        try { root = YamlLoader.LoadMappingFile(path); }
        catch (PaastaException) { } // an unreadable file: every finding is the file's
        var jobs = root?.Keys.Where(k => !k.StartsWith('_')).OrderByDescending(k => k.Length).ToList() ?? new List<string>();
        var fileWide = new List<ConfigFinding>();
        var byJob = new Dictionary<string, List<ConfigFinding>>(StringComparer.Ordinal);
        foreach (var f in findings)
        {
            var job = f.Line > 0 ? JobAt(root, f.Line)
                : jobs.FirstOrDefault(j => f.Path is { } p && (p == j || p.StartsWith(j + ".", StringComparison.Ordinal)));
            if (job is null) fileWide.Add(f);
            else (byJob.TryGetValue(job, out var list) ? list : byJob[job] = new List<ConfigFinding>()).Add(f);
        }
        return (fileWide, byJob);
    }
}

/// <summary>A job left out of its Tron namespace because Test-PaastaConfig finds it invalid, and why.</summary>
public sealed record TronJobProblem(string Service, string Cluster, string Job, IReadOnlyList<ConfigFinding> Findings)
{
    /// <summary>The error to report for it: the job's first finding names file, line and key.</summary>
    public PaastaException ToException()
    {
        var first = Findings[0];
        return new PaastaException("TronJobInvalid", PaastaErrorKind.InvalidData,
            $"{first.File}:{first.Line}: job '{Job}' is left out of the {Service} namespace on {Cluster}: " +
            string.Join(" ", Findings.Take(3).Select(f => $"{f.Message} [{f.RuleId}]")) +
            (Findings.Count > 3 ? $" (and {Findings.Count - 3} more; Test-PaastaConfig -Service {Service} lists them)" : ""))
        { File = first.File, Line = first.Line, Column = first.Column, Key = first.Path, Target = $"{Service}.{Job}" };
    }
}

