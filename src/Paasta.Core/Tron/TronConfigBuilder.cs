using System.Security.Cryptography;
using System.Text;
using Paasta.Config;
using Paasta.Errors;
using Paasta.Validation;
using Paasta.Yaml;

namespace Paasta.Tron;

/// <summary>
/// create_complete_config and the MASTER namespace (docs/BEHAVIOUR.md §10.2–10.3): each job and action formatted as
/// PaaSTA formats them, every None value left out, dumped as PyYAML does (sorted keys, block style).
/// </summary>
public static class TronConfigBuilder
{
    public const string MasterNamespace = "MASTER";
    public const string Owner = "compute_infra_platform_experience";

    /// <summary>Linux capabilities PaaSTA drops from every container unless the action adds them back (cap_add).</summary>
    public static readonly IReadOnlyList<string> DroppedCapabilities = new[]
        { "SETPCAP", "MKNOD", "AUDIT_WRITE", "CHOWN", "NET_RAW", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "NET_BIND_SERVICE", "SYS_CHROOT", "SETFCAP" };

    private static readonly string[] JobPassThrough =
        { "queueing", "run_limit", "all_nodes", "enabled", "allow_overlap", "max_runtime", "time_zone", "expected_runtime" };

    public static string Sha1(string text) => Convert.ToHexString(SHA1.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant();

    /// <summary>
    /// The namespace config of a service on a cluster from its tron-CLUSTER.yaml, checked as Test-PaastaConfig
    /// checks it. A job with errors is left out and listed in <see cref="TronNamespaceConfig.InvalidJobs"/> (the
    /// caller reports each), so the service's valid jobs still reach the master (docs/DIFFERENCES.md#tron-invalid-jobs);
    /// errors that belong to no single job (templates, the file itself) refuse the whole file (TronConfigInvalid).
    /// No tron file: a namespace without jobs.
    /// </summary>
    /// <param name="controls">Start/stop controls from deployments.json: a job with a stopped action is written disabled.</param>
    public static TronNamespaceConfig BuildServiceNamespace(SoaConfigReader reader, ServiceConfig service, string cluster, TronImageResolver images, TronJobControls? controls = null)
    {
        var path = TronJobReader.FileFor(service, cluster);
        if (!File.Exists(path)) return BuildNamespace(service.Name, cluster, Array.Empty<TronJob>(), images);
        var errors = new ConfigValidator(reader).ValidateService(service.Name)
            .Where(f => f.Severity == FindingSeverity.Error && string.Equals(f.File, path, StringComparison.Ordinal)).ToList();
        var (fileWide, byJob) = TronValidation.FindingsByJob(path, errors);
        if (fileWide.Count > 0)
        {
            var first = fileWide[0];
            throw new PaastaException("TronConfigInvalid", PaastaErrorKind.InvalidData,
                $"{path} is not valid ({fileWide.Count} problem{(fileWide.Count == 1 ? "" : "s")} outside any one job; Test-PaastaConfig -Service {service.Name} lists them): " +
                string.Join(" ", fileWide.Take(3).Select(f => $"{Path.GetFileName(f.File)}:{f.Line}: {f.Message} [{f.RuleId}]")))
            { File = path, Line = first.Line, Column = first.Column, Key = first.Path, Target = service.Name };
        }
        IReadOnlyList<TronJob> jobs = TronJobReader.Load(reader, service, cluster, validate: false, skipJobs: byJob.Keys.ToHashSet(StringComparer.Ordinal));
        if (controls is not null) jobs = controls.Apply(jobs);
        var invalid = byJob.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new TronJobProblem(service.Name, cluster, kv.Key, kv.Value)).ToList();
        return BuildNamespace(service.Name, cluster, jobs, images, path, invalid);
    }

    /// <summary>The namespace config of one service on one cluster: <c>{jobs: {job: …}}</c>.</summary>
    public static TronNamespaceConfig BuildNamespace(string service, string cluster, IReadOnlyList<TronJob> jobs, TronImageResolver images, string? source = null,
        IReadOnlyList<TronJobProblem>? invalidJobs = null)
    {
        var jobDicts = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var job in jobs) jobDicts[job.Name] = JobDict(job, images);
        var warnings = images.Warnings.ToList();
        // PaaSTA merges SSM secrets into secret_env; AWS specifics are out of Paasta's scope (Decision 8).
        foreach (var action in jobs.SelectMany(j => j.CleanupAction is null ? j.Actions : j.Actions.Append(j.CleanupAction)))
            if (action.Config.ContainsKey("ssm_secrets"))
                warnings.Add($"{action.Instance.Instance}: ssm_secrets are accepted but not merged into secret_env (AWS SSM is out of Paasta's scope).");
        return new TronNamespaceConfig
        {
            Namespace = service,
            Cluster = cluster,
            Jobs = jobs.Select(j => j.Name).ToList(),
            Yaml = PyYamlWriter.Dump(new Dictionary<string, object?> { ["jobs"] = jobDicts }),
            Warnings = warnings.Distinct().ToList(),
            Source = source,
            InvalidJobs = invalidJobs ?? Array.Empty<TronJobProblem>(),
            StoppedJobs = jobs.Where(j => j.Stopped).Select(j => new TronStoppedJob(j.Name, j.StoppedActions)).ToList(),
            HasSchedulableAction = jobs.Any(j => j.Actions.Any(a => a.Executor is "paasta" or "ssh" or "spark")),
        };
    }

    /// <summary>format_tron_job_dict: the job's keys, None values omitted.</summary>
    public static Dictionary<string, object?> JobDict(TronJob job, TronImageResolver images)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["node"] = job.Node,
            ["schedule"] = job.ScheduleRaw,
            ["actions"] = job.Actions.ToDictionary(a => a.Name, a => (object?)ActionDict(a, images.For(a)), StringComparer.Ordinal),
            ["monitoring"] = new Dictionary<string, object?>(job.Monitoring, StringComparer.Ordinal),
        };
        foreach (var key in JobPassThrough)
            result[key] = job.Config.TryGetValue(key, out var v) ? v : null;
        result["cleanup_action"] = job.CleanupAction is null ? null : ActionDict(job.CleanupAction, images.For(job.CleanupAction));
        return WithoutNone(result);
    }

    /// <summary>format_tron_action_dict: common keys, then the container keys for the paasta and spark executors.</summary>
    public static Dictionary<string, object?> ActionDict(TronAction action, ActionImage image)
    {
        var c = action.Config;
        object? Get(string key) => c.TryGetValue(key, out var v) ? v : null;
        var instance = action.Instance;
        var result = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["command"] = Get("command"),
            ["executor"] = action.Executor,
            ["requires"] = Get("requires"),
            ["node"] = Get("node"),
            ["retries"] = Get("retries"),
            ["retries_delay"] = Get("retries_delay"),
            ["secret_volumes"] = SecretVolumes(action, Get("secret_volumes")),
            ["expected_runtime"] = Get("expected_runtime"),
            ["trigger_downstreams"] = Get("trigger_downstreams"),
            ["idempotent"] = Get("idempotent") ?? false,
            ["triggered_by"] = Get("triggered_by"),
            ["on_upstream_rerun"] = Get("on_upstream_rerun"),
            ["trigger_timeout"] = Get("trigger_timeout"),
            ["service_account_name"] = Get("service_account_name"),
        };
        if (action.RunsContainer)
        {
            result["executor"] = action.Executor == "spark" ? "spark" : "kubernetes";
            var secretEnv = SecretEnv(action);
            result["secret_env"] = secretEnv;
            var fieldSelectors = new Dictionary<string, object?> { ["PAASTA_POD_IP"] = new Dictionary<string, object?> { ["field_path"] = "status.podIP" } };
            result["field_selector_env"] = fieldSelectors;
            var env = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var (k, v) in TronEnvironment.Build(action, image.Branch))
                if (!PaastaEnvironment.IsSecretReference(v, out _, out _) && !fieldSelectors.ContainsKey(k)) env[k] = v;
            env["ENABLE_PER_INSTANCE_LOGSPOUT"] = "1";
            result["env"] = env;
            var (selectors, affinities) = NodeSelectors(action);
            result["node_selectors"] = selectors;
            result["node_affinities"] = affinities;
            // PaaSTA spreads Tron's pods across zones by default (its enable_tron_tsc; docs/DIFFERENCES.md#tron-topology-spread).
            result["topology_spread_constraints"] = new List<object?>
            {
                new Dictionary<string, object?>
                {
                    ["max_skew"] = 1L,
                    ["label_selector"] = new Dictionary<string, object?>
                    {
                        ["app.kubernetes.io/managed-by"] = "tron",
                        ["paasta.yelp.com/pool"] = instance.Pool,
                    },
                    ["topology_key"] = "topology.kubernetes.io/zone",
                    ["when_unsatisfiable"] = "ScheduleAnyway",
                },
            };
            var capAdd = (Get("cap_add") as List<object?>)?.Select(PythonText.Str).ToList() ?? new List<string>();
            result["cap_add"] = capAdd.Cast<object?>().ToList();
            // PaaSTA lists every default drop here whatever cap_add says (its docker-parameter heritage).
            result["cap_drop"] = DroppedCapabilities.Cast<object?>().ToList();
            var labels = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["paasta.yelp.com/cluster"] = instance.Cluster,
                ["paasta.yelp.com/pool"] = instance.Pool,
                ["paasta.yelp.com/service"] = action.ActionService,
                ["paasta.yelp.com/instance"] = Names.LimitSizeWithHash(instance.Instance, 63, 4),
                ["tron.yelp.com/idempotent-action"] = Get("idempotent") is true ? "true" : "false",
                ["app.kubernetes.io/managed-by"] = "tron",
                ["yelp.com/owner"] = Owner,
            };
            // No yelp.com/cost_owner label: PaaSTA adds it only when its system config enables cost-owner labels.
            result["labels"] = labels;
            result["annotations"] = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["paasta.yelp.com/routable_ip"] = action.Executor == "spark" ? "true" : "false",
                ["paasta.yelp.com/service"] = action.ActionService,
                ["paasta.yelp.com/instance"] = instance.Instance,
            };
            if (Get("iam_role") is string role && role.Length > 0 && (Get("iam_role_provider") as string ?? "aws") == "aws")
                result["service_account_name"] = ServiceAccountForRole(role);
            // Left out when there are none, as PaaSTA leaves it out.
            if (Get("projected_sa_volumes") is List<object?> { Count: > 0 } projected) result["projected_sa_volumes"] = projected;
            result["cpus"] = Get("cpus") ?? 1L;
            result["mem"] = Get("mem") ?? 4096L;
            result["disk"] = Get("disk") ?? 4096L;
            var host = instance.ExtraVolumes.ToList();
            if (Get("uses_bulkdata") is true) host.Add(new ExtraVolume("/nail/bulkdata", "/nail/bulkdata", "RO"));
            result["extra_volumes"] = HostVolumes.Arrange(host).Select(v => (object?)new Dictionary<string, object?>
            {
                ["container_path"] = v.ContainerPath,
                ["host_path"] = v.HostPath,
                ["mode"] = v.Mode,
            }).ToList();
            result["docker_image"] = image.DockerUrl;
        }
        return WithoutNone(result);
    }

    /// <summary><c>paasta--&lt;role&gt;</c>: the IAM role lower-cased, each run of characters other than letters and digits made one '-'.</summary>
    public static string ServiceAccountForRole(string iamRole) =>
        "paasta--" + System.Text.RegularExpressions.Regex.Replace(iamRole.ToLowerInvariant(), "[^0-9a-z]+", "-");

    /// <summary>secret_env: each env value SECRET(x) / SHARED_SECRET(x) as the Kubernetes secret Tron reads in namespace tron.</summary>
    public static Dictionary<string, object?> SecretEnv(TronAction action)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in action.Instance.Env)
        {
            if (!PaastaEnvironment.IsSecretReference(v, out var shared, out var secret)) continue;
            result[k] = new Dictionary<string, object?>
            {
                ["secret_name"] = SecretName(shared ? SharedSecretService : action.ActionService, secret),
                ["key"] = secret,
            };
        }
        return result;
    }

    /// <summary><c>tron-secret-&lt;sanitised service&gt;-&lt;sanitised secret&gt;</c>, cut with a hash at 253 characters.</summary>
    public static string SecretName(string service, string secret) =>
        Names.LimitSizeWithHash($"tron-secret-{Names.Sanitise(service)}-{Names.Sanitise(secret)}", 253);

    /// <summary>
    /// secret_volumes as Tron reads them: each with secret_volume_name, the Kubernetes Secret in namespace tron
    /// (<c>tron-secret-&lt;service&gt;-&lt;secret&gt;</c>, or the _shared form when soa-configs has the secret under
    /// _shared/secrets), items (empty when not given) and default_mode only when given.
    /// </summary>
    private static object? SecretVolumes(TronAction action, object? raw)
    {
        if (raw is not List<object?> list) return new List<object?>();
        var result = new List<object?>();
        foreach (var item in list)
        {
            if (item is not Dictionary<string, object?> v) continue;
            var secretName = v.TryGetValue("secret_name", out var s) ? PythonText.Str(s) : "";
            var shared = File.Exists(Path.Combine(action.Instance.SoaDir, SharedSecretService, "secrets", secretName + ".json"));
            var entry = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["secret_volume_name"] = SecretName(shared ? SharedSecretService : action.ActionService, secretName),
                ["secret_name"] = secretName,
                ["container_path"] = v.TryGetValue("container_path", out var cp) ? cp : null,
                ["items"] = v.TryGetValue("items", out var items) ? items : new List<object?>(),
            };
            if (v.TryGetValue("default_mode", out var mode)) entry["default_mode"] = mode;
            result.Add(entry);
        }
        return result;
    }

    /// <summary>The pseudo-service whose secrets every service may use (SHARED_SECRET).</summary>
    public const string SharedSecretService = "_shared";

    /// <summary>Volume names (docs/BEHAVIOUR.md §5.2): '/' → slash-, '.' → dot-, sanitised, cut to 57 characters plus -- and 4 hex of MD5 when longer than 63.</summary>
    public static string VolumeName(string name)
    {
        var n = Names.Sanitise(name.Replace("/", "slash-").Replace(".", "dot-"));
        if (n.Length <= 63) return n;
        return n[..57] + "--" + Convert.ToHexString(MD5.HashData(Encoding.UTF8.GetBytes(n))).ToLowerInvariant()[..4];
    }

    /// <summary>
    /// String node selectors plus yelp.com/pool; the other selectors (lists of values, requirement mappings),
    /// deploy_whitelist and deploy_blacklist become required node affinities <c>{key, operator, value: [..]}</c>
    /// (null when there are none). Short label names are expanded as PaaSTA does (instance_type, region...).
    /// </summary>
    public static (Dictionary<string, object?> Selectors, List<object?>? Affinities) NodeSelectors(TronAction action)
    {
        var selectors = new Dictionary<string, object?>(StringComparer.Ordinal) { ["yelp.com/pool"] = action.Instance.Pool };
        var affinities = new List<object?>();
        void Require(string key, string op, IEnumerable<object?> values) =>
            affinities.Add(new Dictionary<string, object?> { ["key"] = key, ["operator"] = op, ["value"] = values.Select(PythonText.Str).Cast<object?>().ToList() });

        if (action.Config.TryGetValue("deploy_whitelist", out var allow) && allow is List<object?> { Count: 2 } a && a[1] is List<object?> allowed)
            Require(NodeLabel(PythonText.Str(a[0])), "In", allowed);
        if (action.Config.TryGetValue("deploy_blacklist", out var deny) && deny is List<object?> denied)
            foreach (var d in denied.OfType<List<object?>>().Where(d => d.Count == 2))
                Require(NodeLabel(PythonText.Str(d[0])), "NotIn", new[] { d[1] });
        if (action.Config.TryGetValue("node_selectors", out var raw) && raw is Dictionary<string, object?> map)
        {
            foreach (var (label, value) in map)
            {
                var key = NodeLabel(label);
                switch (value)
                {
                    case string s:
                        selectors[key] = s;
                        break;
                    case List<object?> { Count: > 0 } list when list[0] is string:
                        Require(key, "In", list);
                        break;
                    case List<object?> requirements:
                        foreach (var r in requirements.OfType<Dictionary<string, object?>>())
                        {
                            var op = r.TryGetValue("operator", out var o) ? PythonText.Str(o) : "In";
                            IEnumerable<object?> values = op switch
                            {
                                "In" or "NotIn" => r.TryGetValue("values", out var vs) && vs is List<object?> l ? l : new List<object?>(),
                                "Gt" or "Lt" => new[] { r.TryGetValue("value", out var v) ? v : null },
                                _ => Array.Empty<object?>(),
                            };
                            Require(key, op, values);
                        }
                        break;
                }
            }
        }
        return (selectors, affinities.Count == 0 ? null : affinities);
    }

    /// <summary>PaaSTA's short node label names: instance_type → node.kubernetes.io/instance-type, region → yelp.com/region ...</summary>
    public static string NodeLabel(string label) => label switch
    {
        "instance_type" or "instance-type" => "node.kubernetes.io/instance-type",
        "datacenter" or "ecosystem" or "habitat" or "hostname" or "region" or "superregion" => $"yelp.com/{label}",
        _ => label,
    };

    /// <summary>
    /// The MASTER namespace: <c>&lt;soa_dir&gt;/tron/&lt;cluster&gt;/MASTER.yaml</c> dumped as YAML; when it has
    /// k8s_options and volumes are given, k8s_options.default_volumes becomes them (PaaSTA takes them from its
    /// system <c>volumes</c>; Paasta has no system config, so without volumes the file's own value stays).
    /// Null when the file does not exist.
    /// </summary>
    public static TronNamespaceConfig? BuildMaster(string soaDir, string cluster, IReadOnlyList<ExtraVolume>? defaultVolumes = null)
    {
        var path = MasterPath(soaDir, cluster);
        if (!File.Exists(path)) return null;
        var root = YamlLoader.LoadMappingFile(path);
        var config = root?.ToPlain() as Dictionary<string, object?> ?? new Dictionary<string, object?>();
        if (defaultVolumes is not null && config.TryGetValue("k8s_options", out var k8s) && k8s is Dictionary<string, object?> options)
            options["default_volumes"] = defaultVolumes.Select(v => (object?)new Dictionary<string, object?>
            {
                ["container_path"] = v.ContainerPath,
                ["host_path"] = v.HostPath,
                ["mode"] = v.Mode,
            }).ToList();
        return new TronNamespaceConfig { Namespace = MasterNamespace, Cluster = cluster, Yaml = PyYamlWriter.Dump(config), Source = path };
    }

    public static string MasterPath(string soaDir, string cluster) => Path.Combine(soaDir, "tron", cluster, "MASTER.yaml");

    private static Dictionary<string, object?> WithoutNone(Dictionary<string, object?> d)
    {
        foreach (var key in d.Where(kv => kv.Value is null).Select(kv => kv.Key).ToList()) d.Remove(key);
        return d;
    }
}

/// <summary>The environment of a Tron action (docs/BEHAVIOUR.md §4.4): PaaSTA's variables for the action's service, then the action's env.</summary>
public static class TronEnvironment
{
    public static List<KeyValuePair<string, string>> Build(TronAction action, DeploymentBranch? branch)
    {
        var env = PaastaEnvironment.Build(action.Instance, branch);
        if (action.ActionService != action.Instance.Service)
        {
            // The action runs as the service whose image it uses (job or action key `service`).
            var appId = $"{action.ActionService}.{action.Instance.Instance}";
            for (var i = 0; i < env.Count; i++)
            {
                if (action.Instance.Env.ContainsKey(env[i].Key)) continue;
                if (env[i].Key == "PAASTA_SERVICE") env[i] = new(env[i].Key, action.ActionService);
                else if (env[i].Key == "AWS_SDK_UA_APP_ID") env[i] = new(env[i].Key, appId.Length > 50 ? appId[..50] : appId);
            }
        }
        return env;
    }
}
