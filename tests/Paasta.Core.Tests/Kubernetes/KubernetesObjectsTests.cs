using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Paasta.Config;
using Paasta.Kubernetes;
using Paasta.Errors;

namespace Paasta.Tests.Kubernetes;

/// <summary>The rest of docs/BEHAVIOUR.md §5: names, labels, env, resources, the mesh sidecar, StatefulSets, scheduling, PDB, HPA, config_sha.</summary>
public class KubernetesObjectsTests
{
    private const string Sha = "4ef01b5a574b519ab546309e89f72972a33b6b75";
    private static readonly DeploymentBranch Branch = new($"services-example_service:paasta-{Sha}", Sha, null, "start", null);
    private static readonly KubernetesBuildContext Context = new("registry.example:443", "soa123");

    internal static InstanceConfig Load(string instanceYaml, string instance = "main", string smartstack = "{}\n", string service = "example_service", string? serviceYaml = null)
    {
        var soa = new TempSoaDir();
        soa.Service(service, "backend", "prod.main");
        soa.Write($"{service}/smartstack.yaml", smartstack);
        if (serviceYaml is not null) soa.Write($"{service}/service.yaml", serviceYaml);
        soa.Write($"{service}/kubernetes-pnw-prod.yaml", instanceYaml);
        var reader = new SoaConfigReader(soa.Root);
        var result = reader.LoadInstances(reader.LoadService(service), new InstanceFilter(Instance: n => n == instance)).Single();
        return result.Value ?? throw result.Error!;
    }

    private static DesiredApp Build(string yaml, string smartstack = "{}\n", KubernetesBuildContext? context = null, DeploymentBranch? branch = null) =>
        KubernetesObjectBuilder.Build(Load(yaml, smartstack: smartstack), branch ?? Branch, context ?? Context);

    [Theory]
    [InlineData("example_service", "main", "example--service-main", "main")]
    [InlineData("_private", "canary_one", "underscore-private-canary--one", "canary--one")]
    [InlineData("Mixed_Case", "x", "mixed--case-x", "x")]
    public void NamesAreSanitised(string service, string instance, string appName, string container)
    {
        Assert.Equal(appName, KubernetesObjectBuilder.AppName(service, instance));
        Assert.Equal(container, Names.Sanitise(instance));
    }

    [Fact]
    public void VolumeNamesAreSanitisedAndLengthGuarded()
    {
        Assert.Equal("host--slash-varslash-log", KubernetesObjectBuilder.VolumeName("host--/var/log/")); // PaaSTA: trailing / dropped, then / → slash-
        Assert.Equal("host--slash-etcslash-a--bdot-conf", KubernetesObjectBuilder.VolumeName("host--/etc/a_b.conf"));
        var longName = KubernetesObjectBuilder.VolumeName("host--/" + new string('x', 100));
        Assert.Equal(63, longName.Length);
        Assert.Matches("--[0-9a-f]{4}$", longName);
        Assert.Equal(longName, KubernetesObjectBuilder.VolumeName("host--/" + new string('x', 100)));
        Assert.NotEqual(longName, KubernetesObjectBuilder.VolumeName("host--/" + new string('x', 101)));
    }

    [Fact]
    public void LabelsAreTheSpecsSetAndImageVersionAppearsOnlyWhenSet()
    {
        var app = Build("main: {instances: 2, prometheus_shard: web}\n", branch: Branch with { ImageVersion = "1710512553" });
        var labels = app.Metadata.Labels;
        Assert.Equal(new[]
        {
            "yelp.com/owner", "yelp.com/paasta_service", "yelp.com/paasta_instance", "yelp.com/paasta_git_sha",
            "paasta.yelp.com/service", "paasta.yelp.com/instance", "paasta.yelp.com/git_sha", "paasta.yelp.com/cluster",
            "paasta.yelp.com/autoscaled", "paasta.yelp.com/pool", "paasta.yelp.com/managed", "paasta.yelp.com/prometheus_shard",
            "paasta.yelp.com/image_version", "yelp.com/paasta_config_sha", "paasta.yelp.com/config_sha",
        }, labels.Keys);
        Assert.Equal("1710512553", labels["paasta.yelp.com/image_version"]);
        Assert.Equal("compute_infra_platform_experience", labels["yelp.com/owner"]);
        var pod = app.Template.Metadata.Labels;
        Assert.Equal("pnw-prod.main", pod["paasta.yelp.com/deploy_group"]); // the default: cluster.instance
        Assert.False(pod.ContainsKey("paasta.yelp.com/weight")); // not in the mesh
        Assert.Equal("1710512553", pod["paasta.yelp.com/image_version"]);
        Assert.Equal(app.ConfigSha, pod["paasta.yelp.com/config_sha"]);
        Assert.Equal("false", app.Template.Metadata.Annotations["paasta.yelp.com/routable_ip"]);

        Assert.False(Build("main: {}\n").Metadata.Labels.ContainsKey("paasta.yelp.com/image_version"));
    }

    [Fact]
    public void EnvLetsUsersOverridePaastaVariablesButNotThePortAndRendersNumbersAsPythonDoes()
    {
        var c = Build("main: {cpus: 1.0, mem: 512, env: {PAASTA_SERVICE: mine, PAASTA_PORT: '1', EXTRA: x}}\n").Template.Spec.Containers[0];
        string? Value(string n) => c.Env.Single(e => e.Name == n).Value;
        Assert.Equal("mine", Value("PAASTA_SERVICE"));
        Assert.Equal("8888", Value("PAASTA_PORT"));
        Assert.Equal("1.0", Value("PAASTA_RESOURCE_CPUS"));
        Assert.Equal("512", Value("PAASTA_RESOURCE_MEM"));
        Assert.Equal("1024", Value("PAASTA_RESOURCE_DISK"));
        Assert.Equal("soa123", Value("PAASTA_SOA_CONFIGS_SHA"));
        Assert.Equal("x", Value("EXTRA"));
        Assert.Single(c.Env, e => e.Name == "PAASTA_CLUSTER");
        Assert.Null(c.Env.Single(e => e.Name == "PAASTA_CLUSTER").Value);

        var defaults = Build("main: {}\n").Template.Spec.Containers[0];
        Assert.Equal("1", defaults.Env.Single(e => e.Name == "PAASTA_RESOURCE_CPUS").Value); // the code default is the int 1
        Assert.Equal("4096", defaults.Env.Single(e => e.Name == "PAASTA_RESOURCE_MEM").Value);
    }

    [Fact]
    public void ResourcesAreCanonicalQuantities()
    {
        var r = Build("main: {cpus: 0.1, mem: 64, disk: 128}\n").Template.Spec.Containers[0].Resources;
        Assert.Equal("100m", r.Requests["cpu"].ToString());
        Assert.Equal("1100m", r.Limits["cpu"].ToString());
        Assert.Equal("64Mi", r.Requests["memory"].ToString());
        Assert.Equal("64Mi", r.Limits["memory"].ToString());
        Assert.Equal("128Mi", r.Limits["ephemeral-storage"].ToString());
        var gpu = Build("main: {gpus: 2, cpu_burst_add: 0}\n").Template.Spec.Containers[0].Resources;
        Assert.Equal("2", gpu.Limits["nvidia.com/gpu"].ToString());
        Assert.Equal(gpu.Requests["cpu"].ToString(), gpu.Limits["cpu"].ToString());
    }

    [Fact]
    public void CmdAndArgsBecomeCommandAndArgs()
    {
        var c = Build("main: {cmd: 'python -m app'}\n").Template.Spec.Containers[0];
        Assert.Equal(new[] { "sh", "-c", "python -m app" }, c.Command);
        Assert.Null(c.Args);
        var a = Build("main: {args: [--port, '8888']}\n").Template.Spec.Containers[0];
        Assert.Null(a.Command);
        Assert.Equal(new[] { "--port", "8888" }, a.Args);
    }

    [Fact]
    public void NonMeshInstancesGetReadinessEqualToLivenessAndNoGracePeriod()
    {
        var spec = Build("main: {healthcheck_mode: http}\n").Template.Spec;
        var c = Assert.Single(spec.Containers);
        Assert.Equal(c.LivenessProbe.HttpGet.Path, c.ReadinessProbe.HttpGet.Path);
        Assert.Null(spec.TerminationGracePeriodSeconds);
        Assert.Equal(new[] { "/bin/sh", "-c", "sleep 0" }, c.Lifecycle.PreStop.Exec.Command);
    }

    [Fact]
    public void MeshInstanceWithoutSidecarImageKeepsReadinessOnTheMainContainerAndSaysSo()
    {
        var app = Build("main: {}\n", smartstack: "main: {proxy_port: 20001}\n");
        var c = Assert.Single(app.Template.Spec.Containers);
        Assert.NotNull(c.ReadinessProbe);
        Assert.Contains(app.Notes, n => n.Contains("hacheck", StringComparison.Ordinal));
        Assert.Equal(333, app.Template.Spec.TerminationGracePeriodSeconds); // (30 + 2) + ceil(min(1800, 1000/1000 + 300)), Appendix A
        Assert.Contains("sleep 30; while grep", c.Lifecycle.PreStop.Exec.Command[2]);
        Assert.Contains(":22B8 ", c.Lifecycle.PreStop.Exec.Command[2]);
        Assert.Equal("10", app.Template.Metadata.Labels["paasta.yelp.com/weight"]);
        Assert.Equal("true", app.Template.Metadata.Annotations["paasta.yelp.com/routable_ip"]);
    }

    [Fact]
    public void MeshInstanceWithSidecarImageGetsTheHacheckSidecar()
    {
        var app = Build("main: {}\n", smartstack: "main: {proxy_port: 20001}\n", context: Context with { HacheckSidecarImage = "registry.example/hacheck:1" });
        Assert.Empty(app.Notes);
        Assert.Equal(2, app.Template.Spec.Containers.Count);
        var main = app.Template.Spec.Containers[0];
        var hacheck = app.Template.Spec.Containers[1];
        Assert.Null(main.ReadinessProbe);
        Assert.NotNull(main.LivenessProbe);
        Assert.Equal("hacheck", hacheck.Name);
        Assert.Equal(6666, hacheck.Ports.Single().ContainerPort);
        Assert.Equal("example_service.main", hacheck.Env.Single(e => e.Name == "MESH_REGISTRATIONS").Value);
        Assert.Equal(new[] { "flock", "-n", "/readiness_check_lock", "timeout", "120", "/check_smartstack_up.sh", "8888", "example_service.main" }, hacheck.ReadinessProbe.Exec.Command);
        Assert.Equal("/usr/bin/hadown example_service.main; sleep 31", hacheck.Lifecycle.PreStop.Exec.Command[2]);
        Assert.Equal("100m", hacheck.Resources.Requests["cpu"].ToString());
        Assert.Equal(hacheck.Resources.Requests["memory"].ToString(), hacheck.Resources.Limits["memory"].ToString());
    }

    [Fact]
    public void LifecycleSettingsOverrideTheDefaults()
    {
        var spec = Build("main: {lifecycle: {pre_stop_command: 'kill -USR1 1', termination_grace_period_seconds: 90}}\n", smartstack: "main: {proxy_port: 20001}\n").Template.Spec;
        Assert.Equal(new[] { "kill -USR1 1" }, spec.Containers[0].Lifecycle.PreStop.Exec.Command);
        Assert.Equal(90, spec.TerminationGracePeriodSeconds);
    }

    [Fact]
    public void CapAddAddsAndDropsTheSortedRemainder()
    {
        var caps = Build("main: {cap_add: [NET_RAW, CHOWN]}\n").Template.Spec.Containers[0].SecurityContext.Capabilities;
        Assert.Equal(new[] { "NET_RAW", "CHOWN" }, caps.Add);
        Assert.Equal(KubernetesObjectBuilder.DefaultDroppedCapabilities.Where(c => c is not ("NET_RAW" or "CHOWN")).Order(StringComparer.Ordinal), caps.Drop);
        Assert.Equal(14, Build("main: {}\n").Template.Spec.Containers[0].SecurityContext.Capabilities.Drop.Count);
    }

    [Fact]
    public void SchedulingConstraintsFollowTheConfig()
    {
        var spec = Build("""
            main:
              pool: batch
              node_selectors: {instance_type: m5.large, region: [uswest1-prod, uswest2-prod], gpu: [{operator: Exists}], cores: [{operator: Gt, value: 4}]}
              deploy_blacklist: [[habitat, uswest1aprod]]
              anti_affinity: {service: other, instance: main}
              anti_affinity_preferred: [{instance: main, weight: 5}]
              topology_spread_constraints: [{topology_key: topology.kubernetes.io/zone}]
            """).Template.Spec;
        Assert.Equal("m5.large", spec.NodeSelector["node.kubernetes.io/instance-type"]);
        Assert.Equal("batch", spec.NodeSelector["yelp.com/pool"]);
        var required = spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms.Single().MatchExpressions;
        Assert.Contains(required, r => r.Key == "yelp.com/habitat" && r.OperatorProperty == "NotIn" && r.Values.Single() == "uswest1aprod");
        Assert.Contains(required, r => r.Key == "yelp.com/region" && r.OperatorProperty == "In" && r.Values.SequenceEqual(new[] { "uswest1-prod", "uswest2-prod" }));
        Assert.Contains(required, r => r.Key == "gpu" && r.OperatorProperty == "Exists" && r.Values is null);
        Assert.Contains(required, r => r.Key == "cores" && r.OperatorProperty == "Gt" && r.Values.Single() == "4");
        var anti = spec.Affinity.PodAntiAffinity;
        var term = anti.RequiredDuringSchedulingIgnoredDuringExecution.Single();
        Assert.Equal("kubernetes.io/hostname", term.TopologyKey);
        Assert.Equal("other", term.LabelSelector.MatchLabels["paasta.yelp.com/service"]);
        Assert.Equal(5, anti.PreferredDuringSchedulingIgnoredDuringExecution.Single().Weight);
        var spread = spec.TopologySpreadConstraints.Single();
        Assert.Equal(("topology.kubernetes.io/zone", 1, "ScheduleAnyway"), (spread.TopologyKey, spread.MaxSkew, spread.WhenUnsatisfiable));
        Assert.Null(Build("main: {}\n").Template.Spec.Affinity);
    }

    [Fact]
    public void PersistentVolumesMakeAStatefulSet()
    {
        var app = Build("main: {instances: 2, persistent_volumes: [{container_path: /data, size: 10, mode: RW, storage_class_name: gp3}]}\n");
        Assert.Equal("StatefulSet", app.Kind);
        Assert.Null(app.Deployment);
        var sts = app.StatefulSet!;
        Assert.Equal("example--service-main", sts.Spec.ServiceName);
        Assert.Equal("OrderedReady", sts.Spec.PodManagementPolicy);
        Assert.Equal(2, sts.Spec.Replicas);
        var claim = sts.Spec.VolumeClaimTemplates.Single();
        Assert.Equal("pv--slash-data", claim.Metadata.Name);
        Assert.Equal("10Gi", claim.Spec.Resources.Requests["storage"].ToString());
        Assert.Equal("gp3", claim.Spec.StorageClassName);
        var mount = app.Template.Spec.Containers[0].VolumeMounts.Single();
        Assert.Equal(("pv--slash-data", "/data", false), (mount.Name, mount.MountPath, mount.ReadOnlyProperty == true));
        Assert.Null(app.HorizontalPodAutoscaler);
        Assert.Throws<InvalidOperationException>(() => KubernetesObjectBuilder.BuildDeployment(Load("main: {persistent_volumes: [{container_path: /d, size: 1}]}\n"), Branch, Context));
    }

    [Fact]
    public void ExtraVolumesAndSecretVolumesAreMounted()
    {
        var spec = Build("main: {extra_volumes: [{containerPath: /etc/x, hostPath: /etc/x, mode: RO}], secret_volumes: [{container_path: /s, secret_name: tls}]}\n").Template.Spec;
        Assert.Equal(new[] { "host--slash-etcslash-x", "secret--tls" }, spec.Volumes.Select(v => v.Name));
        Assert.Equal("paastasvc-example--service-secret-example--service-tls", spec.Volumes[1].Secret.SecretName);
        Assert.All(spec.Containers[0].VolumeMounts, m => Assert.True(m.ReadOnlyProperty));
    }

    [Theory]
    [InlineData("main: {}\n", "0")]
    [InlineData("main: {bounce_margin_factor: 0.5}\n", "\"50%\"")]
    [InlineData("main: {bounce_margin_factor: 1}\n", "\"0%\"")]
    [InlineData("main: {bounce_margin_factor: 0.9}\n", "\"9%\"")]
    public void PodDisruptionBudgetUsesTheMarginFactorOnlyWhenConfigured(string yaml, string maxUnavailable)
    {
        var pdb = Build(yaml).PodDisruptionBudget!;
        Assert.Equal(maxUnavailable, pdb["spec"]!["maxUnavailable"]!.ToJsonString());
        Assert.Equal("example--service-main", pdb["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal("main", pdb["spec"]!["selector"]!["matchLabels"]!["paasta.yelp.com/instance"]!.GetValue<string>());
        Assert.Equal("true", pdb["metadata"]!["labels"]!["paasta.yelp.com/managed"]!.GetValue<string>());
    }

    [Fact]
    public void HorizontalPodAutoscalerOnlyForRunningAutoscaledInstances()
    {
        var hpa = Build("main: {min_instances: 2, max_instances: 6}\n").HorizontalPodAutoscaler!;
        Assert.Equal(2, hpa["spec"]!["minReplicas"]!.GetValue<long>());
        Assert.Equal(6, hpa["spec"]!["maxReplicas"]!.GetValue<long>());
        var metric = hpa["spec"]!["metrics"]![0]!;
        Assert.Equal("Resource", metric["type"]!.GetValue<string>());
        Assert.Equal(80, metric["resource"]!["target"]!["averageUtilization"]!.GetValue<int>());
        Assert.Equal(300, hpa["spec"]!["behavior"]!["scaleDown"]!["stabilizationWindowSeconds"]!.GetValue<int>());
        Assert.Equal("true", Build("main: {max_instances: 6}\n").Metadata.Labels["paasta.yelp.com/autoscaled"]);

        Assert.Null(Build("main: {instances: 3}\n").HorizontalPodAutoscaler);
        Assert.Null(Build("main: {max_instances: 6}\n", branch: Branch with { DesiredState = "stop" }).HorizontalPodAutoscaler);
        Assert.Null(Build("main: {max_instances: 6, autoscaling: {metrics_providers: [{type: cpu, decision_policy: bespoke}]}}\n").HorizontalPodAutoscaler);
        var uwsgi = Build("main: {max_instances: 6, autoscaling: {metrics_providers: [{type: uwsgi, setpoint: 0.5}]}}\n").HorizontalPodAutoscaler!;
        Assert.Equal("Object", uwsgi["spec"]!["metrics"]![0]!["type"]!.GetValue<string>());
        Assert.Equal("500m", uwsgi["spec"]!["metrics"]![0]!["object"]!["target"]!["value"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("uwsgi", "autoscaling=uwsgi", null, "true")]
    [InlineData("gunicorn", null, "paasta.yelp.com/scrape_gunicorn_prometheus", "true")]
    [InlineData("worker-load", null, "paasta.yelp.com/scrape_gunicorn_prometheus", "true")]
    [InlineData("piscina", null, "paasta.yelp.com/scrape_piscina_prometheus", "false")]
    [InlineData("cpu", null, null, "false")]
    public void AutoscalingProvidersLabelAndAnnotateThePods(string provider, string? annotation, string? label, string routable)
    {
        var meta = Build($"main: {{max_instances: 4, autoscaling: {{metrics_providers: [{{type: {provider}}}]}}}}\n").Template.Metadata;
        Assert.Equal(routable, meta.Annotations["paasta.yelp.com/routable_ip"]);
        Assert.Equal(annotation is not null, meta.Annotations.ContainsKey("autoscaling"));
        if (annotation is not null) Assert.Equal(annotation.Split('=')[1], meta.Annotations["autoscaling"]);
        var scrapeLabels = meta.Labels.Keys.Where(k => k.Contains("scrape_", StringComparison.Ordinal)).ToList();
        Assert.Equal(label is null ? Array.Empty<string>() : new[] { label }, scrapeLabels);
        if (label is not null) Assert.Equal("true", meta.Labels[label]);

        // Without max_instances nothing is autoscaled, so nothing is scraped for it.
        var plain = Build($"main: {{autoscaling: {{metrics_providers: [{{type: {provider}}}]}}}}\n").Template.Metadata;
        Assert.DoesNotContain(plain.Labels.Keys, k => k.Contains("scrape_", StringComparison.Ordinal));
        Assert.False(plain.Annotations.ContainsKey("autoscaling"));
    }

    [Fact]
    public void ConfigShaIsAGoldenValueSoUpgradesDoNotBounceEverything()
    {
        // Changing this value means every running instance bounces after an upgrade of Paasta: only do it on purpose.
        var app = Build("main: {cpus: 0.5, mem: 1024, instances: 3, env: {FOO: bar}}\n");
        Assert.Equal(app.ConfigSha, Build("main: {cpus: 0.5, mem: 1024, instances: 3, env: {FOO: bar}}\n").ConfigSha);
        Assert.Equal("configeac27db5", app.ConfigSha);
    }

    [Fact]
    public void ConfigShaIgnoresReplicasNamespaceAndSoaShaButNotForceBounceOrPodChanges()
    {
        string Sha(string yaml, DeploymentBranch? b = null, KubernetesBuildContext? c = null) => Build(yaml, branch: b, context: c).ConfigSha;
        var baseline = Sha("main: {instances: 3}\n");
        Assert.Equal(baseline, Sha("main: {instances: 5}\n"));
        Assert.Equal(baseline, Sha("main: {instances: 3}\n", Branch with { DesiredState = "stop" })); // replicas 0 alone does not bounce
        Assert.Equal(baseline, Sha("main: {instances: 3}\n", c: Context with { SoaConfigsSha = "other" }));
        Assert.Equal(baseline, Sha("main: {instances: 3, namespace: elsewhere}\n")); // the namespace is where, not what
        Assert.NotEqual(baseline, Sha("main: {instances: 3}\n", Branch with { ForceBounce = "20240316T090000" }));
        Assert.NotEqual(baseline, Sha("main: {instances: 3, healthcheck_mode: tcp}\n"));
        Assert.NotEqual(baseline, Sha("main: {instances: 3, bounce_method: brutal}\n"));
        Assert.NotEqual(baseline, Sha("main: {instances: 3, cap_add: [NET_RAW]}\n"));
        Assert.NotEqual(baseline, Sha("main: {instances: 3}\n", c: Context with { Registry = "other.example" }));
        Assert.Equal(baseline, Sha("main: {instances: 3, replication_threshold: 10, monitoring: {page: true}}\n")); // alerting only
    }

    [Fact]
    public void ConfigShaComputedFromJsonEqualsTheOneOnTheObject()
    {
        var app = Build("main: {instances: 2}\n");
        var json = JsonNode.Parse(KubernetesJson.Serialize(app.Deployment))!.AsObject();
        Assert.Equal(app.ConfigSha, ConfigSha.Compute(json, null)); // the labels it carries are left out of its own hash
        json["spec"]!["replicas"] = 9;
        json["metadata"]!["namespace"] = "moved";
        Assert.Equal(app.ConfigSha, ConfigSha.Compute(json, null));
    }

    [Fact]
    public void AdhocInstancesAreRefused()
    {
        var soa = new TempSoaDir();
        soa.Service("svc", "backend", "prod.main");
        soa.Write("svc/adhoc-pnw-prod.yaml", "job: {}\n");
        var reader = new SoaConfigReader(soa.Root);
        var adhoc = reader.LoadInstances(reader.LoadService("svc")).Single().Value!;
        var e = Assert.Throws<PaastaException>(() => KubernetesObjectBuilder.Build(adhoc, Branch, Context));
        Assert.Equal("InstanceNotLongRunning", e.ErrorId);
        Assert.Same(adhoc, e.Target);
    }
}
