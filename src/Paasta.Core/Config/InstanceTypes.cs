using System.Text.RegularExpressions;

namespace Paasta.Config;

/// <summary>Instance file kinds (<c>&lt;type&gt;-&lt;cluster&gt;.yaml</c>).</summary>
public static partial class InstanceTypes
{
    public const string Kubernetes = "kubernetes";
    public const string Eks = "eks";
    public const string Adhoc = "adhoc";
    public const string Tron = "tron";

    /// <summary>The types Paasta loads as instances.</summary>
    public static readonly IReadOnlyList<string> Supported = new[] { Kubernetes, Eks, Adhoc, Tron };

    /// <summary>Operator-managed types: their files are recognised (and kept out of "unknown file" warnings) but not loaded.</summary>
    public static readonly IReadOnlyList<string> Recognised = new[]
    {
        Kubernetes, Eks, Adhoc, Tron, "paasta_native", "flink", "flinkeks", "cassandracluster", "cassandraclustereks",
        "kafkacluster", "monkrelays", "nrtsearchservice", "nrtsearchserviceeks",
    };

    public static bool IsLongRunning(string type) => type is Kubernetes or Eks;

    [GeneratedRegex(@"^(?<type>[a-z_]+)-(?<cluster>[0-9A-Za-z_.-]+)\.yaml$")]
    private static partial Regex InstanceFilePattern();

    /// <summary>Splits <c>kubernetes-pnw-prod.yaml</c> into (kubernetes, pnw-prod) when the type is recognised.</summary>
    public static bool TryParseFileName(string fileName, out string type, out string cluster)
    {
        var m = InstanceFilePattern().Match(fileName);
        type = cluster = "";
        if (!m.Success) return false;
        // Longest recognised type prefix wins, so "cassandraclustereks-x" is not read as "cassandracluster" + "eks-x".
        foreach (var t in Recognised.OrderByDescending(t => t.Length))
        {
            if (fileName.StartsWith(t + "-", StringComparison.Ordinal))
            {
                type = t;
                cluster = fileName[(t.Length + 1)..^".yaml".Length];
                return cluster.Length > 0;
            }
        }
        return false;
    }
}
