using System.Text.Json.Nodes;
using Json.Schema;
using Paasta.Config;
using Paasta.Yaml;
using Paasta.Errors;
using Paasta.IO;

namespace Paasta.Validation;

/// <summary>
/// paasta validate: every file against its JSON Schema, then the rules that span files (docs/BEHAVIOUR.md §1, §9.7).
/// Never stops at the first problem; each finding names file, line, column and key.
/// </summary>
public sealed class ConfigValidator
{
    private static readonly HashSet<string> OtherKnownFiles = new(StringComparer.Ordinal)
        { "deployments.json", "data.yaml", "dependencies.yaml", "port" };

    private readonly SoaConfigReader _reader;

    public ConfigValidator(SoaConfigReader reader) => _reader = reader;

    public IReadOnlyList<ConfigFinding> ValidateService(string service)
    {
        var findings = new List<ConfigFinding>();
        ServiceConfig svc;
        try
        {
            svc = _reader.LoadService(service);
        }
        catch (PaastaException e)
        {
            findings.Add(ConfigFinding.FromException(service, e));
            // A name that is no service folder: nothing else to read. No name a caller gives reaches outside the soa
            // dir; links inside it are followed, as PaaSTA does (docs/RELIABILITY.md, "Links").
            if (e.ErrorId is "InvalidServiceName" or "ServiceNotFound") return findings;
            // A service-wide file failed to load; still check each file on its own so every problem shows.
            foreach (var file in Directory.EnumerateFiles(Path.Combine(_reader.SoaDir, service), "*.yaml").Order(StringComparer.Ordinal))
                if (file != e.File) ValidateFile(service, file, findings);
            return Deduplicate(findings);
        }

        // paasta validate stops at a service folder without a .yaml file (a .yml does not count).
        if (!Directory.EnumerateFiles(svc.Directory, "*.yaml").Any())
        {
            findings.Add(new(service, "ServiceHasNoYaml", FindingSeverity.Error, svc.Directory, 0, 0, null,
                $"The folder of service '{service}' has no .yaml file; soa-configs files end in .yaml."));
            return findings;
        }

        if (Names.Sanitise(service).Length > 63)
            findings.Add(new(service, "ServiceNameTooLong", FindingSeverity.Error, svc.Directory, 0, 0, null,
                $"The service name '{service}' is {Names.Sanitise(service).Length} characters once sanitised for Kubernetes; the limit is 63."));

        foreach (var file in Directory.EnumerateFiles(svc.Directory).Order(StringComparer.Ordinal))
            ValidateFile(service, file, findings);

        if (svc.HasServiceYaml && !svc.HasMonitoringYaml)
            findings.Add(new(service, "MonitoringYamlMissing", FindingSeverity.Error, Path.Combine(svc.Directory, "monitoring.yaml"), 0, 0, null,
                "monitoring.yaml is missing; every service needs one naming its team."));
        if (!svc.HasDeployYaml && svc.InstanceFiles.Count > 0)
            findings.Add(new(service, "DeployYamlMissing", FindingSeverity.Error, Path.Combine(svc.Directory, "deploy.yaml"), 0, 0, null,
                "deploy.yaml is missing; it lists the deploy groups instances deploy from."));

        CheckInstances(svc, findings);
        findings.AddRange(PaastaValidateRules.TronCleanupActions(svc));
        findings.AddRange(Tron.TronValidation.CheckSchedules(svc));
        return Deduplicate(findings);
    }

    // Schema findings per file, reused while the file's size and write time are unchanged: a runbook that
    // validates every minute re-checks only what changed.
    private static readonly FileStampCache<(string Service, ConfigFinding[] Findings)> FileResults = new(100_000);

    private void ValidateFile(string service, string path, List<ConfigFinding> findings)
    {
        var key = Path.GetFullPath(path);
        var status = BoundedFile.Stat(path);
        if (FileResults.TryGet(key, status, out var hit) && hit.Service == service)
        {
            findings.AddRange(hit.Findings);
            return;
        }
        var fresh = new List<ConfigFinding>();
        ValidateFileUncached(service, path, status, fresh);
        FileResults.Set(key, status, (service, fresh.ToArray()));
        findings.AddRange(fresh);
    }

    private void ValidateFileUncached(string service, string path, FileStatus status, List<ConfigFinding> findings)
    {
        var name = Path.GetFileName(path);
        string? instanceType = InstanceTypes.TryParseFileName(name, out var t, out _) ? t : null;
        var schemaName = SchemaCatalog.SchemaNameFor(name, instanceType);
        if (schemaName is null)
        {
            var known = instanceType is not null || OtherKnownFiles.Contains(name) || name.StartsWith("rollback-", StringComparison.Ordinal);
            if (!known && (name.EndsWith(".yaml") || name.EndsWith(".yml") || name.EndsWith(".json")))
                findings.Add(new(service, "UnknownConfigFile", FindingSeverity.Warning, path, 0, 0, null,
                    $"{name} is not a soa-configs file Paasta knows (service.yaml, deploy.yaml, monitoring.yaml, smartstack.yaml, <type>-<cluster>.yaml, …); it is ignored. A misspelt name?"));
            return;
        }

        YMapping? root;
        try { root = YamlLoader.LoadMappingFile(path, status); } // one Stat per file, taken by ValidateFile
        catch (PaastaException e) { findings.Add(ConfigFinding.FromException(service, e)); return; }
        if (root is null) return;
        // A file over the limits is reported once, before the schema (whose cost grows with every entry).
        if (instanceType is not null && InstanceTypes.Supported.Contains(instanceType))
        {
            try { ConfigLimits.CheckInstanceFile(path, instanceType, root); }
            catch (PaastaException e) { findings.Add(ConfigFinding.FromException(service, e)); return; }
        }
        // PaaSTA treats an empty file as {}; only instance files must hold something.
        if (root.Count == 0 && schemaName is not ("kubernetes" or "adhoc")) return;

        if (schemaName == "rollback") findings.AddRange(PaastaValidateRules.RollbackBounds(service, path, root));
        var (schema, knownKeys, passFail, everyFailure) = SchemaCatalog.Get(schemaName);
        var json = ToJson(root);
        // The pass/fail answer is much cheaper than the list of failures; most files pass.
        if (schema.Evaluate(json, passFail).IsValid) return;
        var results = schema.Evaluate(json, everyFailure);
        foreach (var detail in results.Details)
        {
            if (detail.IsValid || detail.Errors is null || detail.Errors.Count == 0) continue;
            var evaluationPath = detail.EvaluationPath.ToString();
            // A failed "if" is how conditional rules decide; it is not a problem with the file.
            if (evaluationPath.Contains("/if", StringComparison.Ordinal)) continue;
            var segments = PointerSegments(detail.InstanceLocation.ToString());
            foreach (var (keyword, message) in detail.Errors)
            {
                // "dependencies" only sums up its subschemas' failures, which are reported at the key they name.
                if (keyword == "dependencies") continue;
                findings.Add(SchemaFinding(service, path, root, segments, evaluationPath, keyword, message, knownKeys, instanceType));
            }
        }
    }

    private static ConfigFinding SchemaFinding(string service, string file, YMapping root, string[] segments, string evaluationPath,
        string keyword, string message, HashSet<string> knownKeys, string? instanceType)
    {
        var (node, keyNode) = Locate(root, segments);
        var path = string.Join('.', segments);
        var at = keyNode ?? node ?? (YNode)root;
        var last = segments.Length > 0 ? segments[^1] : "";

        // JsonSchema.Net reports a failed "false" schema with an empty keyword: under additionalProperties
        // that is a key the schema does not know; elsewhere (then/properties/x: false) a forbidden combination.
        var falseSchema = keyword.Length == 0 || keyword == "false";
        if (falseSchema && evaluationPath.EndsWith("/additionalProperties", StringComparison.Ordinal))
        {
            if (segments.Length == 1 && instanceType is not null && !last.StartsWith('_'))
                return new(service, "InvalidInstanceName", FindingSeverity.Error, file, at.Line, at.Column, path,
                    $"'{last}' is not a valid instance name: use lower-case letters, digits, '_' and '-', starting and ending with a letter or digit.");
            var suggestion = Suggest(last, knownKeys);
            return new(service, "UnknownKey", FindingSeverity.Error, file, at.Line, at.Column, path,
                $"Unknown key '{last}'{(suggestion is null ? "" : $"; did you mean '{suggestion}'?")}");
        }
        if (falseSchema) keyword = "false";
        var rule = keyword switch
        {
            "type" => "WrongType",
            "required" => "MissingKey",
            "false" => "ConflictingKeys",
            "enum" or "const" or "pattern" or "minimum" or "maximum" or "exclusiveMinimum" or "exclusiveMaximum"
                or "minLength" or "maxLength" or "minItems" or "maxItems" or "minProperties" or "maxProperties" or "uniqueItems" => "InvalidValue",
            _ => "SchemaViolation",
        };
        var text = rule switch
        {
            "WrongType" => $"'{(path.Length == 0 ? "(top level)" : path)}' has the wrong type: {message}",
            "ConflictingKeys" => $"'{last}' cannot be combined with a key set alongside it (e.g. service_account_name with iam_role).",
            _ => $"'{(path.Length == 0 ? "(top level)" : path)}': {message}",
        };
        return new(service, rule, FindingSeverity.Error, file, at.Line, at.Column, path, text);
    }

    /// <summary>The node at a JSON pointer, and the key node naming it (its line is what an editor should jump to).</summary>
    private static (YNode? Node, YScalar? Key) Locate(YMapping root, string[] segments)
    {
        YNode? node = root;
        YScalar? key = null;
        foreach (var segment in segments)
        {
            switch (node)
            {
                case YMapping m:
                    key = m.KeyNode(segment);
                    node = m[segment];
                    break;
                case YSequence s when int.TryParse(segment, out var i) && i < s.Items.Count:
                    node = s.Items[i];
                    key = null;
                    break;
                default:
                    return (node, key);
            }
        }
        return (node, key);
    }

    private void CheckInstances(ServiceConfig svc, List<ConfigFinding> findings)
    {
        var seen = new Dictionary<(string Cluster, string Instance), InstanceConfig>();
        var tronJobs = new Dictionary<(string File, string Job), List<InstanceConfig>>();
        // Built once per service: per instance, a long pipeline would make the work quadratic.
        var pipeline = svc.PipelineSteps.ToHashSet(StringComparer.Ordinal);
        var groupList = string.Join(", ", svc.DeployGroups.Take(20)) + (svc.DeployGroups.Count > 20 ? $", … ({svc.DeployGroups.Count} groups)" : "");
        var comments = new CommentReader();
        foreach (var result in _reader.LoadInstances(svc))
        {
            if (result.Error is { } error) { findings.Add(ConfigFinding.FromException(svc.Name, error)); continue; }
            var i = result.Value!;
            ConfigFinding At(string rule, string key, string message)
            {
                var source = i.SourceOf(key);
                var line = source is { Origin: not ValueOrigin.Default } ? source.Line : i.Line;
                var file = source is { Origin: not ValueOrigin.Default } ? source.File : i.File;
                return new(svc.Name, rule, FindingSeverity.Error, file, line, source?.Column ?? 0, $"{i.Instance}.{key}", message);
            }

            // One name per cluster across every instance type (Tron's are job.action), as paasta validate lists them.
            if (seen.TryGetValue((i.Cluster, i.Instance), out var other))
                findings.Add(new(svc.Name, "DuplicateInstanceName", FindingSeverity.Error, i.File, i.Line, 1, i.Instance,
                    $"'{i.Instance}' is defined for cluster {i.Cluster} in both {Path.GetFileName(other.File)} and {Path.GetFileName(i.File)}."));
            else seen[(i.Cluster, i.Instance)] = i;
            findings.AddRange(PaastaValidateRules.SecretFiles(i));

            if (i.InstanceType == InstanceTypes.Tron)
            {
                var job = (i.File, i.TronJob!);
                if (!tronJobs.TryGetValue(job, out var actions)) tronJobs[job] = actions = new();
                actions.Add(i);
                var executor = i.Config.TryGetValue("executor", out var ex) ? ex as string : "paasta";
                if (i.DeployGroup is null && executor is "paasta" or "spark")
                    findings.Add(At("TronDeployGroupMissing", "deploy_group",
                        $"Tron action '{i.Instance}' runs a container ({executor} executor) and needs a deploy_group, on the action or its job."));
            }
            else
            {
                if (Names.Sanitise(i.Instance).Length > 63)
                    findings.Add(new(svc.Name, "InstanceNameTooLong", FindingSeverity.Error, i.File, i.Line, 1, i.Instance,
                        $"The instance name '{i.Instance}' is {Names.Sanitise(i.Instance).Length} characters once sanitised ('_' becomes '--'); the limit is 63."));
                if (i.Cmd is not null && i.Args is not null)
                    findings.Add(At("CmdAndArgs", "args", $"'{i.Instance}' sets both cmd and args; give only one (args is for images whose entrypoint takes arguments)."));
                if (i.HealthcheckMode == "cmd" && i.HealthcheckCmd is null)
                    findings.Add(At("HealthcheckCmdMissing", "healthcheck_mode", $"'{i.Instance}' uses healthcheck_mode cmd but sets no healthcheck_cmd."));
                if (i.MaxInstances is { } max && i.MinInstances > max)
                    findings.Add(At("MinInstancesAboveMax", "min_instances", $"'{i.Instance}': min_instances ({i.MinInstances}) is above max_instances ({max})."));
                findings.AddRange(PaastaValidateRules.CpuBurst(i, comments));
                findings.AddRange(PaastaValidateRules.Autoscaling(i, comments));
            }
            if (i.DeployGroup is { } group && svc.HasDeployYaml && !pipeline.Contains(group))
                findings.Add(At("DeployGroupNotInPipeline", "deploy_group",
                    $"'{i.Instance}' deploys from '{group}', which is not a step of deploy.yaml's pipeline ({groupList})."));
        }
        foreach (var ((_, job), actions) in tronJobs) CheckTronRequires(svc.Name, job, actions, findings);
    }

    private static void CheckTronRequires(string service, string job, List<InstanceConfig> actions, List<ConfigFinding> findings)
    {
        // Actions written as a list may repeat a name; the first one stands for the name here.
        var names = new Dictionary<string, InstanceConfig>(StringComparer.Ordinal);
        foreach (var a in actions) names.TryAdd(a.TronAction!, a);
        var edges = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        // The message lists the job's actions; a few are enough to spot a typo, and keep it short for large jobs.
        var known = string.Join(", ", names.Keys.Take(20)) + (names.Count > 20 ? $", … ({names.Count} actions)" : "");
        foreach (var a in actions)
        {
            var requires = a.Config.TryGetValue("requires", out var r) && r is List<object?> list ? list.Select(PythonText.Str).ToList() : new List<string>();
            edges.TryAdd(a.TronAction!, requires);
            foreach (var req in requires.Where(req => !names.ContainsKey(req)))
            {
                var src = a.SourceOf("requires");
                findings.Add(new(service, "TronUnknownRequiredAction", FindingSeverity.Error, a.File, src?.Line ?? a.Line, src?.Column ?? 0, $"{a.Instance}.requires",
                    $"Action '{a.Instance}' requires '{req}', which is not an action of job '{job}' ({known})."));
            }
        }
        // Reported once, with the actions on it; the walk is iterative, so a chain of any length is safe.
        if (RequiresGraph.FindCycle(edges, edges.Keys) is { } cycle)
        {
            var first = names[cycle[0]];
            var shown = cycle.Count > 21 ? cycle.Take(10).Append($"… ({cycle.Count - 1} actions) …").Concat(cycle.TakeLast(10)) : cycle;
            findings.Add(new(service, "TronRequiresCycle", FindingSeverity.Error, first.File, first.SourceOf("requires")?.Line ?? first.Line, 0, $"{job}.requires",
                $"The actions of job '{job}' require each other in a cycle: {string.Join(" -> ", shown)}."));
        }
    }

    internal static JsonNode? ToJson(YNode node) => node switch
    {
        YMapping m => new JsonObject(m.Entries.Select(e => KeyValuePair.Create(e.Key, ToJson(e.Value)))),
        YSequence s => new JsonArray(s.Items.Select(ToJson).ToArray()),
        YScalar { Value: null } => null,
        YScalar { Value: bool b } => JsonValue.Create(b),
        YScalar { Value: long l } => JsonValue.Create(l),
        // The schema library compares numbers as decimals (±7.9e28); a larger one would overflow it. Clamped, it
        // still fails every maximum and minimum a soa-configs schema has, and is still a whole number.
        YScalar { Value: double d } when double.IsFinite(d) => JsonValue.Create(Math.Clamp(d, -7.9e28, 7.9e28)),
        YScalar s => JsonValue.Create(s.Value is double ? s.Text : s.Value as string ?? s.Text),
        _ => null,
    };

    private static string[] PointerSegments(string pointer) =>
        pointer.Length <= 1 ? Array.Empty<string>()
        : pointer[1..].Split('/').Select(s => s.Replace("~1", "/").Replace("~0", "~")).ToArray();

    private static string? Suggest(string unknown, HashSet<string> known)
    {
        string? best = null;
        var bestDistance = 3;
        foreach (var k in known)
        {
            if (k == unknown) continue;
            var d = Distance(unknown, k);
            if (d < bestDistance) { bestDistance = d; best = k; }
        }
        return best;
    }

    private static int Distance(string a, string b)
    {
        if (Math.Abs(a.Length - b.Length) > 2) return 99;
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) prev[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (var j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }

    private static List<ConfigFinding> Deduplicate(List<ConfigFinding> findings)
    {
        // The schema and the typed reader can both object to one value; keep the schema's finding.
        var schemaLines = findings.Where(f => f.RuleId is "WrongType" or "InvalidValue" or "MissingKey").Select(f => (f.File, f.Line)).ToHashSet();
        // ...except that "not a mapping" says more than the schema's "should be object".
        var notMapping = findings.Where(f => f.RuleId == "InstanceConfigNotMapping").Select(f => (f.File, f.Line)).ToHashSet();
        return findings
            .Where(f => !(f.RuleId is "ConfigValueWrongType" or "ConfigValueMissing" && schemaLines.Contains((f.File, f.Line))))
            .Where(f => !(f.RuleId == "WrongType" && notMapping.Contains((f.File, f.Line))))
            .DistinctBy(f => (f.RuleId, f.File, f.Line, f.Path)).ToList();
    }
}
