using Paasta.Errors;
using Paasta.Yaml;

namespace Paasta.Config;

/// <summary>
/// How much one soa-configs file may ask Paasta to do. Real files are far below these; the limits exist so that a
/// generated or hostile file is refused at once, naming the file and line, rather than costing minutes and
/// gigabytes in every cmdlet that reads it. See docs/RELIABILITY.md, "Limits".
/// </summary>
public static class ConfigLimits
{
    /// <summary>Top-level entries of an instance file: instances (or Tron jobs) and <c>_</c> templates.</summary>
    public const int MaxEntriesPerFile = 5_000;
    /// <summary>Actions of one Tron job.</summary>
    public const int MaxActionsPerJob = 1_000;
    /// <summary>Actions of all jobs of one tron-CLUSTER.yaml (each action is an instance, <c>job.action</c>).</summary>
    public const int MaxActionsPerFile = 5_000;

    /// <summary>Refuses an instance file whose entries or actions exceed the limits (ConfigTooManyInstances, ConfigTooManyActions).</summary>
    public static void CheckInstanceFile(string path, string instanceType, YMapping root)
    {
        if (root.Count > MaxEntriesPerFile)
        {
            var at = At(root, MaxEntriesPerFile);
            throw new PaastaException("ConfigTooManyInstances", PaastaErrorKind.LimitsExceeded,
                $"{path}:{at.Line}: the file holds {root.Count:N0} entries; Paasta reads at most {MaxEntriesPerFile:N0} instances, jobs and templates per file. Split it by cluster or remove generated entries.")
            { File = path, Line = at.Line, Column = at.Column, Key = root.Entries[MaxEntriesPerFile].Key, Target = path };
        }
        if (instanceType != InstanceTypes.Tron) return;
        var total = 0;
        foreach (var (job, node) in root.Entries)
        {
            if (job.StartsWith('_') || node is not YMapping jobMap) continue;
            var (count, actions) = jobMap["actions"] switch
            {
                YMapping m => (m.Count, (YNode)m),
                YSequence s => (s.Items.Count, s),
                _ => (0, (YNode)jobMap),
            };
            if (count > MaxActionsPerJob)
            {
                var at = Nth(actions, MaxActionsPerJob);
                throw new PaastaException("ConfigTooManyActions", PaastaErrorKind.LimitsExceeded,
                    $"{path}:{at.Line}: job '{job}' has {count:N0} actions; a job may have at most {MaxActionsPerJob:N0}.")
                { File = path, Line = at.Line, Column = at.Column, Key = $"{job}.actions", Target = path };
            }
            if (total + count > MaxActionsPerFile)
            {
                var at = Nth(actions, MaxActionsPerFile - total);
                throw new PaastaException("ConfigTooManyActions", PaastaErrorKind.LimitsExceeded,
                    $"{path}:{at.Line}: the jobs of this file have more than {MaxActionsPerFile:N0} actions in all, the limit for one file.")
                { File = path, Line = at.Line, Column = at.Column, Key = $"{job}.actions", Target = path };
            }
            total += count;
        }
    }

    // The first entry over the limit (index = limit), by its key's position.
    private static YNode At(YMapping m, int index) => (YNode?)m.KeyNode(m.Entries[index].Key) ?? m.Entries[index].Value;

    private static YNode Nth(YNode collection, int index) => collection switch
    {
        YMapping m when index < m.Count => At(m, index),
        YSequence s when index < s.Items.Count => s.Items[index],
        _ => collection,
    };
}
