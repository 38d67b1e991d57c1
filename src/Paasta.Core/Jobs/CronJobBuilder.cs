using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using Paasta.Config;
using Paasta.Tron;
using Paasta.Errors;

namespace Paasta.Jobs;

/// <summary>The CronJob a Tron job becomes, ready to send (as JSON, for whichever batch API the cluster serves).</summary>
public sealed record CronJobPlan(
    string Name,
    string Namespace,
    JsonObject Body,
    string ConfigSha,
    string Schedule,
    IReadOnlyList<string> Actions,
    IReadOnlyList<string> Notes);

/// <summary>What the cluster's CronJob API can carry: its apiVersion, whether it keeps spec.timeZone, and its release when known.</summary>
public sealed record CronJobTarget(string ApiVersion, bool TimeZones, Version? ServerRelease = null)
{
    public override string ToString() => ServerRelease is null ? ApiVersion : $"{ApiVersion} on Kubernetes {ServerRelease}";
}

/// <summary>
/// Whose CronJob a live object is, read from the labels and annotation Paasta writes. Names alone do not
/// say it: sanitise(service)-sanitise(job) gives service a-b job c and service a job b-c the same name.
/// </summary>
public sealed record CronJobOwner(string? ServiceLabel, string? ClusterLabel, string? JobLabel, string? Job)
{
    public static CronJobOwner Of(JsonNode? live)
    {
        var meta = live?["metadata"];
        string? Text(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        return new CronJobOwner(Text(meta?["labels"]?[CronJobBuilder.ServiceLabel]), Text(meta?["labels"]?[CronJobBuilder.ClusterLabel]),
            Text(meta?["labels"]?[CronJobBuilder.JobLabel]), Text(meta?["annotations"]?[CronJobBuilder.JobAnnotation]));
    }

    public bool IsService(string service, string? cluster = null) =>
        ServiceLabel == CronJobBuilder.LabelValue(service) && (cluster is null || ClusterLabel == CronJobBuilder.LabelValue(cluster));

    /// <summary>The annotation holds the job's name as written; the label (possibly shortened) is the fallback.</summary>
    public bool IsJob(string job) => Job is not null ? Job == job : JobLabel == CronJobBuilder.LabelValue(job);

    public bool Is(string service, string? cluster, string job) => IsService(service, cluster) && IsJob(job);

    public override string ToString() => $"service {ServiceLabel ?? "(none)"} job {Job ?? JobLabel ?? "(none)"} on cluster {ClusterLabel ?? "(none)"}";
}

/// <summary>
/// Turns a Tron job into a Kubernetes CronJob.
/// <para>
/// How actions run in <c>requires</c> order: one Job pod per run, whose containers are the actions in a
/// topological order of <c>requires</c> — every action but the last as an init container, the last as the
/// pod's container. Kubernetes itself runs init containers one at a time, each to completion, in the order
/// listed, and with restartPolicy Never and backoffLimit 0 a failing action fails the pod and therefore the
/// run, and no later action starts. That is Tron's rule (an action starts only after the actions it requires
/// succeeded) carried out by Kubernetes, not by a scheduler of Paasta's making. The alternatives were worse:
/// one Job per action needs something to start each Job when the previous one finishes (a controller Paasta
/// would have to write and keep running), and several containers in one pod run concurrently. The price:
/// actions that Tron could run side by side (no requires between them) run one after another here, and
/// all actions of a job share one pod, so they must agree on the node pool. Pod resources are the largest of
/// the actions', not their sum, because init containers never run alongside each other.
/// </para>
/// </summary>
public static partial class CronJobBuilder
{
    public const string Namespace = "tron";
    public const string ConfigShaLabel = "paasta.yelp.com/config_sha";
    public const string ServiceLabel = "paasta.yelp.com/service";
    public const string ClusterLabel = "paasta.yelp.com/cluster";
    public const string JobLabel = "paasta.yelp.com/job";
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const string ManagedBy = "paasta";
    public const string TronScheduleAnnotation = "paasta.yelp.com/tron_schedule";
    public const string JobAnnotation = "paasta.yelp.com/job";
    public const string ActionsAnnotation = "paasta.yelp.com/actions";
    /// <summary>On a CronJob suspended because deployments.json says stop: the stopped actions, comma-separated.</summary>
    public const string StoppedAnnotation = "paasta.yelp.com/stopped_actions";

    /// <summary>Selects every CronJob (and run) Paasta made from Tron jobs.</summary>
    public const string ManagedSelector = "paasta.yelp.com/managed=true,app.kubernetes.io/managed-by=paasta";

    /// <summary><c>sanitise(service)-sanitise(job)</c>, at most 52 characters (Kubernetes adds 11 for each run's Job).</summary>
    public static string CronJobName(string service, string job) =>
        Names.LimitSizeWithHash($"{Names.Sanitise(service)}-{Names.Sanitise(job)}", 52);

    /// <summary>A label value: the text itself when Kubernetes accepts it, else its sanitised form; at most 63 characters.</summary>
    public static string LabelValue(string text)
    {
        var v = LabelValuePattern().IsMatch(text) ? text : Names.Sanitise(text).Trim('-', '_', '.');
        return Names.LimitSizeWithHash(v, 63);
    }

    [GeneratedRegex(@"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")]
    private static partial Regex LabelValuePattern();

    /// <summary>
    /// The CronJob for <paramref name="job"/>. <paramref name="images"/> gives each container action's image
    /// (all must have one: a job without a deployment yet is the caller's NoDeployment). <paramref name="target"/>
    /// says which batch API to write and whether it keeps a time zone; <paramref name="master"/> is the cluster's
    /// MASTER.yaml, whose time_zone a job without its own inherits, as on a Tron master.
    /// </summary>
    public static CronJobPlan Build(TronJob job, IReadOnlyDictionary<string, ActionImage> images, CronJobTarget target, TronMasterSettings? master = null)
    {
        var translation = CronTranslator.Translate(job.Schedule, job.Name);
        var notes = translation.Notes.ToList();
        foreach (var a in job.Actions.Where(a => !a.RunsContainer))
            throw NotRunnable(job, $"action '{a.Name}' uses the {a.Executor} executor; only container (paasta executor) actions can run as a CronJob");
        foreach (var a in job.Actions.Where(a => a.Executor == "spark"))
            throw NotRunnable(job, $"action '{a.Name}' is a Spark action; Spark is out of Paasta's scope");
        var ordered = job.OrderedActions();
        if (ordered.Count == 0) throw NotRunnable(job, "it has no actions");

        var timeZone = TimeZone(job, target, master, notes);
        // Tron queues a run that comes due while one is going unless queueing: false; Forbid skips it instead.
        if (!job.AllowOverlap && !(job.Config.TryGetValue("queueing", out var queueing) && queueing is false))
            notes.Add("queueing (Tron's default) has no CronJob equivalent: a run due while one is running is skipped (concurrencyPolicy Forbid), not queued");
        if (job.CleanupAction is not null)
            notes.Add("cleanup_action is not run: a CronJob has no step that runs after a failure");
        foreach (var a in ordered.Where(a => a.Config.ContainsKey("ssm_secrets")))
            notes.Add($"ssm_secrets of action '{a.Name}' are ignored: AWS SSM is out of Paasta's scope");
        if (ordered.Any(a => a.Config.ContainsKey("retries")))
            notes.Add("retries are not applied: a failed action fails the run (backoffLimit 0)");

        var name = CronJobName(job.Service, job.Name);
        var labels = new Dictionary<string, string>
        {
            [ServiceLabel] = LabelValue(job.Service),
            [ClusterLabel] = LabelValue(job.Cluster),
            [JobLabel] = LabelValue(job.Name),
            ["paasta.yelp.com/managed"] = "true",
            [ManagedByLabel] = ManagedBy,
            ["yelp.com/owner"] = TronConfigBuilder.Owner,
        };
        var annotations = new Dictionary<string, string>
        {
            [TronScheduleAnnotation] = job.Schedule.ToString(),
            [JobAnnotation] = job.Name,
            [ActionsAnnotation] = string.Join(",", ordered.Select(a => a.Name)),
        };

        var containers = new List<V1Container>();
        var volumes = new Dictionary<string, V1Volume>(StringComparer.Ordinal);
        var nodeSelector = new Dictionary<string, string>(StringComparer.Ordinal);
        var affinities = new List<V1NodeSelectorRequirement>();
        foreach (var action in ordered)
        {
            if (!images.TryGetValue(action.Name, out var image) || !image.HasImage)
                throw new PaastaException("JobNotRunnable", PaastaErrorKind.InvalidData, $"Job '{job.Name}': action '{action.Name}' has no image.") { Target = job };
            containers.Add(Container(job, action, image, volumes));
            var (selectors, actionAffinities) = TronConfigBuilder.NodeSelectors(action);
            foreach (var (k, v) in selectors)
            {
                var value = (string)v!;
                if (nodeSelector.TryGetValue(k, out var other) && other != value)
                    throw NotRunnable(job, $"its actions need different nodes ({k}: {other} and {value}), and a job's actions share one pod");
                nodeSelector[k] = value;
            }
            foreach (var aff in actionAffinities ?? new List<object?>())
            {
                var d = (Dictionary<string, object?>)aff!;
                var values = d["value"] switch
                {
                    List<object?> list => list.Select(Yaml.PythonText.Str).ToList(),
                    null => null,
                    var one => new List<string> { Yaml.PythonText.Str(one) },
                };
                affinities.Add(new V1NodeSelectorRequirement { Key = (string)d["key"]!, OperatorProperty = (string)d["operator"]!, Values = values is { Count: > 0 } ? values : null });
            }
        }

        var podSpec = new V1PodSpec
        {
            RestartPolicy = "Never",
            InitContainers = containers.Count > 1 ? containers.Take(containers.Count - 1).ToList() : null,
            Containers = new List<V1Container> { containers[^1] },
            NodeSelector = nodeSelector,
            Volumes = volumes.Count == 0 ? null : volumes.Values.ToList(),
            Affinity = affinities.Count == 0 ? null : new V1Affinity
            {
                NodeAffinity = new V1NodeAffinity
                {
                    RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector
                    {
                        NodeSelectorTerms = new List<V1NodeSelectorTerm> { new() { MatchExpressions = affinities } },
                    },
                },
            },
        };
        long? deadline = null;
        if (job.Config.TryGetValue("max_runtime", out var maxRuntime) && maxRuntime is not null)
            deadline = ParseTimeDelta(maxRuntime, job, "max_runtime");
        var runLimit = job.Config.TryGetValue("run_limit", out var rl) && rl is long l && l > 0 ? (int)Math.Min(l, 100) : 3;

        var cronJob = new V1CronJob
        {
            ApiVersion = target.ApiVersion,
            Kind = "CronJob",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace, Labels = labels, Annotations = annotations },
            Spec = new V1CronJobSpec
            {
                Schedule = translation.Schedule,
                TimeZone = timeZone,
                Suspend = Suspends(job),
                ConcurrencyPolicy = job.AllowOverlap ? "Allow" : "Forbid",
                SuccessfulJobsHistoryLimit = runLimit,
                FailedJobsHistoryLimit = runLimit,
                JobTemplate = new V1JobTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string>(labels), Annotations = new Dictionary<string, string>(annotations) },
                    Spec = new V1JobSpec
                    {
                        BackoffLimit = 0,
                        ActiveDeadlineSeconds = deadline,
                        Template = new V1PodTemplateSpec
                        {
                            Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string>(labels), Annotations = new Dictionary<string, string> { [JobAnnotation] = job.Name } },
                            Spec = podSpec,
                        },
                    },
                },
            },
        };
        // Only the CronJob says why it is suspended; its runs (the job template) are the same either way.
        if (job.Stopped) annotations[StoppedAnnotation] = string.Join(",", job.StoppedActions);
        var body = JsonNode.Parse(KubernetesJson.Serialize(cronJob))!.AsObject();
        var sha = ConfigSha(body);
        foreach (var path in new[] { "metadata", "spec.jobTemplate.metadata", "spec.jobTemplate.spec.template.metadata" })
        {
            JsonNode? node = body;
            foreach (var part in path.Split('.')) node = node?[part];
            if (node?["labels"] is JsonObject l2) l2[ConfigShaLabel] = sha;
        }
        return new CronJobPlan(name, Namespace, body, sha, translation.Schedule, ordered.Select(a => a.Name).ToList(), notes);
    }

    /// <summary>
    /// Whether the CronJob is suspended: when the job says enabled: false, and while it is stopped (an action's
    /// desired_state is stop in deployments.json, until the next deploy; docs/DIFFERENCES.md).
    /// </summary>
    public static bool Suspends(TronJob job) => !job.Enabled || job.Stopped;

    private static V1Container Container(TronJob job, TronAction action, ActionImage image, Dictionary<string, V1Volume> volumes)
    {
        var instance = action.Instance;
        var command = action.Command ?? throw NotRunnable(job, $"action '{action.Name}' has no command");
        var env = new List<V1EnvVar>();
        var secretEnv = new List<V1EnvVar>();
        foreach (var (key, value) in TronEnvironment.Build(action, image.Branch))
        {
            if (PaastaEnvironment.IsSecretReference(value, out var shared, out var secret))
                secretEnv.Add(new V1EnvVar
                {
                    Name = key,
                    ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = TronConfigBuilder.SecretName(shared ? "_shared" : action.ActionService, secret), Key = secret, Optional = false } },
                });
            else env.Add(new V1EnvVar { Name = key, Value = value });
        }
        env.AddRange(secretEnv);
        env.Add(new V1EnvVar { Name = "PAASTA_POD_IP", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "status.podIP" } } });

        static ResourceQuantity Cpu(double v) => new(v.ToString("0.###", CultureInfo.InvariantCulture));
        static ResourceQuantity Mi(double v) => new($"{v.ToString("0.###", CultureInfo.InvariantCulture)}Mi");
        var resources = new Dictionary<string, ResourceQuantity> { ["cpu"] = Cpu(instance.Cpus), ["memory"] = Mi(instance.Mem), ["ephemeral-storage"] = Mi(instance.Disk) };

        var mounts = new List<V1VolumeMount>();
        foreach (var v in instance.ExtraVolumes)
        {
            var volumeName = TronConfigBuilder.VolumeName($"host--{v.HostPath}");
            volumes.TryAdd(volumeName, new V1Volume { Name = volumeName, HostPath = new V1HostPathVolumeSource { Path = v.HostPath } });
            mounts.Add(new V1VolumeMount { Name = volumeName, MountPath = v.ContainerPath, ReadOnlyProperty = v.ReadOnly });
        }
        if (action.Config.TryGetValue("secret_volumes", out var sv) && sv is List<object?> secretVolumes)
        {
            foreach (var item in secretVolumes.OfType<Dictionary<string, object?>>())
            {
                var secretName = item.TryGetValue("secret_name", out var s) ? Yaml.PythonText.Str(s) : "";
                var volumeName = TronConfigBuilder.VolumeName($"secret--{secretName}");
                var items = item.TryGetValue("items", out var it) && it is List<object?> list
                    ? list.OfType<Dictionary<string, object?>>().Select(i => new V1KeyToPath
                    {
                        Key = i.TryGetValue("key", out var k) ? Yaml.PythonText.Str(k) : "",
                        Path = i.TryGetValue("path", out var p) ? Yaml.PythonText.Str(p) : "",
                    }).ToList()
                    : null;
                volumes.TryAdd(volumeName, new V1Volume
                {
                    Name = volumeName,
                    Secret = new V1SecretVolumeSource { SecretName = TronConfigBuilder.SecretName(action.ActionService, secretName), Items = items },
                });
                mounts.Add(new V1VolumeMount { Name = volumeName, MountPath = item.TryGetValue("container_path", out var cp) ? Yaml.PythonText.Str(cp) : "/", ReadOnlyProperty = true });
            }
        }

        var capAdd = (action.Config.TryGetValue("cap_add", out var ca) ? ca as List<object?> : null)?.Select(Yaml.PythonText.Str).ToList() ?? new List<string>();
        return new V1Container
        {
            Name = Names.Sanitise(action.Name),
            Image = image.DockerUrl,
            ImagePullPolicy = "IfNotPresent",
            Command = CommandTemplate.ContainerCommand(command, job.FullName, action.Name, job.Name).ToList(),
            Env = env,
            Resources = new V1ResourceRequirements { Requests = resources, Limits = new Dictionary<string, ResourceQuantity>(resources) },
            SecurityContext = new V1SecurityContext
            {
                Capabilities = new V1Capabilities
                {
                    Add = capAdd.Count == 0 ? null : capAdd,
                    Drop = TronConfigBuilder.DroppedCapabilities.Where(c => !capAdd.Contains(c)).ToList(),
                },
            },
            VolumeMounts = mounts.Count == 0 ? null : mounts,
        };
    }

    /// <summary>Zone names that are UTC itself (tz links to Etc/UTC): a controller on UTC runs them exactly.</summary>
    private static readonly HashSet<string> UtcNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "UTC", "Etc/UTC", "UCT", "Etc/UCT", "GMT", "Etc/GMT", "GMT0", "Etc/GMT0", "GMT+0", "Etc/GMT+0", "GMT-0", "Etc/GMT-0",
        "Greenwich", "Etc/Greenwich", "Universal", "Etc/Universal", "Zulu", "Etc/Zulu",
    };

    /// <summary>
    /// spec.timeZone: the job's time_zone, else MASTER.yaml's. Where the API cannot keep it, a UTC zone is
    /// left out (the controller's clock; UTC is assumed) and any other zone is refused, because the
    /// schedule would silently run hours off.
    /// </summary>
    private static string? TimeZone(TronJob job, CronJobTarget target, TronMasterSettings? master, List<string> notes)
    {
        var own = job.Config.TryGetValue("time_zone", out var raw) && raw is string s && s.Trim().Length > 0 ? s.Trim() : null;
        var zone = own ?? master?.TimeZone;
        if (zone is null) return null;
        var from = own is not null ? $"its time_zone {zone}" : $"time_zone {zone} of {master!.Path}";
        if (target.TimeZones) return zone;
        if (UtcNames.Contains(zone))
        {
            notes.Add($"{from} is not written ({target} has no spec.timeZone): the schedule runs in the CronJob controller's clock, taken to be UTC");
            return null;
        }
        throw new PaastaException("JobTimeZoneNotSupported", PaastaErrorKind.ResourceUnavailable,
            $"Job '{job.Name}' of {job.Service} cannot run as a Kubernetes CronJob here: {from} needs spec.timeZone, which CronJobs have only in batch/v1 " +
            $"from Kubernetes {CronJobApi.TimeZoneRelease}, and this cluster serves {target}; the schedule would run in the controller's clock (UTC) instead. " +
            $"Write the schedule in UTC and set time_zone: UTC on the job.")
        { File = own is not null ? job.File : master!.Path, Line = own is not null ? job.Line : 0, Key = own is not null ? $"{job.Name}.time_zone" : "time_zone", Target = job };
    }

    /// <summary>Tron time spans (max_runtime, expected_runtime): <c>90s</c>, <c>30m</c>, <c>2 h</c>, <c>1d</c>, or a number of seconds.</summary>
    public static long ParseTimeDelta(object value, TronJob job, string key)
    {
        if (value is long seconds && seconds > 0) return seconds;
        if (value is string text && TronSchedule.TryParseInterval(text, out var span, out _)) return (long)span.TotalSeconds;
        throw NotRunnable(job, $"{key} '{Yaml.PythonText.Str(value)}' is not a time span such as 30m or 2h");
    }

    /// <summary>
    /// <c>config</c> + 8 hex of MD5 over the CronJob without its API version, namespace and config_sha labels,
    /// serialised with sorted keys: the same job and images give the same value on every machine.
    /// </summary>
    public static string ConfigSha(JsonObject body)
    {
        var copy = JsonNode.Parse(body.ToJsonString())!.AsObject();
        copy.Remove("apiVersion");
        copy["metadata"]?.AsObject().Remove("namespace");
        foreach (var path in new[] { "metadata", "spec.jobTemplate.metadata", "spec.jobTemplate.spec.template.metadata" })
        {
            JsonNode? node = copy;
            foreach (var part in path.Split('.')) node = node?[part];
            (node?["labels"] as JsonObject)?.Remove(ConfigShaLabel);
        }
        return "config" + Convert.ToHexString(MD5.HashData(Encoding.UTF8.GetBytes(Canonical(copy)))).ToLowerInvariant()[..8];
    }

    private static string Canonical(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => JsonSerializer.Serialize(p.Key) + ":" + Canonical(p.Value))) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Canonical)) + "]",
        null => "null",
        _ => node.ToJsonString(),
    };

    private static PaastaException NotRunnable(TronJob job, string why) =>
        new("JobNotRunnable", PaastaErrorKind.InvalidData, $"Job '{job.Name}' of {job.Service} cannot run as a Kubernetes CronJob: {why}.")
        { File = job.File, Line = job.Line, Key = job.Name, Target = job };
}
