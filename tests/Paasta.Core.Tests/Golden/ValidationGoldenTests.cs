using Paasta.Config;
using Paasta.Validation;

namespace Paasta.Tests.Golden;

/// <summary>
/// Test-PaastaConfig's verdict on each fixture service against `paasta validate`'s (tests/golden/validate):
/// for every check PaaSTA runs, whether it fails, and whether Paasta reports a finding belonging to that check.
/// Messages differ by design (Paasta names file, line and key); which checks fail must not, unless
/// <see cref="GoldenDifferences.Validation"/> lists it.
/// </summary>
public class ValidationGoldenTests
{
    public static TheoryData<string> Goldens => GoldenData.Files("validate", "*.json");

    /// <summary>The `paasta validate` check each of Paasta's findings belongs to.</summary>
    internal static readonly Dictionary<string, string[]> CheckOfRule = new(StringComparer.Ordinal)
    {
        ["UnknownKey"] = new[] { "validate_all_schemas" },
        ["InvalidInstanceName"] = new[] { "validate_all_schemas" },
        ["WrongType"] = new[] { "validate_all_schemas" },
        ["MissingKey"] = new[] { "validate_all_schemas" },
        ["ConflictingKeys"] = new[] { "validate_all_schemas" },
        ["InvalidValue"] = new[] { "validate_all_schemas" },
        ["SchemaViolation"] = new[] { "validate_all_schemas" },
        ["InstanceNameTooLong"] = new[] { "validate_all_schemas" },
        ["RollbackBoundsMissing"] = new[] { "validate_all_schemas" },
        ["YamlSyntaxError"] = new[] { "validate_all_schemas" },
        ["ConfigValueWrongType"] = new[] { "validate_paasta_objects" },
        ["ServiceNameTooLong"] = new[] { "validate_service_name" },
        ["ServiceHasNoYaml"] = new[] { "check_service_path" },
        ["TronScheduleInvalid"] = new[] { "validate_tron" },
        ["TronUnknownRequiredAction"] = new[] { "validate_tron" },
        ["TronRequiresCycle"] = new[] { "validate_tron" },
        // PaaSTA reports a Tron action's deploy group problems both from its Tron check and its instance check.
        ["TronDeployGroupMissing"] = new[] { "validate_tron", "validate_paasta_objects" },
        ["DeployGroupNotInPipeline"] = new[] { "validate_paasta_objects" },
        ["CmdAndArgs"] = new[] { "validate_paasta_objects" },
        ["HealthcheckCmdMissing"] = new[] { "validate_paasta_objects" },
        ["DuplicateInstanceName"] = new[] { "validate_unique_instance_names" },
        ["MinInstancesAboveMax"] = new[] { "validate_min_max_instances" },
        ["CpuBurstTooHigh"] = new[] { "validate_cpu_burst" },
        ["AutoscalingConfigInvalid"] = new[] { "validate_autoscaling_configs" },
        ["RollbackConditionsMissing"] = new[] { "validate_all_schemas" },
        ["MonitoringYamlMissing"] = new[] { "check_monitoring_file_exists" },
    };

    /// <summary>
    /// The checks a finding fails. A Tron action's deploy-group problem fails both PaaSTA's Tron check and its
    /// instance check; a cleanup_action's only the Tron check (PaaSTA's instance list has no cleanup actions).
    /// </summary>
    internal static IEnumerable<string> ChecksOf(ConfigFinding f)
    {
        var tronFile = f.File is { } file && Path.GetFileName(file).StartsWith("tron-", StringComparison.Ordinal);
        if (tronFile && f.RuleId is "DeployGroupNotInPipeline" or "TronDeployGroupMissing")
            return f.Path?.Contains(".cleanup.", StringComparison.Ordinal) == true
                ? new[] { "validate_tron" } : new[] { "validate_tron", "validate_paasta_objects" };
        return CheckOfRule[f.RuleId];
    }

    internal static (string SoaDir, string Service) Parse(string golden)
    {
        var parts = golden.Split('/');
        return (parts[^2] == "soa-invalid" ? GoldenData.SoaInvalid : GoldenData.Soa, parts[^1][..^".json".Length]);
    }

    internal static IReadOnlyList<ConfigFinding> PaastaFindings(string soaDir, string service) =>
        new ConfigValidator(new SoaConfigReader(soaDir)).ValidateService(service).Where(f => f.Severity == FindingSeverity.Error).ToList();

    internal static string Id(string golden)
    {
        var (soa, service) = Parse(golden);
        return $"{Path.GetFileName(soa)}/{service}";
    }

    /// <summary>The checks whose verdicts differ: (check, PaaSTA's verdict, Paasta's), plus Paasta's findings.</summary>
    internal static (List<(string Check, string PaaSTA, string Paasta)> Differences, IReadOnlyList<ConfigFinding> Findings) Differences(string golden)
    {
        var (soa, service) = Parse(golden);
        var oracle = GoldenData.Json(golden);
        var failedByPaaSTA = oracle["checks"]!.AsArray().Where(c => !c!["passed"]!.GetValue<bool>()).Select(c => c!["check"]!.GetValue<string>()).ToHashSet();
        var findings = PaastaFindings(soa, service);
        var unmapped = findings.Where(f => !CheckOfRule.ContainsKey(f.RuleId)).ToList();
        Assert.True(unmapped.Count == 0, $"{Id(golden)}: findings of rules the test does not map to a paasta validate check: {string.Join("; ", unmapped)}");
        var failedByPaasta = findings.SelectMany(ChecksOf).ToHashSet();
        var diffs = failedByPaaSTA.Union(failedByPaasta).Order(StringComparer.Ordinal)
            .Select(check => (check, failedByPaaSTA.Contains(check) ? "fails" : "passes", failedByPaasta.Contains(check) ? "fails" : "passes"))
            .Where(d => d.Item2 != d.Item3).ToList();
        return (diffs, findings);
    }

    [Theory]
    [MemberData(nameof(Goldens))]
    public void Verdicts_match_paasta_validate(string golden)
    {
        var id = Id(golden);
        var oracle = GoldenData.Json(golden);
        var (diffs, findings) = Differences(golden);
        var problems = new List<string>();
        foreach (var (check, paaSTA, paasta) in diffs)
        {
            if (GoldenDifferences.Validation.Any(d => d.Covers(id, check, paaSTA, paasta))) continue;
            problems.Add($"  {check}: PaaSTA {paaSTA}, Paasta {paasta}" +
                (paasta == "fails" ? $" ({string.Join("; ", findings.Where(f => ChecksOf(f).Contains(check)).Select(f => f.ToString()))})"
                    : $" (PaaSTA: {oracle["checks"]!.AsArray().First(c => c!["check"]!.GetValue<string>() == check)!["output"]})"));
        }
        Assert.True(problems.Count == 0, $"{id}: verdicts differ from paasta validate and docs/DIFFERENCES.md does not explain why:\n" + string.Join("\n", problems));
    }
}
