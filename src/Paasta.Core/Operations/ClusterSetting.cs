using Paasta.Errors;

namespace Paasta.Operations;

/// <summary>
/// The cluster an operation works on when the user may leave -Cluster out: the parameter, else the Cluster
/// setting ($env:PAASTA_CLUSTER, then Set-PaastaConfiguration -Cluster), as docs/CONFIGURATION.md orders them.
/// </summary>
public static class ClusterSetting
{
    /// <summary>The cluster given, else the configured one (said in -Verbose); null when neither is set.</summary>
    public static string? Optional(OperationContext context, string? given)
    {
        if (!string.IsNullOrEmpty(given)) return given;
        if (context.Settings.Cluster is not { Length: > 0 } fallback) return null;
        context.Sink.Verbose($"Cluster {fallback} (from $env:PAASTA_CLUSTER or Set-PaastaConfiguration -Cluster).");
        return fallback;
    }

    /// <summary>As <see cref="Optional"/>, but a cluster must come from somewhere: ClusterNotSpecified otherwise.</summary>
    public static string Required(OperationContext context, string? given, string command) =>
        Optional(context, given) ?? throw new PaastaException("ClusterNotSpecified", PaastaErrorKind.InvalidArgument,
            $"{command} needs a cluster: pass -Cluster, set $env:PAASTA_CLUSTER, or Set-PaastaConfiguration -Cluster.") { Target = "Cluster" };

    /// <summary>
    /// Refuses a Tron cluster that soa-configs do not know (ClusterNotFound): no service has a tron-CLUSTER.yaml
    /// and there is no SOA_DIR/tron/CLUSTER folder. A typo in -Cluster must not publish or prune empty namespaces.
    /// </summary>
    public static void RequireTronCluster(OperationContext context, string cluster)
    {
        var reader = context.Reader;
        if (Directory.Exists(Path.Combine(reader.SoaDir, "tron", cluster))) return;
        if (reader.ListServices().Any(s => File.Exists(Path.Combine(reader.SoaDir, s, $"tron-{cluster}.yaml")))) return;
        throw new PaastaException("ClusterNotFound", PaastaErrorKind.ObjectNotFound,
            $"No service in {reader.SoaDir} has a tron-{cluster}.yaml, and there is no tron/{cluster}/ folder: is '{cluster}' the cluster you meant?") { Target = cluster };
    }
}
