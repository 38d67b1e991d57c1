using System.Globalization;
using System.Text.RegularExpressions;
using Paasta.Config;
using Paasta.IO;
using Paasta.Yaml;

namespace Paasta.Validation;

/// <summary>
/// The checks of `paasta validate` that span more than one file's schema (docs/BEHAVIOUR.md §9.7): CPU burst and
/// CPU overrides that need an acknowledging comment, autoscaling settings, rollback bounds, Tron cleanup actions
/// and secret files. Each returns findings; <see cref="ConfigValidator"/> runs them.
/// </summary>
internal static partial class PaastaValidateRules
{
    /// <summary>cpu_burst_add above this many cores needs an acknowledging comment on its line.</summary>
    public const double CpuBurstThreshold = 2;

    [GeneratedRegex(@"#\s*override-cpu-burst\s+\(.+[A-Z]+-[0-9]+.+\)")]
    private static partial Regex CpuBurstAck();

    [GeneratedRegex(@"#\s*override-cpu-setting\s+\(.+[A-Z]+-[0-9]+.+\)")]
    private static partial Regex CpuSettingAck();

    private static readonly HashSet<string> LongRunning = new(StringComparer.Ordinal) { InstanceTypes.Kubernetes, InstanceTypes.Eks };

    private static bool FromInstanceFile(ValueSource? source) => source is { Origin: ValueOrigin.InstanceFile or ValueOrigin.Template, File: not null };

    /// <summary>PaaSTA leaves instances alone whose file is generated from a template (a TYPE-CLUSTER.in next to it).</summary>
    private static bool IsTemplated(InstanceConfig i) =>
        File.Exists(Path.Combine(Path.GetDirectoryName(i.File) ?? "", $"{i.InstanceType}-{i.Cluster}.in"));

    /// <summary>cpu_burst_add written in the instance file above the threshold, without `# override-cpu-burst (… TICKET-1 …)` on that line.</summary>
    public static IEnumerable<ConfigFinding> CpuBurst(InstanceConfig i, CommentReader comments)
    {
        if (!LongRunning.Contains(i.InstanceType) || IsTemplated(i)) yield break;
        var source = i.SourceOf("cpu_burst_add");
        if (!FromInstanceFile(source) || i.CpuBurstAdd <= CpuBurstThreshold) yield break;
        if (comments.At(source!.File!, source.Line) is { } c && CpuBurstAck().IsMatch(c)) yield break;
        yield return new ConfigFinding(i.Service, "CpuBurstTooHigh", FindingSeverity.Error, source.File, source.Line, source.Column, $"{i.Instance}.cpu_burst_add",
            $"'{i.Instance}' on {i.Cluster}: cpu_burst_add {PythonText.Str(i.CpuBurstAdd)} is above {PythonText.Str(CpuBurstThreshold)} cores. If it is meant, say why on the same line: " +
            "'# override-cpu-burst (reason, see TICKET-123)'.");
    }

    private static readonly string[] PromqlOnly = { "metrics_query", "series_query", "target_type", "resources" };

    /// <summary>Fields a metrics provider type does not take (PaaSTA refuses them).</summary>
    private static IEnumerable<string> UnsupportedFields(string type) => type switch
    {
        "active-requests" => PromqlOnly,
        "arbitrary-promql" => new[] { "desired_active_requests_per_replica" },
        _ => PromqlOnly.Append("desired_active_requests_per_replica"),
    };

    private static readonly HashSet<string> ProviderTypes = new(StringComparer.Ordinal)
        { "cpu", "memory", "uwsgi", "uwsgi-v2", "gunicorn", "piscina", "active-requests", "arbitrary-promql", "worker-load" };

    /// <summary>The autoscaling settings of an autoscaled long-running instance, as `paasta validate` checks them.</summary>
    public static IEnumerable<ConfigFinding> Autoscaling(InstanceConfig i, CommentReader comments)
    {
        if (!LongRunning.Contains(i.InstanceType) || !i.IsAutoscaled || IsTemplated(i)) yield break;
        var autoscaling = i.Config.TryGetValue("autoscaling", out var a) ? a as IReadOnlyDictionary<string, object?> : null;
        var configured = autoscaling is not null && autoscaling.TryGetValue("metrics_providers", out var mp) && mp is List<object?> { Count: > 0 } list
            ? list : new List<object?> { new Dictionary<string, object?>() };
        var at = i.SourceOf("autoscaling") is { Origin: not ValueOrigin.Default } src ? src : null;
        ConfigFinding Finding(string message, ValueSource? where = null) =>
            new(i.Service, "AutoscalingConfigInvalid", FindingSeverity.Error, (where ?? at)?.File ?? i.File, (where ?? at)?.Line ?? i.Line, (where ?? at)?.Column ?? 0,
                $"{i.Instance}.autoscaling", $"'{i.Instance}' on {i.Cluster}: {message}");

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in configured)
        {
            var p = item as IReadOnlyDictionary<string, object?> ?? new Dictionary<string, object?>();
            var type = p.TryGetValue("type", out var t) && t is string ts ? ts : "cpu";
            if (!ProviderTypes.Contains(type)) continue; // the schema names the unknown type
            var policy = p.TryGetValue("decision_policy", out var d) && d is string ds ? ds : "proportional";
            var unsupported = UnsupportedFields(type).FirstOrDefault(p.ContainsKey);
            if (unsupported is not null) { yield return Finding($"metrics provider {type} does not take {unsupported}."); continue; }
            if (policy == "bespoke" && configured.Count > 1) { yield return Finding("the bespoke decision policy cannot be combined with other metrics providers."); continue; }
            if (!seen.Add(type)) { yield return Finding($"metrics provider {type} is listed more than once."); continue; }
            double? setpoint = p.TryGetValue("setpoint", out var sp) && sp is long or double ? Convert.ToDouble(sp, CultureInfo.InvariantCulture) : null;
            switch (type)
            {
                case "active-requests":
                    if (i.Registrations.Count > 1) yield return Finding("the active-requests provider does not work with more than one registration.");
                    else if (setpoint is { } s && s != 0.8) yield return Finding("active-requests takes no setpoint; set desired_active_requests_per_replica instead.");
                    break;
                case "arbitrary-promql":
                    if (!(p.TryGetValue("metrics_query", out var q) && q is string { Length: > 0 })) yield return Finding("the arbitrary-promql provider needs metrics_query.");
                    else if ((setpoint ?? 1.0) <= 0) yield return Finding("the setpoint of arbitrary-promql must be above 0.");
                    break;
                case "cpu" when policy != "bespoke":
                    var cpus = i.SourceOf("cpus");
                    if (!FromInstanceFile(cpus))
                    {
                        if (configured.Count > 1) yield return Finding("CPU-based scaling together with other metrics needs cpus set on the instance (with the override comment).");
                        break;
                    }
                    if (comments.At(cpus!.File!, cpus.Line) is { } c && CpuSettingAck().IsMatch(c)) break;
                    yield return Finding("cpus is set on a CPU-autoscaled instance. If it is meant, say why on the same line: '# override-cpu-setting (reason, see TICKET-123)'.", cpus);
                    break;
            }
        }
    }

    /// <summary>Every rollback condition needs a lower_bound or an upper_bound that is set (null and 0 count as unset, as in paasta validate).</summary>
    public static IEnumerable<ConfigFinding> RollbackBounds(string service, string file, YMapping root)
    {
        if (root["conditions"] is not YMapping conditions)
        {
            if (root["conditions"] is null)
                yield return new ConfigFinding(service, "RollbackConditionsMissing", FindingSeverity.Error, file, root.Line, root.Column, "conditions",
                    $"{Path.GetFileName(file)} has no 'conditions'; paasta validate refuses a rollback file without them.");
            yield break;
        }
        foreach (var (source, queries) in conditions.Entries)
        {
            if (queries is not YSequence seq) continue;
            foreach (var q in seq.Items.OfType<YMapping>())
            {
                if (Truthy(q["lower_bound"]) || Truthy(q["upper_bound"])) continue;
                var query = (q["query"] as YScalar)?.Text ?? "";
                yield return new ConfigFinding(service, "RollbackBoundsMissing", FindingSeverity.Error, file, q.Line, q.Column, $"conditions.{source}",
                    $"{source}: the query '{query}' needs a lower_bound or an upper_bound (a bound of 0 or null counts as not set, as in paasta validate).");
            }
        }
    }

    /// <summary>Python's truth value of a YAML scalar: null, false, 0 and "" are false.</summary>
    private static bool Truthy(YNode? node) => node is YScalar s && s.Value switch
    {
        null => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string str => str.Length > 0,
        _ => true,
    };

    /// <summary>
    /// Each Tron job's cleanup_action, checked as an action (docs/BEHAVIOUR.md §10.4): a container cleanup needs a
    /// deploy group (its own or the job's) and that group must be a step of deploy.yaml's pipeline.
    /// </summary>
    public static IEnumerable<ConfigFinding> TronCleanupActions(ServiceConfig svc)
    {
        foreach (var file in svc.InstanceFiles.Where(f => f.InstanceType == InstanceTypes.Tron))
        {
            YMapping? root;
            try { root = YamlLoader.LoadMappingFile(file.Path); }
            catch (Errors.PaastaException) { continue; } // the file's own checks report it
            if (root is null) continue;
            foreach (var (job, node) in root.Entries)
            {
                if (job.StartsWith('_') || node is not YMapping jobMap || jobMap["cleanup_action"] is not YMapping cleanup) continue;
                InstanceConfig action;
                try { action = InstanceBuilder.TronAction(svc, file, job, jobMap, "cleanup", cleanup, jobMap.KeyNode("cleanup_action")?.Line ?? cleanup.Line); }
                catch (Errors.PaastaException) { continue; } // a wrong type: the schema reports it
                var executor = action.Config.TryGetValue("executor", out var ex) && ex is string e ? e : "paasta";
                var at = action.SourceOf("deploy_group") is { Origin: not ValueOrigin.Default } s ? s : null;
                if (action.DeployGroup is null && executor is "paasta" or "spark")
                    yield return new ConfigFinding(svc.Name, "TronDeployGroupMissing", FindingSeverity.Error, file.Path, action.Line, 0, $"{job}.cleanup.deploy_group",
                        $"The cleanup_action of job '{job}' runs a container ({executor} executor) and needs a deploy_group, on the cleanup_action or its job.");
                else if (action.DeployGroup is { } group && svc.HasDeployYaml && !svc.PipelineSteps.Contains(group))
                    yield return new ConfigFinding(svc.Name, "DeployGroupNotInPipeline", FindingSeverity.Error, at?.File ?? file.Path, at?.Line ?? action.Line, at?.Column ?? 0,
                        $"{job}.cleanup.deploy_group",
                        $"The cleanup_action of job '{job}' deploys from '{group}', which is not a step of deploy.yaml's pipeline ({string.Join(", ", svc.DeployGroups)}).");
            }
        }
    }

    /// <summary>
    /// An env value SECRET(x) / SHARED_SECRET(x) whose secrets/x.json (under the service, or _shared) is not in
    /// soa-configs. A warning: Paasta does not read those files (the Kubernetes Secret may come from elsewhere);
    /// paasta validate fails on it.
    /// </summary>
    public static IEnumerable<ConfigFinding> SecretFiles(InstanceConfig i)
    {
        foreach (var (key, value) in i.Env)
        {
            if (!PaastaEnvironment.IsSecretReference(value, out var shared, out var name)) continue;
            var owner = shared ? "_shared" : i.Config.TryGetValue("service", out var s) && s is string svc ? svc : i.Service;
            var path = Path.Combine(i.SoaDir, owner, "secrets", name + ".json");
            if (File.Exists(path)) continue;
            var at = i.SourceOf($"env.{key}");
            yield return new ConfigFinding(i.Service, "SecretFileMissing", FindingSeverity.Warning, at?.File ?? i.File, at?.Line ?? i.Line, at?.Column ?? 0, $"{i.Instance}.env.{key}",
                $"'{i.Instance}' uses {value}, but soa-configs has no {owner}/secrets/{name}.json; paasta validate refuses that. Paasta reads the Kubernetes Secret only, so this is a warning.");
        }
    }
}

/// <summary>The comment on a line of a soa-configs file, with the comment-only lines right after it (as ruamel attaches them).</summary>
internal sealed class CommentReader
{
    private readonly Dictionary<string, string[]> _lines = new(StringComparer.Ordinal);

    public string? At(string file, int line)
    {
        if (!_lines.TryGetValue(file, out var lines))
        {
            try { lines = BoundedFile.ReadAllText(file).Replace("\r\n", "\n").Split('\n'); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or Errors.PaastaException) { lines = Array.Empty<string>(); }
            _lines[file] = lines;
        }
        if (line < 1 || line > lines.Length) return null;
        var parts = new List<string>();
        if (CommentOf(lines[line - 1]) is { } own) parts.Add(own);
        for (var n = line; n < lines.Length && lines[n].TrimStart().StartsWith('#'); n++) parts.Add(lines[n].Trim());
        return parts.Count == 0 ? null : string.Join("\n", parts);
    }

    /// <summary>The "# …" part of a line, outside quotes; null when it has none.</summary>
    private static string? CommentOf(string line)
    {
        char? quote = null;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote is not null) { if (c == quote) quote = null; continue; }
            if (c is '\'' or '"') quote = c;
            else if (c == '#' && (i == 0 || char.IsWhiteSpace(line[i - 1]))) return line[i..];
        }
        return null;
    }
}
