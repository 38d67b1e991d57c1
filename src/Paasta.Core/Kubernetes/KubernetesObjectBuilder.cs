using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Paasta.Config;
using Paasta.Errors;

namespace Paasta.Kubernetes;

/// <summary>Cluster-wide inputs to object building that do not come from soa-configs (PaaSTA's system config).</summary>
/// <param name="Registry">The docker registry images are pulled from.</param>
/// <param name="SoaConfigsSha">git_sha of &lt;soa_dir&gt;/.metadata.json (PAASTA_SOA_CONFIGS_SHA), or "".</param>
/// <param name="SecretSignatures">Signature per secret reference (e.g. <c>SECRET(x)</c>), so a rotated secret bounces.</param>
public sealed record KubernetesBuildContext(
    string Registry,
    string SoaConfigsSha = "",
    IReadOnlyDictionary<string, string>? SecretSignatures = null)
{
    /// <summary>
    /// The hacheck sidecar image (PaaSTA's hacheck_sidecar_image_url). Null: mesh instances run without the
    /// sidecar and their readiness probe stays on the main container.
    /// </summary>
    public string? HacheckSidecarImage { get; init; }

    /// <summary>PodDisruptionBudget maxUnavailable when bounce_margin_factor is not configured (system pdb_max_unavailable).</summary>
    public int PdbMaxUnavailable { get; init; }
}

/// <summary>
/// Everything Paasta wants on the cluster for one long-running instance: the controller (a Deployment, or a
/// StatefulSet when persistent_volumes is set), its config_sha and replica count, its PodDisruptionBudget and,
/// when autoscaled, its HorizontalPodAutoscaler. PDB and HPA are kept as JSON without apiVersion, because the
/// version depends on what the server serves (policy/v1 or v1beta1; autoscaling/v2 or v2beta2).
/// </summary>
public sealed class DesiredApp
{
    public required InstanceConfig Instance { get; init; }
    public required DeploymentBranch Branch { get; init; }
    public V1Deployment? Deployment { get; init; }
    public V1StatefulSet? StatefulSet { get; init; }
    public required string ConfigSha { get; init; }
    public required int Replicas { get; init; }
    public JsonObject? PodDisruptionBudget { get; init; }
    public JsonObject? HorizontalPodAutoscaler { get; init; }
    /// <summary>Decisions worth telling the user (e.g. the hacheck sidecar left out).</summary>
    public IReadOnlyList<string> Notes { get; init; } = Array.Empty<string>();

    public string Kind => StatefulSet is null ? "Deployment" : "StatefulSet";
    public string Name => Metadata.Name;
    public string Namespace => Metadata.NamespaceProperty;
    public V1ObjectMeta Metadata => Deployment?.Metadata ?? StatefulSet!.Metadata;
    public V1PodTemplateSpec Template => Deployment?.Spec.Template ?? StatefulSet!.Spec.Template;
    /// <summary>The controller object (V1Deployment or V1StatefulSet).</summary>
    public IKubernetesObject<V1ObjectMeta> Controller => (IKubernetesObject<V1ObjectMeta>?)Deployment ?? StatefulSet!;
}

/// <summary>
/// Turns a long-running instance and its deployment into the Kubernetes objects PaaSTA would run (docs/BEHAVIOUR.md §5):
/// names, labels, annotations, the pod with its containers, env, resources, probes, lifecycle, scheduling
/// constraints and volumes, the bounce strategy, the replica count, the config_sha, the PDB and the HPA.
/// Pure: no cluster access, same output for the same input.
/// </summary>
public static class KubernetesObjectBuilder
{
    public const string Owner = "compute_infra_platform_experience";
    public const string ConfigShaLabel = ConfigSha.Label;
    public const string LegacyConfigShaLabel = ConfigSha.LegacyLabel;
    public const string ManagedLabel = "paasta.yelp.com/managed";
    public const string ServiceLabel = "paasta.yelp.com/service";
    public const string InstanceLabel = "paasta.yelp.com/instance";
    public const string ClusterLabel = "paasta.yelp.com/cluster";
    public const string GitShaLabel = "paasta.yelp.com/git_sha";
    public const string ImageVersionLabel = "paasta.yelp.com/image_version";
    public const string AutoscaledLabel = "paasta.yelp.com/autoscaled";
    public const string HacheckContainer = "hacheck";
    public const int HacheckPort = 6666;

    /// <summary>The capabilities dropped unless cap_add adds them back (docs/BEHAVIOUR.md §5.6), in PaaSTA's order.</summary>
    internal static readonly string[] DefaultDroppedCapabilities =
        { "SETPCAP", "MKNOD", "AUDIT_WRITE", "CHOWN", "NET_RAW", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "NET_BIND_SERVICE", "SYS_CHROOT", "SETFCAP" };

    private static readonly HashSet<string> YelpLocationLabels = new(StringComparer.Ordinal) { "datacenter", "ecosystem", "habitat", "hostname", "region", "superregion" };

    /// <summary><c>sanitise(service)-sanitise(instance)</c>: the name of the Deployment/StatefulSet, its PDB and HPA.</summary>
    public static string AppName(string service, string instance) => $"{Names.Sanitise(service)}-{Names.Sanitise(instance)}";

    /// <summary>The full image URL: <c>registry/services-svc:paasta-sha[-iv]</c>.</summary>
    public static string ImageUrl(string registry, DeploymentBranch branch) => $"{registry.TrimEnd('/')}/{branch.DockerImage}";

    /// <summary>Replicas wanted: 0 when stopped, else instances (autoscaled: the live count clamped, or max when none).</summary>
    public static int DesiredReplicas(InstanceConfig instance, DeploymentBranch branch, int? liveReplicas = null)
    {
        if (branch.IsStopped) return 0;
        if (instance.MaxInstances is { } max)
            return (int)Math.Clamp(liveReplicas ?? max, Math.Min(instance.MinInstances, max), max);
        return (int)instance.Instances;
    }

    /// <summary>True when the instance runs as a StatefulSet (persistent_volumes set).</summary>
    public static bool UsesStatefulSet(InstanceConfig instance) =>
        RawConfig.List(new RawConfig(instance.Config)["persistent_volumes"]).Count > 0;

    /// <summary>The Deployment of an instance (throws for StatefulSet instances).</summary>
    public static V1Deployment BuildDeployment(InstanceConfig instance, DeploymentBranch branch, KubernetesBuildContext context, int? liveReplicas = null) =>
        Build(instance, branch, context, liveReplicas).Deployment
        ?? throw new InvalidOperationException($"{instance} runs as a StatefulSet (persistent_volumes is set).");

    /// <summary>Every object Paasta wants for <paramref name="instance"/>.</summary>
    public static DesiredApp Build(InstanceConfig instance, DeploymentBranch branch, KubernetesBuildContext context, int? liveReplicas = null)
    {
        Validate(instance);
        var raw = new RawConfig(instance.Config);
        var notes = new List<string>();
        var name = AppName(instance.Service, instance.Instance);
        var autoscaled = instance.IsAutoscaled ? "true" : "false";

        var controllerLabels = new Dictionary<string, string>
        {
            ["yelp.com/owner"] = Owner,
            ["yelp.com/paasta_service"] = instance.Service,
            ["yelp.com/paasta_instance"] = instance.Instance,
            ["yelp.com/paasta_git_sha"] = branch.GitSha,
            [ServiceLabel] = instance.Service,
            [InstanceLabel] = instance.Instance,
            [GitShaLabel] = branch.GitSha,
            [ClusterLabel] = instance.Cluster,
            [AutoscaledLabel] = autoscaled,
            ["paasta.yelp.com/pool"] = instance.Pool,
            [ManagedLabel] = "true",
        };
        var shard = RawConfig.Text(raw["prometheus_shard"]);
        if (shard is not null) controllerLabels["paasta.yelp.com/prometheus_shard"] = shard;
        if (branch.ImageVersion is { } iv) controllerLabels[ImageVersionLabel] = iv;

        var podLabels = new Dictionary<string, string>
        {
            ["yelp.com/paasta_service"] = instance.Service,
            ["yelp.com/paasta_instance"] = instance.Instance,
            ["yelp.com/paasta_git_sha"] = branch.GitSha,
            [ServiceLabel] = instance.Service,
            [InstanceLabel] = instance.Instance,
            [GitShaLabel] = branch.GitSha,
            [AutoscaledLabel] = autoscaled,
            ["paasta.yelp.com/pool"] = instance.Pool,
            [ClusterLabel] = instance.Cluster,
            ["yelp.com/owner"] = Owner,
            [ManagedLabel] = "true",
        };
        if (instance.DeployGroup is { } group) podLabels["paasta.yelp.com/deploy_group"] = Names.LimitSizeWithHash(group);
        if (instance.IsInSmartstack) podLabels["paasta.yelp.com/weight"] = instance.Weight.ToString(CultureInfo.InvariantCulture);
        if (shard is not null) podLabels["paasta.yelp.com/prometheus_shard"] = shard;
        if (branch.ImageVersion is { } piv) podLabels[ImageVersionLabel] = piv;
        // Metrics scrapers find autoscaled pods by these labels and annotations (docs/BEHAVIOUR.md §5.5).
        var providers = instance.IsAutoscaled ? AutoscalingProviderTypes(raw) : new HashSet<string>();
        if (providers.Contains("piscina")) podLabels["paasta.yelp.com/scrape_piscina_prometheus"] = "true";
        if (providers.Contains("gunicorn") || providers.Contains("worker-load")) podLabels["paasta.yelp.com/scrape_gunicorn_prometheus"] = "true";
        // Opt-in labels other controllers act on (Istio's sidecar injector, the AWS load balancer controller).
        if (RawConfig.Bool(raw["is_istio_sidecar_injection_enabled"]) == true) podLabels["sidecar.istio.io/inject"] = "true";
        if (RawConfig.Bool(raw["enable_aws_lb_readiness_gate"]) == true) podLabels["elbv2.k8s.aws/pod-readiness-gate-inject"] = "enabled";

        var prometheusPort = RawConfig.Integer(raw["prometheus_port"]);
        var prometheusPath = RawConfig.Text(raw["prometheus_path"]);
        var routable = RawConfig.Bool(raw["routable_ip"]) == true || instance.IsInSmartstack || prometheusPort is not null
            || providers.Overlaps(new[] { "uwsgi", "gunicorn", "worker-load" });
        var annotations = new Dictionary<string, string>
        {
            ["paasta.yelp.com/routable_ip"] = routable ? "true" : "false",
            ["iam.amazonaws.com/role"] = "",
        };
        if (providers.Contains("uwsgi")) annotations["autoscaling"] = "uwsgi";
        if (instance.IsInSmartstack) annotations["smartstack_registrations"] = JsonSerializer.Serialize(instance.Registrations);
        if (prometheusPath is not null) annotations["paasta.yelp.com/prometheus_path"] = prometheusPath;
        if (prometheusPort is not null) annotations["paasta.yelp.com/prometheus_port"] = prometheusPort.Value.ToString(CultureInfo.InvariantCulture);

        var template = new V1PodTemplateSpec
        {
            Metadata = new V1ObjectMeta { Labels = podLabels, Annotations = annotations },
            Spec = PodSpec(instance, raw, branch, context, notes),
        };
        var selector = new V1LabelSelector
        {
            MatchLabels = new Dictionary<string, string> { [ServiceLabel] = instance.Service, [InstanceLabel] = instance.Instance },
        };
        var replicas = DesiredReplicas(instance, branch, liveReplicas);
        var metadata = new V1ObjectMeta { Name = name, NamespaceProperty = instance.Namespace, Labels = controllerLabels };

        V1Deployment? deployment = null;
        V1StatefulSet? statefulSet = null;
        var persistentVolumes = RawConfig.List(raw["persistent_volumes"]);
        if (persistentVolumes.Count > 0)
        {
            statefulSet = new V1StatefulSet
            {
                ApiVersion = "apps/v1",
                Kind = "StatefulSet",
                Metadata = metadata,
                Spec = new V1StatefulSetSpec
                {
                    ServiceName = name,
                    Replicas = replicas,
                    RevisionHistoryLimit = 0,
                    Selector = selector,
                    Template = template,
                    PodManagementPolicy = RawConfig.Text(raw["pod_management_policy"]) ?? "OrderedReady",
                    VolumeClaimTemplates = persistentVolumes.Select(PersistentVolumeClaim).ToList(),
                },
            };
        }
        else
        {
            deployment = new V1Deployment
            {
                ApiVersion = "apps/v1",
                Kind = "Deployment",
                Metadata = metadata,
                Spec = new V1DeploymentSpec
                {
                    Replicas = replicas,
                    MinReadySeconds = (int)instance.MinTaskUptime,
                    RevisionHistoryLimit = 0,
                    Selector = selector,
                    Strategy = Strategy(instance),
                    Template = template,
                },
            };
        }

        var sha = ConfigSha.Compute(deployment ?? (object)statefulSet!, branch.ForceBounce, SecretSignaturesFor(instance, context));
        controllerLabels[LegacyConfigShaLabel] = sha;
        controllerLabels[ConfigShaLabel] = sha;
        podLabels[LegacyConfigShaLabel] = sha;
        podLabels[ConfigShaLabel] = sha;

        return new DesiredApp
        {
            Instance = instance,
            Branch = branch,
            Deployment = deployment,
            StatefulSet = statefulSet,
            ConfigSha = sha,
            Replicas = replicas,
            PodDisruptionBudget = PodDisruptionBudget(instance, name, context),
            HorizontalPodAutoscaler = statefulSet is null ? HorizontalPodAutoscaler(instance, raw, branch, name) : null,
            Notes = notes,
        };
    }

    private static void Validate(InstanceConfig instance)
    {
        if (!InstanceTypes.IsLongRunning(instance.InstanceType))
            throw new PaastaException("InstanceNotLongRunning", PaastaErrorKind.InvalidArgument,
                $"{instance} is a {instance.InstanceType} instance; only kubernetes and eks instances run as Deployments.") { Target = instance };
        if (instance.Cmd is not null && instance.Args is not null)
            throw Invalid(instance, "args", "sets both cmd and args; give only one.");
        if (instance.HealthcheckMode == "cmd" && instance.HealthcheckCmd is null)
            throw Invalid(instance, "healthcheck_cmd", "uses healthcheck_mode cmd without healthcheck_cmd.");
        if (instance.HealthcheckMode is { } mode && mode is not ("http" or "https" or "tcp" or "cmd"))
            throw Invalid(instance, "healthcheck_mode", $"has healthcheck_mode '{mode}'; use http, https, tcp or cmd.");
    }

    private static PaastaException Invalid(InstanceConfig instance, string key, string what) =>
        new("InstanceConfigInvalid", PaastaErrorKind.InvalidData, $"{instance.File}:{instance.Line}: {instance.Service}.{instance.Instance} {what}")
        { File = instance.File, Line = instance.Line, Key = key, Target = instance };

    /// <summary>
    /// A whole number the builder reads from the raw config for a 32-bit Kubernetes field: refused when it does not fit,
    /// never wrapped round (docs/RELIABILITY.md, "Limits"), with the file and line the value was written at.
    /// </summary>
    internal static int Int32(InstanceConfig instance, string key, long value)
    {
        if (value is >= int.MinValue and <= int.MaxValue) return (int)value;
        var at = instance.SourceOf(key) is { Origin: not ValueOrigin.Default } source ? (source.File, source.Line) : (instance.File, instance.Line);
        throw new PaastaException("ConfigValueOutOfRange", PaastaErrorKind.InvalidData,
            $"{at.File}:{at.Line}: {instance.Service}.{instance.Instance} '{key}' is {value}, outside the range Kubernetes holds ({int.MinValue:#,0} to {int.MaxValue:#,0}).")
        { File = at.File, Line = at.Line, Key = key, Target = instance };
    }

    /// <summary>
    /// "&lt;int((1 - bounce_margin_factor) × 100)&gt;%" exactly as PaaSTA computes it in floating point, truncating
    /// (0.9 gives "9%", not "10%"), so a cluster managed by both tools agrees on the field.
    /// </summary>
    internal static string MarginPercent(InstanceConfig instance) =>
        $"{(int)((1 - instance.BounceMarginFactor) * 100)}%";

    /// <summary>Deployment strategy per bounce method (docs/BEHAVIOUR.md §6.3).</summary>
    internal static V1DeploymentStrategy Strategy(InstanceConfig instance)
    {
        var overprovision = RawConfig.Number(new RawConfig(instance.Config)["bounce_overprovision_factor"]) ?? 1.0;
        var surge = $"{(int)Math.Round(overprovision * 100, 2)}%";
        return instance.BounceMethod switch
        {
            "downthenup" => new V1DeploymentStrategy { Type = "Recreate" },
            "brutal" => new V1DeploymentStrategy
            {
                Type = "RollingUpdate",
                RollingUpdate = new V1RollingUpdateDeployment { MaxSurge = surge, MaxUnavailable = "100%" },
            },
            // crossover (and upthendown until the bounce engine takes it over): keep bounce_margin_factor available.
            _ => new V1DeploymentStrategy
            {
                Type = "RollingUpdate",
                RollingUpdate = new V1RollingUpdateDeployment
                {
                    MaxSurge = surge,
                    MaxUnavailable = MarginPercent(instance),
                },
            },
        };
    }

    // ------------------------------------------------------------------------------------------ pod

    private static V1PodSpec PodSpec(InstanceConfig instance, RawConfig raw, DeploymentBranch branch, KubernetesBuildContext context, List<string> notes)
    {
        var (volumes, mounts) = Volumes(instance, raw);
        var probe = Probe(instance);
        var sidecar = instance.IsInSmartstack && context.HacheckSidecarImage is not null;
        if (instance.IsInSmartstack && !sidecar)
            notes.Add("no hacheck sidecar image is configured (Set-PaastaConfiguration -HacheckSidecarImage or $env:PAASTA_HACHECK_SIDECAR_IMAGE), so the mesh instance runs without the sidecar and its main container carries the readiness probe" +
                (Bounce.BounceDrainMethod.IsDefaultHacheckWithoutSidecar(instance, hacheckSidecar: false) ? "; bounces drain it with noop, as no hacheck would answer (set drain_method to choose another)" : ""));

        var ports = new List<V1ContainerPort> { new() { ContainerPort = (int)instance.ContainerPort } };
        if (RawConfig.Integer(raw["prometheus_port"]) is { } pp && pp != instance.ContainerPort) ports.Add(new V1ContainerPort { ContainerPort = Int32(instance, "prometheus_port", pp) });

        var (drainSeconds, waitForConnections, preStop) = PreStop(instance, raw);
        var main = new V1Container
        {
            Name = Names.Sanitise(instance.Instance),
            Image = ImageUrl(context.Registry, branch),
            Command = instance.Command?.ToList(),
            Args = instance.Args is { Count: > 0 } args ? args.ToList() : null,
            Env = ContainerEnv(instance, branch, context),
            Ports = ports,
            Resources = Resources(instance),
            LivenessProbe = probe,
            // With the hacheck sidecar, readiness is the sidecar's (is the pod UP in the mesh?); without it the app carries it.
            ReadinessProbe = sidecar ? null : Probe(instance),
            Lifecycle = new V1Lifecycle { PreStop = new V1LifecycleHandler { Exec = new V1ExecAction { Command = preStop } } },
            SecurityContext = SecurityContext(raw),
            VolumeMounts = mounts.Count == 0 ? null : mounts,
        };
        var containers = new List<V1Container> { main };
        if (sidecar) containers.Add(HacheckSidecar(instance, raw, context.HacheckSidecarImage!, drainSeconds));

        var nodeSelector = new Dictionary<string, string>();
        foreach (var (key, value) in RawConfig.Map(raw["node_selectors"]) ?? new Dictionary<string, object?>())
            if (value is string s) nodeSelector[NodeLabel(key)] = s;
        nodeSelector["yelp.com/pool"] = instance.Pool;

        int? grace = RawConfig.Integer(raw.Path("lifecycle", "termination_grace_period_seconds")) is { } g ? Int32(instance, "lifecycle.termination_grace_period_seconds", g)
            : instance.IsInSmartstack ? drainSeconds + 2 + (waitForConnections ? (int)Math.Ceiling(Math.Min(1800, LongestTimeoutMs(instance, raw) / 1000.0 + 300)) : 0)
            : null;

        V1PodSecurityContext? podSecurity = null;
        if (RawConfig.Integer(raw["fs_group"]) is { } fsGroup || RawConfig.Text(raw["fs_group_change_policy"]) is not null)
            podSecurity = new V1PodSecurityContext
            {
                FsGroup = RawConfig.Integer(raw["fs_group"]),
                FsGroupChangePolicy = RawConfig.Text(raw["fs_group_change_policy"]),
            };

        return new V1PodSpec
        {
            ServiceAccountName = RawConfig.Text(raw["service_account_name"]),
            Containers = containers,
            ShareProcessNamespace = true,
            NodeSelector = nodeSelector,
            RestartPolicy = "Always",
            Volumes = volumes.Count == 0 ? null : volumes,
            Affinity = Affinity(instance, raw),
            TopologySpreadConstraints = TopologySpread(instance, raw),
            TerminationGracePeriodSeconds = grace,
            SecurityContext = podSecurity,
        };
    }

    /// <summary>
    /// The pod's volumes and the main container's mounts (docs/BEHAVIOUR.md §5.6), in PaaSTA's order. Mounts:
    /// host paths (extra_volumes and bulkdata, arranged by <see cref="HostVolumes"/>), persistent volumes, secret
    /// volumes, projected service-account tokens. Volumes: one per distinct host-path volume name (the last entry's
    /// path), then one per secret volume and per projected token.
    /// </summary>
    private static (List<V1Volume> Volumes, List<V1VolumeMount> Mounts) Volumes(InstanceConfig instance, RawConfig raw)
    {
        var volumes = new List<V1Volume>();
        var mounts = new List<V1VolumeMount>();

        var host = instance.ExtraVolumes.ToList();
        if (instance.UsesBulkdata) host.Add(new ExtraVolume("/nail/bulkdata", "/nail/bulkdata", "RO"));
        var hostVolumes = new List<V1Volume>();
        foreach (var v in HostVolumes.Arrange(host))
        {
            var name = VolumeName("host--" + v.HostPath);
            var source = new V1HostPathVolumeSource { Path = v.HostPath };
            if (hostVolumes.FirstOrDefault(h => h.Name == name) is { } same) same.HostPath = source;
            else hostVolumes.Add(new V1Volume { Name = name, HostPath = source });
            mounts.Add(new V1VolumeMount { Name = name, MountPath = v.ContainerPath, ReadOnlyProperty = v.Mode == "RO" });
        }
        volumes.AddRange(hostVolumes);

        foreach (var pv in RawConfig.List(raw["persistent_volumes"]))
        {
            var path = RawConfig.Text(RawConfig.Path(pv, "container_path")) ?? "";
            mounts.Add(new V1VolumeMount
            {
                Name = VolumeName("pv--" + path, 253),
                MountPath = path,
                ReadOnlyProperty = (RawConfig.Text(RawConfig.Path(pv, "mode")) ?? "RO") == "RO",
            });
        }

        foreach (var sv in RawConfig.List(raw["secret_volumes"]))
        {
            var secretName = RawConfig.Text(RawConfig.Path(sv, "secret_name")) ?? "";
            var volumeName = VolumeName("secret--" + secretName);
            var rawItems = RawConfig.Path(sv, "items");
            var items = rawItems is null ? null : RawConfig.List(rawItems).Select(i => new V1KeyToPath
            {
                Key = RawConfig.Text(RawConfig.Path(i, "key")) ?? "",
                Path = RawConfig.Text(RawConfig.Path(i, "path")) ?? "",
                Mode = FileMode(instance, "secret_volumes.items.mode", RawConfig.Path(i, "mode")),
            }).ToList();
            volumes.Add(new V1Volume
            {
                Name = volumeName,
                Secret = new V1SecretVolumeSource
                {
                    SecretName = Names.LimitSizeWithHash($"{instance.Namespace}-secret-{Names.Sanitise(instance.Service)}-{Names.Sanitise(secretName)}", 253),
                    DefaultMode = FileMode(instance, "secret_volumes.default_mode", RawConfig.Path(sv, "default_mode")),
                    Items = items,
                    Optional = false,
                },
            });
            mounts.Add(new V1VolumeMount { Name = volumeName, MountPath = RawConfig.Text(RawConfig.Path(sv, "container_path")) ?? "", ReadOnlyProperty = true });
        }

        foreach (var pv in RawConfig.List(raw["projected_sa_volumes"]))
        {
            var audience = RawConfig.Text(RawConfig.Path(pv, "audience")) ?? "";
            var name = VolumeName("projected-sa--" + audience);
            volumes.Add(new V1Volume
            {
                Name = name,
                Projected = new V1ProjectedVolumeSource
                {
                    Sources = new List<V1VolumeProjection>
                    {
                        new()
                        {
                            ServiceAccountToken = new V1ServiceAccountTokenProjection
                            {
                                Audience = audience,
                                ExpirationSeconds = RawConfig.Integer(RawConfig.Path(pv, "expiration_seconds")) ?? DefaultProjectedTokenSeconds,
                                Path = ProjectedTokenPath,
                            },
                        },
                    },
                },
            });
            mounts.Add(new V1VolumeMount { Name = name, MountPath = RawConfig.Text(RawConfig.Path(pv, "container_path")) ?? "", ReadOnlyProperty = true });
        }
        return (volumes, mounts);
    }

    /// <summary>A projected service-account token lives this long unless expiration_seconds says otherwise; its file name in the volume.</summary>
    internal const long DefaultProjectedTokenSeconds = 3600;
    internal const string ProjectedTokenPath = "token";

    /// <summary>
    /// A file mode of soa-configs: a number is taken as it is; a string is octal after its leading "0" ("0765" is
    /// 0o765 = 501), as PaaSTA reads it. Any other string is refused: the API server would refuse the decimal.
    /// </summary>
    internal static int? FileMode(InstanceConfig instance, string key, object? value)
    {
        switch (value)
        {
            case null:
                return null;
            case long or int:
                return Int32(instance, key, RawConfig.Integer(value)!.Value);
            case string s when s.Length >= 2 && s[0] == '0' && s.Skip(1).All(c => c is >= '0' and <= '7') && s.Length <= 11:
                return Convert.ToInt32(s[1..], 8);
            default:
                throw Invalid(instance, key, $"has the file mode '{RawConfig.Text(value)}'; write it as an octal string with a leading 0 (e.g. \"0644\") or as a number.");
        }
    }

    private static V1PersistentVolumeClaim PersistentVolumeClaim(object? pv)
    {
        var path = RawConfig.Text(RawConfig.Path(pv, "container_path")) ?? "";
        var size = RawConfig.Integer(RawConfig.Path(pv, "size")) ?? 1;
        return new V1PersistentVolumeClaim
        {
            Metadata = new V1ObjectMeta { Name = VolumeName("pv--" + path, 253) },
            Spec = new V1PersistentVolumeClaimSpec
            {
                AccessModes = new List<string> { "ReadWriteOnce" },
                StorageClassName = RawConfig.Text(RawConfig.Path(pv, "storage_class_name")) ?? "ebs",
                Resources = new V1VolumeResourceRequirements
                {
                    Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = Quantity($"{size}Gi") },
                },
            },
        };
    }

    /// <summary>Volume names: '/' → slash-, '.' → dot-, sanitised; over the limit, cut and suffixed with -- and 4 hex of MD5.</summary>
    internal static string VolumeName(string name, int limit = 63)
    {
        var s = Names.Sanitise(name.TrimEnd('/').Replace("/", "slash-").Replace(".", "dot-"));
        if (s.Length <= limit) return s;
        var hash = Convert.ToHexString(MD5.HashData(Encoding.UTF8.GetBytes(s))).ToLowerInvariant()[..4];
        return s[..(limit - 6)] + "--" + hash;
    }

    private static List<V1EnvVar> ContainerEnv(InstanceConfig instance, DeploymentBranch branch, KubernetesBuildContext context)
    {
        var literal = new List<V1EnvVar>();
        var secrets = new List<V1EnvVar>();
        foreach (var (key, value) in PaastaEnvironment.Build(instance, branch))
        {
            if (key == "PAASTA_CLUSTER") continue; // re-added below as a field reference to the pod's label
            if (PaastaEnvironment.IsSecretReference(value, out var shared, out var secret))
            {
                // The Secret object is named after namespace, service and secret; inside it the key is the secret's own name.
                secrets.Add(new V1EnvVar { Name = key, ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = SecretName(instance, shared, secret), Key = secret, Optional = false } } });
            }
            else literal.Add(new V1EnvVar { Name = key, Value = value });
        }
        literal.Add(new V1EnvVar { Name = "PAASTA_SOA_CONFIGS_SHA", Value = context.SoaConfigsSha });
        return literal.Concat(secrets).Concat(DownwardApiEnv()).ToList();
    }

    /// <summary>The Kubernetes secret an env <c>SECRET(name)</c> / <c>SHARED_SECRET(name)</c> refers to.</summary>
    public static string SecretName(InstanceConfig instance, bool shared, string secret) =>
        Names.LimitSizeWithHash($"{instance.Namespace}-secret-{Names.Sanitise(shared ? "_shared" : instance.Service)}-{Names.Sanitise(secret)}", 253);

    private static IEnumerable<V1EnvVar> DownwardApiEnv()
    {
        static V1EnvVar Field(string name, string path) => new() { Name = name, ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = path } } };
        yield return Field("PAASTA_POD_IP", "status.podIP");
        yield return Field("POD_NAME", "metadata.name");
        yield return Field("PAASTA_HOST", "spec.nodeName");
        yield return Field("PAASTA_CLUSTER", $"metadata.labels['{ClusterLabel}']");
    }

    /// <summary>The signatures of the secrets the instance's env references (keyed by the reference, e.g. <c>SECRET(x)</c>).</summary>
    private static IReadOnlyDictionary<string, string>? SecretSignaturesFor(InstanceConfig instance, KubernetesBuildContext context)
    {
        if (context.SecretSignatures is not { Count: > 0 } all) return null;
        var picked = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in instance.Env.Values)
            if (PaastaEnvironment.IsSecretReference(value, out _, out _) && all.TryGetValue(value, out var signature)) picked[value] = signature;
        return picked.Count == 0 ? null : picked;
    }

    /// <summary>cpu in cores, memory and ephemeral-storage in MiB, in the form the API server returns them.</summary>
    private static V1ResourceRequirements Resources(InstanceConfig instance)
    {
        static string Num(double v) => v.ToString("0.######", CultureInfo.InvariantCulture);
        var requests = new Dictionary<string, ResourceQuantity>
        {
            ["cpu"] = Quantity(Num(instance.Cpus)),
            ["memory"] = Quantity($"{Num(instance.Mem)}Mi"),
            ["ephemeral-storage"] = Quantity($"{Num(instance.Disk)}Mi"),
        };
        var limits = new Dictionary<string, ResourceQuantity>
        {
            ["cpu"] = Quantity(Num(instance.Cpus + instance.CpuBurstAdd)),
            ["memory"] = Quantity($"{Num(instance.Mem)}Mi"),
            ["ephemeral-storage"] = Quantity($"{Num(instance.Disk)}Mi"),
        };
        if (instance.Gpus is { } gpus)
        {
            requests["nvidia.com/gpu"] = Quantity(((long)gpus).ToString(CultureInfo.InvariantCulture));
            limits["nvidia.com/gpu"] = Quantity(((long)gpus).ToString(CultureInfo.InvariantCulture));
        }
        return new V1ResourceRequirements { Requests = requests, Limits = limits };
    }

    /// <summary>A quantity in canonical form (0.1 → 100m), as the API server stores it, so diffs compare like with like.</summary>
    internal static ResourceQuantity Quantity(string value) => new(new ResourceQuantity(value).CanonicalizeString());

    /// <summary>The healthcheck as a probe (docs/BEHAVIOUR.md §5.6); null when the instance has no healthcheck mode.</summary>
    internal static V1Probe? Probe(InstanceConfig instance)
    {
        if (instance.HealthcheckMode is null) return null;
        var probe = new V1Probe
        {
            FailureThreshold = (int)instance.HealthcheckMaxConsecutiveFailures,
            InitialDelaySeconds = (int)instance.HealthcheckGracePeriodSeconds,
            PeriodSeconds = (int)instance.HealthcheckIntervalSeconds,
            TimeoutSeconds = (int)instance.HealthcheckTimeoutSeconds,
        };
        switch (instance.HealthcheckMode)
        {
            case "http" or "https":
                probe.HttpGet = new V1HTTPGetAction { Path = instance.HealthcheckUri, Port = (int)instance.ContainerPort, Scheme = instance.HealthcheckMode.ToUpperInvariant() };
                break;
            case "tcp":
                probe.TcpSocket = new V1TCPSocketAction { Port = (int)instance.ContainerPort };
                break;
            case "cmd":
                probe.Exec = new V1ExecAction { Command = new List<string> { "/bin/sh", "-c", instance.HealthcheckCmd! } };
                break;
        }
        return probe;
    }

    /// <summary>
    /// preStop (docs/BEHAVIOUR.md §5.6): lifecycle.pre_stop_command when given; otherwise sleep pre_stop_drain_seconds (30 in the
    /// mesh, else 0) and, when pre_stop_wait_for_connections_to_complete (default: in the mesh), wait while
    /// /proc/net/tcp lists an ESTABLISHED connection on the container port.
    /// </summary>
    private static (int DrainSeconds, bool WaitForConnections, List<string> Command) PreStop(InstanceConfig instance, RawConfig raw)
    {
        var drain = Int32(instance, "lifecycle.pre_stop_drain_seconds", RawConfig.Integer(raw.Path("lifecycle", "pre_stop_drain_seconds")) ?? (instance.IsInSmartstack ? 30 : 0));
        var wait = RawConfig.Bool(raw.Path("lifecycle", "pre_stop_wait_for_connections_to_complete")) ?? instance.IsInSmartstack;
        var custom = raw.Path("lifecycle", "pre_stop_command");
        if (custom is not null) return (drain, wait, RawConfig.Strings(custom).ToList());
        var script = $"sleep {drain}";
        if (wait)
        {
            var port = instance.ContainerPort.ToString("X4", CultureInfo.InvariantCulture);
            // /proc/net/tcp rows: "sl: local_ip:PORT rem_ip:PORT st ..." — st 01 is ESTABLISHED. The text is PaaSTA's,
            // character for character, so pods of an instance both tools manage are the same.
            script += $"; while grep '^ *[0-9]*: ........:{port} ........:.... 01 ' /proc/net/tcp; do sleep 1; echo; done";
        }
        return (drain, wait, new List<string> { "/bin/sh", "-c", script });
    }

    /// <summary>max(timeout_server_ms (default 1000), endpoint_timeouts) of the instance's mesh namespace.</summary>
    private static double LongestTimeoutMs(InstanceConfig instance, RawConfig raw)
    {
        var entry = instance.NerveNamespace is null ? null : RawConfig.Path(raw["smartstack"], instance.NerveNamespace);
        var longest = RawConfig.Number(RawConfig.Path(entry, "timeout_server_ms")) ?? 1000;
        foreach (var (_, v) in RawConfig.Map(RawConfig.Path(entry, "endpoint_timeouts")) ?? new Dictionary<string, object?>())
            if (RawConfig.Number(v) is { } t) longest = Math.Max(longest, t);
        return longest;
    }

    /// <summary>Drop PaaSTA's 14 capabilities, minus any cap_add (which is added); privileged only when configured.</summary>
    private static V1SecurityContext SecurityContext(RawConfig raw)
    {
        var add = RawConfig.Strings(raw["cap_add"]);
        var capabilities = add.Count == 0
            ? new V1Capabilities { Drop = DefaultDroppedCapabilities.ToList() }
            : new V1Capabilities { Add = add.ToList(), Drop = DefaultDroppedCapabilities.Where(c => !add.Contains(c)).Order(StringComparer.Ordinal).ToList() };
        return new V1SecurityContext { Capabilities = capabilities, Privileged = RawConfig.Bool(raw["privileged"]) };
    }

    private static V1Container HacheckSidecar(InstanceConfig instance, RawConfig raw, string image, int drainSeconds)
    {
        var registrations = string.Join(" ", instance.Registrations);
        Dictionary<string, ResourceQuantity> Side(string which, Dictionary<string, string> defaults)
        {
            var result = defaults.ToDictionary(d => d.Key, d => Quantity(d.Value));
            foreach (var (k, v) in RawConfig.Map(raw.Path("sidecar_resource_requirements", "hacheck", which)) ?? new Dictionary<string, object?>())
                if (RawConfig.Text(v) is { } q) result[k] = Quantity(q);
            return result;
        }
        var defaults = new Dictionary<string, string> { ["cpu"] = "0.1", ["memory"] = "1024Mi", ["ephemeral-storage"] = "256Mi" };
        return new V1Container
        {
            Name = HacheckContainer,
            Image = image,
            Ports = new List<V1ContainerPort> { new() { ContainerPort = HacheckPort } },
            Env = DownwardApiEnv().Append(new V1EnvVar { Name = "MESH_REGISTRATIONS", Value = registrations }).ToList(),
            Resources = new V1ResourceRequirements { Requests = Side("requests", defaults), Limits = Side("limits", defaults) },
            Lifecycle = new V1Lifecycle
            {
                PreStop = new V1LifecycleHandler
                {
                    Exec = new V1ExecAction { Command = new List<string> { "/bin/sh", "-c", $"/usr/bin/hadown {registrations}; sleep {drainSeconds + 1}" } },
                },
            },
            ReadinessProbe = new V1Probe
            {
                Exec = new V1ExecAction
                {
                    Command = new[] { "flock", "-n", "/readiness_check_lock", "timeout", "120", "/check_smartstack_up.sh", instance.ContainerPort.ToString(CultureInfo.InvariantCulture) }
                        .Concat(instance.Registrations).ToList(),
                },
                InitialDelaySeconds = 10,
                PeriodSeconds = 10,
            },
        };
    }

    // ------------------------------------------------------------------------------------------ scheduling

    /// <summary>PaaSTA's short location names become node label names.</summary>
    internal static string NodeLabel(string name) =>
        name is "instance_type" or "instance-type" ? "node.kubernetes.io/instance-type"
        : YelpLocationLabels.Contains(name) ? $"yelp.com/{name}"
        : name;

    private static V1Affinity? Affinity(InstanceConfig instance, RawConfig raw)
    {
        var required = new List<V1NodeSelectorRequirement>();
        var whitelist = RawConfig.List(raw["deploy_whitelist"]);
        if (whitelist.Count == 2 && RawConfig.Text(whitelist[0]) is { } wlKey)
            required.Add(new V1NodeSelectorRequirement { Key = NodeLabel(wlKey), OperatorProperty = "In", Values = RawConfig.Strings(whitelist[1]).ToList() });
        foreach (var entry in RawConfig.List(raw["deploy_blacklist"]))
        {
            var pair = RawConfig.List(entry);
            if (pair.Count == 2 && RawConfig.Text(pair[0]) is { } blKey)
                required.Add(new V1NodeSelectorRequirement { Key = NodeLabel(blKey), OperatorProperty = "NotIn", Values = RawConfig.Strings(pair[1]).ToList() });
        }
        foreach (var (key, value) in RawConfig.Map(raw["node_selectors"]) ?? new Dictionary<string, object?>())
            if (value is not string) required.AddRange(Requirements(NodeLabel(key), value));

        var preferred = new List<V1PreferredSchedulingTerm>();
        foreach (var p in RawConfig.List(raw["node_selectors_preferred"]))
        {
            var expressions = new List<V1NodeSelectorRequirement>();
            foreach (var (key, value) in RawConfig.Map(RawConfig.Path(p, "preferences")) ?? new Dictionary<string, object?>())
                expressions.AddRange(value is string s
                    ? new[] { new V1NodeSelectorRequirement { Key = NodeLabel(key), OperatorProperty = "In", Values = new List<string> { s } } }
                    : Requirements(NodeLabel(key), value));
            if (expressions.Count > 0)
                preferred.Add(new V1PreferredSchedulingTerm
                {
                    Weight = Int32(instance, "node_selectors_preferred", RawConfig.Integer(RawConfig.Path(p, "weight")) ?? 1),
                    Preference = new V1NodeSelectorTerm { MatchExpressions = expressions },
                });
        }

        V1NodeAffinity? node = null;
        if (required.Count > 0 || preferred.Count > 0)
            node = new V1NodeAffinity
            {
                RequiredDuringSchedulingIgnoredDuringExecution = required.Count == 0 ? null
                    : new V1NodeSelector { NodeSelectorTerms = new List<V1NodeSelectorTerm> { new() { MatchExpressions = required } } },
                PreferredDuringSchedulingIgnoredDuringExecution = preferred.Count == 0 ? null : preferred,
            };

        V1PodAntiAffinity? anti = null;
        var requiredAnti = Conditions(raw["anti_affinity"]).Select(c => AffinityTerm(instance, c)).ToList();
        var preferredAnti = Conditions(raw["anti_affinity_preferred"]).Select(c => new V1WeightedPodAffinityTerm
        {
            Weight = Int32(instance, "anti_affinity_preferred", RawConfig.Integer(RawConfig.Path(c, "weight")) ?? 1),
            PodAffinityTerm = AffinityTerm(instance, c),
        }).ToList();
        if (requiredAnti.Count > 0 || preferredAnti.Count > 0)
            anti = new V1PodAntiAffinity
            {
                RequiredDuringSchedulingIgnoredDuringExecution = requiredAnti.Count == 0 ? null : requiredAnti,
                PreferredDuringSchedulingIgnoredDuringExecution = preferredAnti.Count == 0 ? null : preferredAnti,
            };

        return node is null && anti is null ? null : new V1Affinity { NodeAffinity = node, PodAntiAffinity = anti };
    }

    /// <summary>A list-valued node selector: strings mean In; mappings give In/NotIn values, Exists/DoesNotExist, or Gt/Lt a value.</summary>
    private static IEnumerable<V1NodeSelectorRequirement> Requirements(string key, object? value)
    {
        var items = RawConfig.List(value);
        if (items.Count > 0 && items.All(i => i is not IReadOnlyDictionary<string, object?>))
        {
            yield return new V1NodeSelectorRequirement { Key = key, OperatorProperty = "In", Values = RawConfig.Strings(items).ToList() };
            yield break;
        }
        foreach (var item in items)
        {
            var op = RawConfig.Text(RawConfig.Path(item, "operator")) ?? "In";
            List<string>? values = op switch
            {
                "Exists" or "DoesNotExist" => null,
                "Gt" or "Lt" => new List<string> { (RawConfig.Integer(RawConfig.Path(item, "value")) ?? 0).ToString(CultureInfo.InvariantCulture) },
                _ => RawConfig.Strings(RawConfig.Path(item, "values")).ToList(),
            };
            yield return new V1NodeSelectorRequirement { Key = key, OperatorProperty = op, Values = values };
        }
    }

    private static IEnumerable<object?> Conditions(object? value) => value switch
    {
        IReadOnlyDictionary<string, object?> single => new[] { single },
        _ => RawConfig.List(value),
    };

    private static V1PodAffinityTerm AffinityTerm(InstanceConfig instance, object? condition)
    {
        var labels = new Dictionary<string, string>();
        if (RawConfig.Text(RawConfig.Path(condition, "service")) is { } s) labels[ServiceLabel] = s;
        if (RawConfig.Text(RawConfig.Path(condition, "instance")) is { } i) labels[InstanceLabel] = i;
        return new V1PodAffinityTerm { LabelSelector = new V1LabelSelector { MatchLabels = labels }, TopologyKey = "kubernetes.io/hostname" };
    }

    private static List<V1TopologySpreadConstraint>? TopologySpread(InstanceConfig instance, RawConfig raw)
    {
        var list = RawConfig.List(raw["topology_spread_constraints"]).Select(c => new V1TopologySpreadConstraint
        {
            LabelSelector = new V1LabelSelector
            {
                MatchLabels = new Dictionary<string, string> { [ServiceLabel] = instance.Service, [InstanceLabel] = instance.Instance },
            },
            TopologyKey = RawConfig.Text(RawConfig.Path(c, "topology_key")) ?? "",
            MaxSkew = Int32(instance, "topology_spread_constraints", RawConfig.Integer(RawConfig.Path(c, "max_skew")) ?? 1),
            WhenUnsatisfiable = RawConfig.Text(RawConfig.Path(c, "when_unsatisfiable")) ?? "ScheduleAnyway",
            MatchLabelKeys = RawConfig.Path(c, "match_label_keys") is { } keys ? RawConfig.Strings(keys).ToList() : null,
        }).ToList();
        return list.Count == 0 ? null : list;
    }

    // ------------------------------------------------------------------------------------------ PDB and HPA

    /// <summary>
    /// The PodDisruptionBudget (docs/BEHAVIOUR.md §5.7), without apiVersion: maxUnavailable from bounce_margin_factor when it
    /// is configured, else the cluster default (0); the selector is the controller's.
    /// </summary>
    internal static JsonObject PodDisruptionBudget(InstanceConfig instance, string name, KubernetesBuildContext context)
    {
        JsonNode maxUnavailable = instance.BounceMarginFactorConfigured
            ? JsonValue.Create(MarginPercent(instance))
            : JsonValue.Create(context.PdbMaxUnavailable);
        var spec = new JsonObject
        {
            ["maxUnavailable"] = maxUnavailable,
            ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { [ServiceLabel] = instance.Service, [InstanceLabel] = instance.Instance } },
        };
        if (RawConfig.Text(new RawConfig(instance.Config)["unhealthy_pod_eviction_policy"]) is { } policy) spec["unhealthyPodEvictionPolicy"] = policy;
        return new JsonObject
        {
            ["kind"] = "PodDisruptionBudget",
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["namespace"] = instance.Namespace,
                ["labels"] = new JsonObject { [ServiceLabel] = instance.Service, [InstanceLabel] = instance.Instance, [ManagedLabel] = "true" },
            },
            ["spec"] = spec,
        };
    }

    /// <summary>autoscaling.metrics_providers, or the legacy single metrics_provider/setpoint/decision_policy form (default cpu).</summary>
    private static IReadOnlyList<object?> AutoscalingProviders(RawConfig raw)
    {
        var autoscaling = raw["autoscaling"];
        var providers = RawConfig.List(RawConfig.Path(autoscaling, "metrics_providers"));
        if (providers.Count > 0) return providers;
        return new object?[]
        {
            new Dictionary<string, object?>
            {
                ["type"] = RawConfig.Text(RawConfig.Path(autoscaling, "metrics_provider")) ?? "cpu",
                ["setpoint"] = RawConfig.Path(autoscaling, "setpoint"),
                ["decision_policy"] = RawConfig.Path(autoscaling, "decision_policy"),
            },
        };
    }

    private static HashSet<string> AutoscalingProviderTypes(RawConfig raw) =>
        AutoscalingProviders(raw).Select(p => RawConfig.Text(RawConfig.Path(p, "type")) ?? "cpu").ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// The HorizontalPodAutoscaler (docs/BEHAVIOUR.md §5.7) for an autoscaled, running Deployment, without apiVersion (the
    /// autoscaling/v2 and v2beta2 shapes are the same for these fields); null when none is wanted.
    /// </summary>
    internal static JsonObject? HorizontalPodAutoscaler(InstanceConfig instance, RawConfig raw, DeploymentBranch branch, string name)
    {
        if (branch.IsStopped || instance.MaxInstances is not { } max) return null;
        var min = instance.MinInstances;
        if (min == 0 || max == 0) return null;
        var providers = AutoscalingProviders(raw);
        if (RawConfig.Text(RawConfig.Path(providers[0], "decision_policy")) == "bespoke") return null;

        var metrics = new JsonArray();
        foreach (var p in providers)
            if (MetricSpec(instance, name, p) is { } metric) metrics.Add(metric);
        var scaleDown = new JsonObject
        {
            ["stabilizationWindowSeconds"] = 300,
            ["selectPolicy"] = "Max",
            ["policies"] = new JsonArray(new JsonObject { ["type"] = "Percent", ["value"] = 30, ["periodSeconds"] = 60 }),
        };
        foreach (var (k, v) in RawConfig.Map(RawConfig.Path(raw["autoscaling"], "scaledown_policies")) ?? new Dictionary<string, object?>())
            scaleDown[k] = JsonSerializer.SerializeToNode(v);
        return new JsonObject
        {
            ["kind"] = "HorizontalPodAutoscaler",
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["namespace"] = instance.Namespace,
                ["labels"] = new JsonObject
                {
                    [ServiceLabel] = instance.Service,
                    [InstanceLabel] = instance.Instance,
                    // PaaSTA's HPAs carry the pool under yelp.com/, unlike its Deployments.
                    ["yelp.com/pool"] = instance.Pool,
                    [ManagedLabel] = "true",
                },
            },
            ["spec"] = new JsonObject
            {
                ["scaleTargetRef"] = new JsonObject { ["apiVersion"] = "apps/v1", ["kind"] = "Deployment", ["name"] = name },
                ["minReplicas"] = min,
                ["maxReplicas"] = max,
                ["metrics"] = metrics,
                ["behavior"] = new JsonObject { ["scaleDown"] = scaleDown },
            },
        };
    }

    /// <summary>Providers whose metric is one rule shared by every instance, told apart by a label selector (docs/BEHAVIOUR.md §5.7).</summary>
    private static readonly Dictionary<string, long> SharedRuleWindows = new(StringComparer.Ordinal)
    {
        ["uwsgi"] = 1800, ["uwsgi-v2"] = 1800, ["piscina"] = 1800, ["gunicorn"] = 1800, ["worker-load"] = 1800,
    };

    /// <summary>One metric of the HPA for a metrics provider; null for a provider type PaaSTA does not know (it skips those).</summary>
    private static JsonObject? MetricSpec(InstanceConfig instance, string name, object? provider)
    {
        var type = RawConfig.Text(RawConfig.Path(provider, "type")) ?? "cpu";
        var setpoint = RawConfig.Number(RawConfig.Path(provider, "setpoint")) ?? (type == "arbitrary-promql" ? 1.0 : 0.8);
        var metricName = $"{name}-{type}-prom";
        JsonObject? selector = null;
        if (SharedRuleWindows.TryGetValue(type, out var defaultWindow))
        {
            var window = RawConfig.Integer(RawConfig.Path(provider, "moving_average_window_seconds")) ?? defaultWindow;
            metricName = $"{type}-prom-{window.ToString(CultureInfo.InvariantCulture)}";
            selector = new JsonObject
            {
                ["matchLabels"] = new JsonObject { ["paasta_cluster"] = instance.Cluster, ["paasta_service"] = instance.Service, ["paasta_instance"] = instance.Instance },
            };
        }
        JsonObject ObjectMetric(string targetType, double value)
        {
            var metric = new JsonObject { ["name"] = metricName };
            if (selector is not null) metric["selector"] = selector;
            return new JsonObject
            {
                ["type"] = "Object",
                ["object"] = new JsonObject
                {
                    ["describedObject"] = new JsonObject { ["apiVersion"] = "apps/v1", ["kind"] = "Deployment", ["name"] = name },
                    ["metric"] = metric,
                    ["target"] = targetType == "Value"
                        ? new JsonObject { ["type"] = "Value", ["value"] = Decimal(value) }
                        : new JsonObject { ["type"] = "AverageValue", ["averageValue"] = Decimal(value) },
                },
            };
        }
        return type switch
        {
            "cpu" or "memory" => new JsonObject
            {
                ["type"] = "Resource",
                ["resource"] = new JsonObject
                {
                    ["name"] = type,
                    ["target"] = new JsonObject { ["type"] = "Utilization", ["averageUtilization"] = (int)(setpoint * 100) },
                },
            },
            "uwsgi" or "piscina" or "gunicorn" => ObjectMetric("Value", setpoint),
            // The rule reports the share of the current replicas needed, so the target is always 1.
            "active-requests" => ObjectMetric("Value", 1),
            "arbitrary-promql" => ObjectMetric((RawConfig.Text(RawConfig.Path(provider, "target_type")) ?? "AverageValue") == "AverageValue" ? "AverageValue" : "Value", setpoint),
            "uwsgi-v2" or "worker-load" => ObjectMetric("AverageValue", setpoint),
            _ => null,
        };
    }

    /// <summary>A metric target as a Kubernetes quantity string.</summary>
    private static string Decimal(double v) => new ResourceQuantity(v.ToString("0.######", CultureInfo.InvariantCulture)).CanonicalizeString();
}
