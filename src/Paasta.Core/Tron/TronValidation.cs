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
}
