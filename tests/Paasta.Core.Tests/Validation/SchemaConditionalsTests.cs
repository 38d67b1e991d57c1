using System.Text.Json.Nodes;
using Paasta.Config;
using Paasta.Validation;

namespace Paasta.Tests.Validation;

/// <summary>
/// The schemas' "key A needs key B" rules: each reported once, at the key that is missing or forbidden, under the
/// rule a user sees; a file that keeps the rule has no finding from it. The expected findings are those the rules
/// gave when they were written as allOf/if/then, before they became "dependencies" (cheaper: a rule whose key is
/// absent costs nothing to check).
/// </summary>
public class SchemaConditionalsTests
{
    private static string Findings(string file, string content)
    {
        using var soa = new TempSoaDir();
        soa.Service("svc", "backend", "prod.main");
        soa.Write($"svc/{file}", content);
        var found = new ConfigValidator(new SoaConfigReader(soa.Root)).ValidateService("svc")
            .Where(f => f.Severity == FindingSeverity.Error)
            .Select(f => $"{f.RuleId} {f.Path} line {f.Line}: {f.Message}");
        return string.Join("\n", found);
    }

    private const string Instance = "main:\n  deploy_group: prod.main\n";

    [Theory]
    [InlineData("kubernetes-c1.yaml", Instance + "  healthcheck_mode: cmd\n",
        "MissingKey main line 1: 'main': Required properties [\"healthcheck_cmd\"] are not present\n"
        + "HealthcheckCmdMissing main.healthcheck_mode line 3: 'main' uses healthcheck_mode cmd but sets no healthcheck_cmd.")]
    [InlineData("kubernetes-c1.yaml", Instance + "  healthcheck_mode: http\n", "")]
    [InlineData("kubernetes-c1.yaml", Instance + "  drain_method: http\n",
        "MissingKey main line 1: 'main': Required properties [\"drain_method_params\"] are not present")]
    [InlineData("kubernetes-c1.yaml", Instance + "  drain_method: http\n  drain_method_params: {drain: /d}\n",
        "WrongType main.drain_method_params.drain line 4: 'main.drain_method_params.drain' has the wrong type: Value is \"string\" but should be \"object\"\n"
        + "MissingKey main.drain_method_params line 4: 'main.drain_method_params': Required properties [\"stop_draining\",\"is_draining\",\"is_safe_to_kill\"] are not present")]
    [InlineData("kubernetes-c1.yaml", Instance + "  drain_method: hacheck\n", "")]
    [InlineData("kubernetes-c1.yaml", Instance + "  service_account_name: sa\n  iam_role: arn:aws:iam::1:role/r\n",
        "ConflictingKeys main.iam_role line 4: 'iam_role' cannot be combined with a key set alongside it (e.g. service_account_name with iam_role).")]
    [InlineData("kubernetes-c1.yaml", Instance + "  service_account_name: sa\n", "")]
    [InlineData("kubernetes-c1.yaml", Instance + "  fs_group_change_policy: Always\n",
        "MissingKey main line 1: 'main': Required properties [\"fs_group\"] are not present")]
    [InlineData("kubernetes-c1.yaml", Instance + "  fs_group_change_policy: Always\n  fs_group: 65534\n", "")]
    [InlineData("adhoc-c1.yaml", Instance + "  fs_group_change_policy: Always\n",
        "MissingKey main line 1: 'main': Required properties [\"fs_group\"] are not present")]
    [InlineData("tron-c1.yaml", "job:\n  deploy_group: prod.main\n  node: paasta\n  schedule: daily\n  actions:\n    a:\n      command: x\n      service_account_name: sa\n      iam_role: arn:aws:iam::1:role/r\n",
        "ConflictingKeys job.actions.a.iam_role line 9: 'iam_role' cannot be combined with a key set alongside it (e.g. service_account_name with iam_role).")]
    public void A_rule_is_reported_once_where_it_is_broken(string file, string content, string expected) =>
        Assert.Equal(expected, Findings(file, content));

    /// <summary>
    /// The validator drops the "dependencies" keyword's own summary, as its subschemas name each problem; a rule
    /// written in the list form ("A": ["B"]) has no subschema and would then go unreported.
    /// </summary>
    [Theory]
    [InlineData("kubernetes"), InlineData("adhoc"), InlineData("tron"), InlineData("service"), InlineData("deploy"),
     InlineData("monitoring"), InlineData("smartstack"), InlineData("rollback")]
    public void Every_dependency_rule_is_a_schema(string name)
    {
        using var stream = typeof(ConfigValidator).Assembly.GetManifestResourceStream($"Paasta.Schemas.{name}.schema.json")!;
        var lists = new List<string>();
        // Under properties, definitions and the like the keys are names, and "dependencies" may be a setting's name.
        var nameMaps = new HashSet<string> { "properties", "patternProperties", "definitions", "dependencies" };
        void Walk(JsonNode? node, string at, bool isNameMap)
        {
            if (node is JsonObject obj)
                foreach (var (key, value) in obj)
                {
                    if (!isNameMap && key == "dependencies" && value is JsonObject deps)
                        lists.AddRange(deps.Where(d => d.Value is not JsonObject).Select(d => $"{at}/dependencies/{d.Key}"));
                    Walk(value, $"{at}/{key}", !isNameMap && nameMaps.Contains(key));
                }
            else if (node is JsonArray array)
                for (var i = 0; i < array.Count; i++) Walk(array[i], $"{at}/{i}", false);
        }
        Walk(JsonNode.Parse(stream), "#", false);
        Assert.Empty(lists);
    }
}
