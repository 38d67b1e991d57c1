using System.Text.Json.Nodes;
using Paasta.Config;
using Paasta.Validation;
using Paasta.Yaml;
using Paasta.Errors;

namespace Paasta.Tron;

/// <summary>One action of a Tron job: its effective instance config (<c>job.action</c>) and what Tron needs from it.</summary>
public sealed class TronAction
{
    public required string Name { get; init; }
    /// <summary>The action as an instance (docs/BEHAVIOUR.md §10.1: not merged with service.yaml; service, deploy_group, cost_owner from the job).</summary>
    public required InstanceConfig Instance { get; init; }
    /// <summary>paasta (the default: a container on Kubernetes), ssh or spark.</summary>
    public required string Executor { get; init; }
    /// <summary>The service whose image the action runs: the action's or job's <c>service</c>, else the owning service.</summary>
    public required string ActionService { get; init; }
    public IReadOnlyList<string> Requires { get; init; } = Array.Empty<string>();
    public string? Command => Instance.Config.TryGetValue("command", out var c) ? c as string ?? PythonText.Str(c) : null;
    public bool RunsContainer => Executor is "paasta" or "spark";
    public IReadOnlyDictionary<string, object?> Config => Instance.Config;
    public override string ToString() => Instance.Instance;
}

/// <summary>A Tron job of tron-CLUSTER.yaml with its actions, in the order they are written.</summary>
public sealed class TronJob
{
    public required string Service { get; init; }
    public required string Cluster { get; init; }
    public required string Name { get; init; }
    public required string File { get; init; }
    public int Line { get; init; }
    /// <summary>The job's mapping as plain values (actions included, as written).</summary>
    public required IReadOnlyDictionary<string, object?> Config { get; init; }
    public required IReadOnlyList<TronAction> Actions { get; init; }
    public TronAction? CleanupAction { get; init; }
    /// <summary>monitoring.yaml overlaid with the job's monitoring, only the keys Tron's schema allows.</summary>
    public required IReadOnlyDictionary<string, object?> Monitoring { get; init; }

    public object? ScheduleRaw => Config.TryGetValue("schedule", out var s) ? s : null;
    public TronSchedule Schedule => TronSchedule.Parse(ScheduleRaw, Name);
    public string Node => Config.TryGetValue("node", out var n) && n is string s ? s : "paasta";
    /// <summary>Tron's <c>enabled</c> (default true); false also while the job is stopped (<see cref="StoppedActions"/>).</summary>
    public bool Enabled => !(Config.TryGetValue("enabled", out var e) && e is false);
    /// <summary>
    /// The actions deployments.json says to stop (Stop-PaastaInstance on job.action): while there is one, the job
    /// is not scheduled (docs/DIFFERENCES.md, "Stopping a scheduled job"). Empty when the job runs.
    /// </summary>
    public IReadOnlyList<string> StoppedActions { get; init; } = Array.Empty<string>();
    public bool Stopped => StoppedActions.Count > 0;
    public bool AllowOverlap => Config.TryGetValue("allow_overlap", out var o) && o is true;
    /// <summary><c>service.job</c>, as Tron names the job inside the service's namespace.</summary>
    public string FullName => $"{Service}.{Name}";

    /// <summary>
    /// The actions in an order that honours <c>requires</c> (each after everything it requires), keeping
    /// the written order where requires leaves a choice. Unknown names and cycles are refused.
    /// </summary>
    public IReadOnlyList<TronAction> OrderedActions()
    {
        var byName = new HashSet<string>(Actions.Select(a => a.Name), StringComparer.Ordinal);
        foreach (var a in Actions)
            foreach (var r in a.Requires.Where(r => !byName.Contains(r)))
                throw new PaastaException("TronConfigInvalid", PaastaErrorKind.InvalidData,
                    $"{File}:{a.Instance.Line}: action '{a.Instance.Instance}' requires '{r}', which is not an action of job '{Name}'.")
                { File = File, Line = a.Instance.Line, Key = $"{a.Instance.Instance}.requires", Target = this };
        // Linear in actions and requires, without recursion (docs/RELIABILITY.md, "Limits").
        var order = RequiresGraph.Order(Actions.Select(a => a.Name).ToList(), i => Actions[i].Requires, out var unordered);
        if (order is null)
            throw new PaastaException("TronConfigInvalid", PaastaErrorKind.InvalidData,
                $"{File}:{Line}: the actions of job '{Name}' require each other in a cycle ({string.Join(", ", unordered.Take(20).Select(i => Actions[i].Name))}{(unordered.Count > 20 ? ", …" : "")}).")
            { File = File, Line = Line, Key = $"{Name}.actions", Target = this };
        return order.Select(i => Actions[i]).ToList();
    }

    /// <summary>
    /// This job stopped because of <paramref name="actions"/>: a copy whose <c>enabled</c> is false, which is how
    /// Tron's config says a job is not scheduled, and which the CronJob carries as spec.suspend.
    /// </summary>
    public TronJob StoppedBy(IReadOnlyList<string> actions)
    {
        if (actions.Count == 0) return this;
        var config = new Dictionary<string, object?>(Config, StringComparer.Ordinal) { ["enabled"] = false };
        return new TronJob
        {
            Service = Service,
            Cluster = Cluster,
            Name = Name,
            File = File,
            Line = Line,
            Config = config,
            Actions = Actions,
            CleanupAction = CleanupAction,
            Monitoring = Monitoring,
            StoppedActions = actions,
        };
    }

    public override string ToString() => $"{FullName} on {Cluster}";
}

/// <summary>Reads the Tron jobs of a service for one cluster from <c>tron-&lt;cluster&gt;.yaml</c>.</summary>
public static class TronJobReader
{
    private static readonly Lazy<HashSet<string>> MonitoringKeys = new(LoadMonitoringKeys);

    public static string FileFor(ServiceConfig service, string cluster) => Path.Combine(service.Directory, $"tron-{cluster}.yaml");

    /// <summary>Clusters the service has a tron-CLUSTER.yaml for.</summary>
    public static IReadOnlyList<string> Clusters(ServiceConfig service) =>
        service.InstanceFiles.Where(f => f.InstanceType == InstanceTypes.Tron).Select(f => f.Cluster).Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// The jobs of <paramref name="service"/> on <paramref name="cluster"/> (none when it has no tron file
    /// for the cluster). With <paramref name="validate"/>, the file must first pass Test-PaastaConfig's
    /// checks (schema, requires, deploy groups, schedules): an invalid file is refused whole (TronConfigInvalid),
    /// so no half of a namespace is ever published.
    /// </summary>
    /// <param name="skipJobs">Jobs to leave out, unread (invalid ones the caller reports itself).</param>
    public static IReadOnlyList<TronJob> Load(SoaConfigReader reader, ServiceConfig service, string cluster, bool validate = true, IReadOnlySet<string>? skipJobs = null)
    {
        var path = FileFor(service, cluster);
        if (!System.IO.File.Exists(path)) return Array.Empty<TronJob>();
        if (validate)
        {
            var problems = new ConfigValidator(reader).ValidateService(service.Name)
                .Where(f => f.Severity == FindingSeverity.Error && string.Equals(f.File, path, StringComparison.Ordinal)).ToList();
            if (problems.Count > 0)
            {
                var first = problems[0];
                throw new PaastaException("TronConfigInvalid", PaastaErrorKind.InvalidData,
                    $"{path} is not valid ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}; Test-PaastaConfig -Service {service.Name} lists them): " +
                    string.Join(" ", problems.Take(3).Select(f => $"{Path.GetFileName(f.File)}:{f.Line}: {f.Message} [{f.RuleId}]")))
                { File = path, Line = first.Line, Column = first.Column, Key = first.Path, Target = service.Name };
            }
        }
        var root = YamlLoader.LoadMappingFile(path);
        if (root is null) return Array.Empty<TronJob>();

        var actionsByJob = new Dictionary<string, List<InstanceConfig>>(StringComparer.Ordinal);
        foreach (var r in reader.LoadInstances(service, new InstanceFilter(c => c == cluster, null, t => t == InstanceTypes.Tron)))
        {
            if (r.Error is not null && skipJobs is { Count: > 0 } && TronValidation.JobAt(root, r.Error.Line) is { } bad && skipJobs.Contains(bad)) continue;
            if (r.Error is not null) throw r.Error;
            if (skipJobs?.Contains(r.Value!.TronJob!) == true) continue;
            var i = r.Value!;
            if (!actionsByJob.TryGetValue(i.TronJob!, out var list)) actionsByJob[i.TronJob!] = list = new();
            list.Add(i);
        }

        var file = service.InstanceFiles.First(f => f.Path == path || Path.GetFullPath(f.Path) == Path.GetFullPath(path));
        var jobs = new List<TronJob>();
        foreach (var (name, node) in root.Entries)
        {
            if (name.StartsWith('_') || skipJobs?.Contains(name) == true) continue;
            if (node is not YMapping jobMap)
                throw new PaastaException("InstanceConfigNotMapping", PaastaErrorKind.InvalidData,
                    $"{path}:{node.Line}: job '{name}' must be a mapping of settings, not a {YamlLoader.Describe(node)}.")
                { File = path, Line = node.Line, Column = node.Column, Key = name, Target = name };
            var config = (IReadOnlyDictionary<string, object?>)jobMap.ToPlain()!;
            var actions = (actionsByJob.GetValueOrDefault(name) ?? new()).Select(i => Action(service, i)).ToList();
            TronAction? cleanup = null;
            if (jobMap["cleanup_action"] is YMapping cleanupMap)
            {
                var instance = InstanceBuilder.TronAction(service, file, name, jobMap, "cleanup", cleanupMap, jobMap.KeyNode("cleanup_action")?.Line ?? cleanupMap.Line);
                cleanup = Action(service, instance);
            }
            jobs.Add(new TronJob
            {
                Service = service.Name,
                Cluster = cluster,
                Name = name,
                File = path,
                Line = root.KeyNode(name)?.Line ?? node.Line,
                Config = config,
                Actions = actions,
                CleanupAction = cleanup,
                Monitoring = Monitoring(service, jobMap["monitoring"] as YMapping),
            });
        }
        return jobs;
    }

    private static TronAction Action(ServiceConfig service, InstanceConfig i)
    {
        var requires = i.Config.TryGetValue("requires", out var r) switch
        {
            true when r is List<object?> list => list.Select(PythonText.Str).ToList(),
            true when r is string one => new List<string> { one },
            _ => new List<string>(),
        };
        return new TronAction
        {
            Name = i.TronAction!,
            Instance = i,
            Executor = i.Config.TryGetValue("executor", out var e) && e is string ex ? ex : "paasta",
            ActionService = i.Config.TryGetValue("service", out var s) && s is string svc ? svc : service.Name,
            Requires = requires,
        };
    }

    /// <summary>monitoring.yaml, then the job's monitoring over it (shallow), filtered to the tron schema's monitoring keys.</summary>
    internal static IReadOnlyDictionary<string, object?> Monitoring(ServiceConfig service, YMapping? jobMonitoring)
    {
        var merged = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (service.MonitoringYaml?.ToPlain() is Dictionary<string, object?> fromFile)
            foreach (var (k, v) in fromFile) merged[k] = v;
        if (jobMonitoring?.ToPlain() is Dictionary<string, object?> fromJob)
            foreach (var (k, v) in fromJob) merged[k] = v;
        return merged.Where(kv => MonitoringKeys.Value.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
    }

    private static HashSet<string> LoadMonitoringKeys()
    {
        using var stream = typeof(TronJobReader).Assembly.GetManifestResourceStream("Paasta.Schemas.tron.schema.json")
            ?? throw new InvalidOperationException("The tron schema is not embedded in Paasta.Core.");
        var schema = JsonNode.Parse(stream);
        var props = schema?["definitions"]?["job"]?["properties"]?["monitoring"]?["properties"] as JsonObject;
        return props is null ? new HashSet<string>(StringComparer.Ordinal) : props.Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
    }
}
