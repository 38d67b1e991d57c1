using System.Text.Json.Nodes;
using k8s.Models;
using Paasta.Config;
using Paasta.Errors;
using Paasta.Kubernetes;

namespace Paasta.Tests.Kubernetes;

/// <summary>The divergences from PaaSTA's objects that issue 15 and the golden harness found, one test each.</summary>
public class KubernetesFidelityTests
{
    private const string Sha = "4ef01b5a574b519ab546309e89f72972a33b6b75";
    private static readonly DeploymentBranch Branch = new($"services-svc:paasta-{Sha}", Sha, null, "start", null);
    private static readonly KubernetesBuildContext Context = new("registry.example:443");

    private static InstanceConfig Load(string instanceYaml, string instance = "main")
    {
        using var soa = new TempSoaDir();
        soa.Service("svc", "backend", "prod.main");
        soa.Write("svc/smartstack.yaml", "main: {proxy_port: 20001}\n");
        soa.Write("svc/kubernetes-pnw-prod.yaml", instanceYaml);
        var reader = new SoaConfigReader(soa.Root);
        var result = reader.LoadInstances(reader.LoadService("svc"), new InstanceFilter(Instance: n => n == instance)).Single();
        var config = result.Value ?? throw result.Error!;
        _ = config.Config; // read the lazy parts before the folder goes
        return config;
    }

    private static DesiredApp Build(string yaml) => KubernetesObjectBuilder.Build(Load(yaml), Branch, Context);

    private static V1Container Main(DesiredApp app) => app.Template.Spec.Containers[0];

    [Fact]
    public void Secret_env_references_the_secret_by_its_own_name_inside_the_kubernetes_secret()
    {
        var app = Build("main:\n  env: {DB_PASSWORD: SECRET(db_password), TOKEN: SHARED_SECRET(shared_token)}\n");
        var db = Main(app).Env.Single(e => e.Name == "DB_PASSWORD").ValueFrom.SecretKeyRef;
        Assert.Equal("paastasvc-svc-secret-svc-db--password", db.Name);
        Assert.Equal("db_password", db.Key);
        var shared = Main(app).Env.Single(e => e.Name == "TOKEN").ValueFrom.SecretKeyRef;
        Assert.Equal("paastasvc-svc-secret-underscore-shared-shared--token", shared.Name);
        Assert.Equal("shared_token", shared.Key);
    }

    [Fact]
    public void Extra_volumes_are_deduplicated_last_wins_trailing_slash_ignored_and_sorted()
    {
        var app = Build("""
            main:
              uses_bulkdata: true
              extra_volumes:
              - {containerPath: /b/, hostPath: /srv/b/, mode: RO}
              - {containerPath: /a, hostPath: /srv/a, mode: RO}
              - {containerPath: /b, hostPath: /srv/b, mode: RW}
              - {containerPath: /c, hostPath: /srv/a, mode: RO}
            """);
        var mounts = Main(app).VolumeMounts.Select(m => (m.MountPath, m.Name, m.ReadOnlyProperty)).ToList();
        Assert.Equal(new[]
        {
            ("/a", "host--slash-srvslash-a", (bool?)true),
            ("/b", "host--slash-srvslash-b", false),
            ("/c", "host--slash-srvslash-a", true),
            ("/nail/bulkdata", "host--slash-nailslash-bulkdata", true),
        }, mounts);
        var volumes = app.Template.Spec.Volumes.Select(v => (v.Name, v.HostPath.Path)).ToList();
        Assert.Equal(new[]
        {
            ("host--slash-srvslash-a", "/srv/a"),
            ("host--slash-srvslash-b", "/srv/b"),
            ("host--slash-nailslash-bulkdata", "/nail/bulkdata"),
        }, volumes);
    }

    [Fact]
    public void HostVolumes_keeps_the_later_entry_in_the_place_of_the_first()
    {
        var arranged = HostVolumes.Arrange(new[]
        {
            new ExtraVolume("/z", "/h/z", "RO"),
            new ExtraVolume("/x/", "/h/x", "RO"),
            new ExtraVolume("/x", "/h/x/", "RW"),
        });
        Assert.Equal(new[] { new ExtraVolume("/x", "/h/x/", "RW"), new ExtraVolume("/z", "/h/z", "RO") }, arranged);
    }

    [Fact]
    public void Instances_false_means_no_replicas()
    {
        var instance = Load("main: {instances: false}\n");
        Assert.Equal(0, instance.Instances);
        Assert.Equal(0, KubernetesObjectBuilder.Build(instance, Branch, Context).Replicas);
    }

    [Fact]
    public void Instances_of_another_type_is_still_refused()
    {
        var e = Assert.Throws<PaastaException>(() => Load("main: {instances: many}\n"));
        Assert.Equal("ConfigValueWrongType", e.ErrorId);
    }

    [Fact]
    public void Secret_volume_modes_written_as_strings_are_octal()
    {
        var app = Build("""
            main:
              secret_volumes:
              - {container_path: /etc/s, secret_name: s, default_mode: "0765"}
              - container_path: /etc/t
                secret_name: t
                default_mode: 420
                items: [{key: t, path: t.txt, mode: "0400"}]
            """);
        var s = app.Template.Spec.Volumes.Single(v => v.Name == "secret--s").Secret;
        Assert.Equal(501, s.DefaultMode);
        Assert.False(s.Optional);
        Assert.Null(s.Items);
        var t = app.Template.Spec.Volumes.Single(v => v.Name == "secret--t").Secret;
        Assert.Equal(420, t.DefaultMode);
        Assert.Equal(256, Assert.Single(t.Items).Mode);
    }

    [Theory]
    [InlineData("\"765\"")]
    [InlineData("\"0\"")]
    [InlineData("\"0o765\"")]
    [InlineData("\"0789\"")]
    public void Secret_volume_modes_that_are_not_octal_strings_are_refused(string mode)
    {
        var e = Assert.Throws<PaastaException>(() => Build($"main:\n  secret_volumes:\n  - {{container_path: /s, secret_name: s, default_mode: {mode}}}\n"));
        Assert.Equal("InstanceConfigInvalid", e.ErrorId);
        Assert.Equal("secret_volumes.default_mode", e.Key);
    }

    [Fact]
    public void Projected_service_account_volumes_become_volumes_and_mounts()
    {
        var app = Build("""
            main:
              projected_sa_volumes:
              - {container_path: /var/run/secrets/a, audience: a.example.com}
              - {container_path: /var/run/secrets/b, audience: b.example.com, expiration_seconds: 1800}
            """);
        var mounts = Main(app).VolumeMounts.Select(m => (m.MountPath, m.Name, m.ReadOnlyProperty)).ToList();
        Assert.Equal(new[]
        {
            ("/var/run/secrets/a", "projected-sa--adot-exampledot-com", (bool?)true),
            ("/var/run/secrets/b", "projected-sa--bdot-exampledot-com", true),
        }, mounts);
        var tokens = app.Template.Spec.Volumes.Select(v => (v.Name, v.Projected.Sources.Single().ServiceAccountToken)).ToList();
        Assert.Equal(("a.example.com", 3600L, "token"), (tokens[0].ServiceAccountToken.Audience, tokens[0].ServiceAccountToken.ExpirationSeconds!.Value, tokens[0].ServiceAccountToken.Path));
        Assert.Equal(1800L, tokens[1].ServiceAccountToken.ExpirationSeconds);
    }

    [Fact]
    public void PreStop_waits_for_connections_with_PaaSTAs_own_command()
    {
        var app = Build("main: {container_port: 8080}\n");
        Assert.Equal(
            "sleep 30; while grep '^ *[0-9]*: ........:1F90 ........:.... 01 ' /proc/net/tcp; do sleep 1; echo; done",
            Main(app).Lifecycle.PreStop.Exec.Command[2]);
    }

    [Fact]
    public void Hpa_metrics_of_shared_rules_are_named_by_provider_and_window_and_select_the_instance()
    {
        var app = Build("""
            main:
              max_instances: 5
              autoscaling:
                metrics_providers:
                - {type: uwsgi, setpoint: 0.6}
                - {type: worker-load, setpoint: 0.5, moving_average_window_seconds: 600}
                - {type: arbitrary-promql, setpoint: 3, target_type: Value}
                - {type: no-such-provider}
            """);
        var hpa = app.HorizontalPodAutoscaler!;
        Assert.Equal("default", hpa["metadata"]!["labels"]!["yelp.com/pool"]!.GetValue<string>());
        Assert.Null(hpa["metadata"]!["labels"]!["paasta.yelp.com/pool"]);
        var metrics = hpa["spec"]!["metrics"]!.AsArray();
        Assert.Equal(3, metrics.Count);
        Assert.Equal("uwsgi-prom-1800", metrics[0]!["object"]!["metric"]!["name"]!.GetValue<string>());
        Assert.Equal("pnw-prod", metrics[0]!["object"]!["metric"]!["selector"]!["matchLabels"]!["paasta_cluster"]!.GetValue<string>());
        Assert.Equal("Value", metrics[0]!["object"]!["target"]!["type"]!.GetValue<string>());
        Assert.Equal("worker-load-prom-600", metrics[1]!["object"]!["metric"]!["name"]!.GetValue<string>());
        Assert.Equal("AverageValue", metrics[1]!["object"]!["target"]!["type"]!.GetValue<string>());
        Assert.Equal("svc-main-arbitrary-promql-prom", metrics[2]!["object"]!["metric"]!["name"]!.GetValue<string>());
        Assert.Null(metrics[2]!["object"]!["metric"]!["selector"]);
        Assert.Equal("Value", metrics[2]!["object"]!["target"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public void Topology_spread_match_label_keys_and_opt_in_labels_reach_the_pod()
    {
        var app = Build("""
            main:
              is_istio_sidecar_injection_enabled: true
              enable_aws_lb_readiness_gate: true
              topology_spread_constraints:
              - {topology_key: kubernetes.io/hostname, match_label_keys: [paasta.yelp.com/git_sha]}
            """);
        Assert.Equal(new[] { "paasta.yelp.com/git_sha" }, app.Template.Spec.TopologySpreadConstraints.Single().MatchLabelKeys);
        Assert.Equal("true", app.Template.Metadata.Labels["sidecar.istio.io/inject"]);
        Assert.Equal("enabled", app.Template.Metadata.Labels["elbv2.k8s.aws/pod-readiness-gate-inject"]);
    }
}
