using Paasta.Yaml;
using Paasta.Errors;

namespace Paasta.Tron;

/// <summary>
/// What <c>&lt;soa_dir&gt;/tron/&lt;cluster&gt;/MASTER.yaml</c> sets for every job of the cluster that Paasta must
/// apply itself when it runs jobs without a Tron master: the default <c>time_zone</c>.
/// </summary>
public sealed record TronMasterSettings(string Path, string? TimeZone)
{
    /// <summary>The cluster's MASTER.yaml, or null when there is none.</summary>
    public static TronMasterSettings? Load(string soaDir, string cluster)
    {
        var path = TronConfigBuilder.MasterPath(soaDir, cluster);
        if (!File.Exists(path)) return null;
        var root = YamlLoader.LoadMappingFile(path);
        if (root is null || !root.TryGet("time_zone", out var node) || node is YScalar { Value: null }) return new TronMasterSettings(path, null);
        if (node is not YScalar { Value: string zone })
            throw new PaastaException("ConfigValueWrongType", PaastaErrorKind.InvalidData,
                $"{path}:{node.Line}: time_zone must be a time zone name such as US/Pacific, not {YamlLoader.Describe(node)}.")
            { File = path, Line = node.Line, Column = node.Column, Key = "time_zone", Target = path };
        return new TronMasterSettings(path, zone.Trim().Length == 0 ? null : zone.Trim());
    }
}
