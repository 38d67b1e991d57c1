using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Paasta.Config;

namespace Paasta.Kubernetes;

/// <summary>Cluster-wide inputs to object building that do not come from soa-configs.</summary>
public sealed record KubernetesBuildContext(
    string Registry,
    string SoaConfigsSha = "",
    IReadOnlyDictionary<string, string>? SecretSignatures = null);

/// <summary>
/// Turns a long-running instance and its deployment into the Kubernetes Deployment PaaSTA would run
/// (spec §5): names, labels, annotations, the container with its env, resources and probes, the
/// bounce strategy, and the config_sha that tells whether a running copy is current.
/// </summary>
public static class KubernetesObjectBuilder
{
    public const string Owner = "compute_infra_platform_experience";
    public const string ConfigShaLabel = "paasta.yelp.com/config_sha";
    public const string LegacyConfigShaLabel = "yelp.com/paasta_config_sha";

    private static readonly string[] DefaultDroppedCapabilities =
        { "SETPCAP", "MKNOD", "AUDIT_WRITE", "CHOWN", "NET_RAW", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "NET_BIND_SERVICE", "SYS_CHROOT", "SETFCAP" };

    /// <summary><c>sanitise(service)-sanitise(instance)</c>: the name of the Deployment, its PDB and HPA.</summary>
    public static string AppName(string service, string instance) => $"{Names.Sanitise(service)}-{Names.Sanitise(instance)}";

    /// <summary>The full image URL: <c>registry/services-svc:paasta-sha[-iv]</c>.</summary>
    public static string ImageUrl(string registry, DeploymentBranch branch) => $"{registry.TrimEnd('/')}/{branch.DockerImage}";

    /// <summary>Replicas wanted: 0 when stopped, else instances (autoscaled: the live count clamped, or max when none).</summary>
    public static int DesiredReplicas(InstanceConfig instance, DeploymentBranch branch, int? liveReplicas = null)
    {
        if (branch.IsStopped) return 0;
        if (instance.MaxInstances is { } max)
            return (int)Math.Clamp(liveReplicas ?? max, instance.MinInstances, max);
        return (int)instance.Instances;
    }

    public static V1Deployment BuildDeployment(InstanceConfig instance, DeploymentBranch branch, KubernetesBuildContext context, int? liveReplicas = null)
    {
        if (instance.Cmd is not null && instance.Args is not null)
            throw new PaastaException("InstanceConfigInvalid", PaastaErrorKind.InvalidData,
                $"{instance.File}:{instance.Line}: {instance.Service}.{instance.Instance} sets both cmd and args; give only one.")
            { File = instance.File, Line = instance.Line, Key = "args", Target = instance.ToString() };
        if (instance.HealthcheckMode == "cmd" && instance.HealthcheckCmd is null)
            throw new PaastaException("InstanceConfigInvalid", PaastaErrorKind.InvalidData,
                $"{instance.File}:{instance.Line}: {instance.Service}.{instance.Instance} uses healthcheck_mode cmd without healthcheck_cmd.")
            { File = instance.File, Line = instance.Line, Key = "healthcheck_cmd", Target = instance.ToString() };

        var name = AppName(instance.Service, instance.Instance);
        var controllerLabels = new Dictionary<string, string>
        {
            ["yelp.com/owner"] = Owner,
            ["yelp.com/paasta_service"] = instance.Service,
            ["yelp.com/paasta_instance"] = instance.Instance,
            ["yelp.com/paasta_git_sha"] = branch.GitSha,
            ["paasta.yelp.com/service"] = instance.Service,
            ["paasta.yelp.com/instance"] = instance.Instance,
            ["paasta.yelp.com/git_sha"] = branch.GitSha,
            ["paasta.yelp.com/cluster"] = instance.Cluster,
            ["paasta.yelp.com/autoscaled"] = instance.IsAutoscaled ? "true" : "false",
            ["paasta.yelp.com/pool"] = instance.Pool,
            ["paasta.yelp.com/managed"] = "true",
        };
        if (branch.ImageVersion is { } iv) controllerLabels["paasta.yelp.com/image_version"] = iv;

        var podLabels = new Dictionary<string, string>
        {
            ["yelp.com/paasta_service"] = instance.Service,
            ["yelp.com/paasta_instance"] = instance.Instance,
            ["yelp.com/paasta_git_sha"] = branch.GitSha,
            ["paasta.yelp.com/service"] = instance.Service,
            ["paasta.yelp.com/instance"] = instance.Instance,
            ["paasta.yelp.com/git_sha"] = branch.GitSha,
            ["paasta.yelp.com/autoscaled"] = instance.IsAutoscaled ? "true" : "false",
            ["paasta.yelp.com/pool"] = instance.Pool,
            ["paasta.yelp.com/cluster"] = instance.Cluster,
            ["yelp.com/owner"] = Owner,
            ["paasta.yelp.com/managed"] = "true",
        };
        if (instance.DeployGroup is { } group) podLabels["paasta.yelp.com/deploy_group"] = Names.LimitSizeWithHash(group);
        if (instance.IsInSmartstack) podLabels["paasta.yelp.com/weight"] = instance.Weight.ToString(CultureInfo.InvariantCulture);
        if (branch.ImageVersion is { } piv) podLabels["paasta.yelp.com/image_version"] = piv;

        var annotations = new Dictionary<string, string>
        {
            ["paasta.yelp.com/routable_ip"] = instance.IsInSmartstack ? "true" : "false",
            ["iam.amazonaws.com/role"] = "",
        };
        if (instance.IsInSmartstack) annotations["smartstack_registrations"] = JsonSerializer.Serialize(instance.Registrations);

        var deployment = new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = instance.Namespace, Labels = controllerLabels },
            Spec = new V1DeploymentSpec
            {
                Replicas = DesiredReplicas(instance, branch, liveReplicas),
                MinReadySeconds = (int)instance.MinTaskUptime,
                RevisionHistoryLimit = 0,
                Selector = new V1LabelSelector
                {
                    MatchLabels = new Dictionary<string, string>
                    {
                        ["paasta.yelp.com/service"] = instance.Service,
                        ["paasta.yelp.com/instance"] = instance.Instance,
                    },
                },
                Strategy = Strategy(instance),
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = podLabels, Annotations = annotations },
                    Spec = PodSpec(instance, branch, context),
                },
            },
        };

        var configSha = ConfigSha(deployment, branch.ForceBounce, context.SecretSignatures);
        controllerLabels[LegacyConfigShaLabel] = configSha;
        controllerLabels[ConfigShaLabel] = configSha;
        podLabels[LegacyConfigShaLabel] = configSha;
        podLabels[ConfigShaLabel] = configSha;
        return deployment;
    }

    /// <summary>Deployment strategy per bounce method (spec §6.3).</summary>
    internal static V1DeploymentStrategy Strategy(InstanceConfig instance) => instance.BounceMethod switch
    {
        "downthenup" => new V1DeploymentStrategy { Type = "Recreate" },
        "brutal" => new V1DeploymentStrategy
        {
            Type = "RollingUpdate",
            RollingUpdate = new V1RollingUpdateDeployment { MaxSurge = "100%", MaxUnavailable = "100%" },
        },
        // crossover (and upthendown until the bounce engine takes over): keep bounce_margin_factor available.
        _ => new V1DeploymentStrategy
        {
            Type = "RollingUpdate",
            RollingUpdate = new V1RollingUpdateDeployment
            {
                MaxSurge = "100%",
                MaxUnavailable = $"{(int)Math.Floor((1 - instance.BounceMarginFactor) * 100 + 1e-9)}%",
            },
        },
    };

    private static V1PodSpec PodSpec(InstanceConfig instance, DeploymentBranch branch, KubernetesBuildContext context)
    {
        var container = new V1Container
        {
            Name = Names.Sanitise(instance.Instance),
            Image = ImageUrl(context.Registry, branch),
            Command = instance.Command?.ToList(),
            Args = instance.Args is { Count: > 0 } args ? args.ToList() : null,
            Env = ContainerEnv(instance, branch, context),
            Ports = new List<V1ContainerPort> { new() { ContainerPort = (int)instance.ContainerPort } },
            Resources = Resources(instance),
            LivenessProbe = Probe(instance),
            // PaaSTA puts mesh instances' readiness on a hacheck sidecar; Paasta runs no sidecar, so the app carries it.
            ReadinessProbe = Probe(instance),
            Lifecycle = new V1Lifecycle
            {
                PreStop = new V1LifecycleHandler { Exec = new V1ExecAction { Command = PreStopCommand(instance) } },
            },
            SecurityContext = new V1SecurityContext { Capabilities = new V1Capabilities { Drop = DefaultDroppedCapabilities.ToList() } },
            VolumeMounts = instance.ExtraVolumes.Count == 0 ? null : instance.ExtraVolumes
                .Select(v => new V1VolumeMount { Name = VolumeName(v.HostPath), MountPath = v.ContainerPath, ReadOnlyProperty = v.ReadOnly }).ToList(),
        };
        var nodeSelector = new Dictionary<string, string> { ["yelp.com/pool"] = instance.Pool };
        return new V1PodSpec
        {
            Containers = new List<V1Container> { container },
            ShareProcessNamespace = true,
            RestartPolicy = "Always",
            NodeSelector = nodeSelector,
            Volumes = instance.ExtraVolumes.Count == 0 ? null : instance.ExtraVolumes
                .Select(v => v.HostPath).Distinct().Select(p => new V1Volume { Name = VolumeName(p), HostPath = new V1HostPathVolumeSource { Path = p } }).ToList(),
        };
    }

    /// <summary>host--&lt;path&gt; with '/' → slash-, '.' → dot-, sanitised, and cut with a hash when too long.</summary>
    internal static string VolumeName(string hostPath)
    {
        var name = Names.Sanitise($"host--{hostPath}".Replace("/", "slash-").Replace(".", "dot-"));
        if (name.Length <= 63) return name;
        var hash = Convert.ToHexString(MD5.HashData(Encoding.UTF8.GetBytes(name))).ToLowerInvariant()[..4];
        return name[..57] + "--" + hash;
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
                var secretName = Names.LimitSizeWithHash(
                    $"{instance.Namespace}-secret-{Names.Sanitise(shared ? "_shared" : instance.Service)}-{Names.Sanitise(secret)}", 253);
                secrets.Add(new V1EnvVar { Name = key, ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = secretName, Key = secretName, Optional = false } } });
            }
            else literal.Add(new V1EnvVar { Name = key, Value = value });
        }
        literal.Add(new V1EnvVar { Name = "PAASTA_SOA_CONFIGS_SHA", Value = context.SoaConfigsSha });
        V1EnvVar Field(string name, string path) => new() { Name = name, ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = path } } };
        return literal.Concat(secrets).Append(Field("PAASTA_POD_IP", "status.podIP")).Append(Field("POD_NAME", "metadata.name"))
            .Append(Field("PAASTA_HOST", "spec.nodeName")).Append(Field("PAASTA_CLUSTER", "metadata.labels['paasta.yelp.com/cluster']")).ToList();
    }

    private static V1ResourceRequirements Resources(InstanceConfig instance)
    {
        static ResourceQuantity Cpu(double v) => new(v.ToString("0.###", CultureInfo.InvariantCulture));
        static ResourceQuantity Mi(double v) => new($"{v.ToString("0.###", CultureInfo.InvariantCulture)}Mi");
        var requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = Cpu(instance.Cpus), ["memory"] = Mi(instance.Mem), ["ephemeral-storage"] = Mi(instance.Disk) };
        var limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = Cpu(instance.Cpus + instance.CpuBurstAdd), ["memory"] = Mi(instance.Mem), ["ephemeral-storage"] = Mi(instance.Disk) };
        if (instance.Gpus is { } gpus)
        {
            requests["nvidia.com/gpu"] = new ResourceQuantity(((long)gpus).ToString(CultureInfo.InvariantCulture));
            limits["nvidia.com/gpu"] = new ResourceQuantity(((long)gpus).ToString(CultureInfo.InvariantCulture));
        }
        return new V1ResourceRequirements { Requests = requests, Limits = limits };
    }

    /// <summary>The healthcheck as a probe; null when the instance has no healthcheck mode.</summary>
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

    private static List<string> PreStopCommand(InstanceConfig instance)
    {
        var drain = instance.IsInSmartstack ? 30 : 0;
        var script = $"sleep {drain}";
        if (instance.IsInSmartstack)
        {
            // Wait while /proc/net/tcp still lists an ESTABLISHED connection on the container port.
            var port = instance.ContainerPort.ToString("X4", CultureInfo.InvariantCulture);
            script += $"; while grep -q ':{port} [0-9A-F]*:[0-9A-F]* 01 ' /proc/net/tcp; do sleep 1; done";
        }
        return new List<string> { "/bin/sh", "-c", script };
    }

    /// <summary>
    /// <c>config</c> + 8 hex of MD5 over the desired object without its replica count, namespace and
    /// PAASTA_SOA_CONFIGS_SHA (so scaling, moving and soa-config commits alone do not bounce), serialised with
    /// sorted keys, plus secret signatures and the force_bounce token. Same input, same hash, on any machine.
    /// </summary>
    public static string ConfigSha(V1Deployment deployment, string? forceBounce, IReadOnlyDictionary<string, string>? secretSignatures = null)
    {
        var node = JsonNode.Parse(KubernetesJson.Serialize(deployment))!.AsObject();
        node["spec"]!.AsObject().Remove("replicas");
        node["metadata"]!.AsObject().Remove("namespace");
        foreach (var labels in new[] { node["metadata"]?["labels"], node["spec"]?["template"]?["metadata"]?["labels"] })
        {
            labels?.AsObject().Remove(ConfigShaLabel);
            labels?.AsObject().Remove(LegacyConfigShaLabel);
        }
        foreach (var c in node["spec"]?["template"]?["spec"]?["containers"]?.AsArray() ?? new JsonArray())
        {
            if (c?["env"] is JsonArray env)
                foreach (var e in env.Where(e => e?["name"]?.GetValue<string>() == "PAASTA_SOA_CONFIGS_SHA").ToList()) env.Remove(e);
        }
        if (secretSignatures is { Count: > 0 })
            node["paasta_secrets"] = new JsonObject(secretSignatures.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => KeyValuePair.Create(s.Key, (JsonNode?)s.Value)));
        var canonical = Canonical(node) + (forceBounce ?? "");
        return "config" + Convert.ToHexString(MD5.HashData(Encoding.UTF8.GetBytes(canonical))).ToLowerInvariant()[..8];
    }

    private static string Canonical(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(", ", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => JsonSerializer.Serialize(p.Key) + ": " + Canonical(p.Value))) + "}",
        JsonArray a => "[" + string.Join(", ", a.Select(Canonical)) + "]",
        null => "null",
        _ => node.ToJsonString(),
    };
}
