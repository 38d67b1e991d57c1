using System.Text.RegularExpressions;

namespace Paasta.Tests.Golden;

/// <summary>
/// A difference from PaaSTA's output that the golden tests accept, because docs/DIFFERENCES.md explains it under
/// the heading whose anchor is <see cref="Section"/>. <see cref="Instances"/> and <see cref="Path"/> are regular
/// expressions over "service/type-cluster.instance" and the flattened JSON path; <see cref="PaastaValue"/>, when
/// given, is what Paasta must write there.
/// </summary>
internal sealed record GoldenDifference(string Section, string Instances, string Path, string? PaastaValue = null)
{
    public bool Covers(string instance, string path, string expected, string actual) =>
        Regex.IsMatch(instance, "^(" + Instances + ")$") && Regex.IsMatch(path, "^(" + Path + ")$")
        && (PaastaValue is null || Regex.IsMatch(actual, "^(" + PaastaValue + ")$"));
}

internal static class GoldenDifferences
{
    private const string Any = ".*";

    public static readonly GoldenDifference[] Kubernetes =
    {
        new("pdb-labels", Any, @"podDisruptionBudget\.metadata\.labels\..*"),
        new("pdb-eviction-policy", Any, @"podDisruptionBudget\.spec\.unhealthyPodEvictionPolicy", "\\(absent\\)"),
        new("instances-false", @"golden_svc/kubernetes-golden-a\.no_instances", @"controller\.spec\.replicas", "0"),
        new("storage-class", @"golden_svc/kubernetes-golden-a\.stateful", @"controller\.spec\.volumeClaimTemplates\[1\]\.spec\.storageClassName", "\"gp3\""),
        new("aws-iam-role", @"golden_svc/kubernetes-golden-a\.yelp_only", @"controller\.spec\.template\.spec\.(serviceAccountName|securityContext\.fsGroup)", "\\(absent\\)"),
        new("aws-ebs-volumes", @"golden_svc/kubernetes-golden-a\.yelp_only", @"controller\.spec\.template\.spec\.(volumes|containers\[name=yelp--only\]\.volumeMounts)\[name=aws-ebs--.*", "\\(absent\\)"),
        new("ssm-secrets", @"golden_svc/eks-golden-b\.main|golden_extras/kubernetes-golden-a\.main", @"controller\.spec\.template\.spec\.containers\[name=main\]\.env\[name=(SSM_TOKEN|EXTRAS_TOKEN)\]\..*", "\\(absent\\)"),
    };

    /// <summary>Differences in Tron namespaces; instances are "soa-folder/service.cluster".</summary>
    public static readonly GoldenDifference[] Tron =
    {
        // Jobs Test-PaastaConfig finds invalid are left out (and reported); PaaSTA formats them anyway.
        new("tron-invalid-jobs", @"soa-invalid/(bad_schedule|tron_bad_job|tron_cleanup_group|tron_check_every)\.golden-a", @"jobs(\.(job|bad_job)(\..*)?)?", @"\(absent\)|\{\}"),
    };

    /// <summary>
    /// Verdicts of `paasta validate` checks Paasta does not share; instances are "soa-folder/service", the path is the
    /// check's name and <see cref="GoldenDifference.PaastaValue"/> Paasta's verdict ("fails" or "passes").
    /// </summary>
    public static readonly GoldenDifference[] Validation =
    {
        new("schema-extras", "soa/golden_extras", "validate_all_schemas", "passes"),
        new("validate-cmd-and-args", "soa-invalid/cmd_and_args", "validate_paasta_objects", "fails"),
        new("sensu-teams", "soa-invalid/bad_tron_team", "validate_tron", "passes"),
        new("secret-files", "soa-invalid/missing_secret", "validate_secrets", "passes"),
    };

    /// <summary>Instances PaaSTA cannot build at all (the golden is an oracle_error), with the section saying what Paasta does.</summary>
    public static readonly (string Instance, string Section)[] OracleFailures =
    {
        ("golden_svc/kubernetes-golden-a.preferred_anti_affinity", "anti-affinity-preferred"),
    };

    public static bool OracleFailureDocumented(string instance) => OracleFailures.Any(f => f.Instance == instance);

    /// <summary>Every section the lists above name.</summary>
    public static IEnumerable<string> Sections => Kubernetes.Concat(Tron).Concat(Validation).Select(k => k.Section).Concat(OracleFailures.Select(f => f.Section)).Distinct();
}
