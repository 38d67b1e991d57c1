using k8s.Models;
using Paasta.Config;
using Paasta.Kubernetes;
using Paasta.Errors;

namespace Paasta.Tests.Kubernetes;

public class KubernetesObjectBuilderTests
{
    private const string Sha = "4ef01b5a574b519ab546309e89f72972a33b6b75";
    private static readonly DeploymentBranch Branch = new($"services-example_service:paasta-{Sha}", Sha, null, "start", null);
    private static readonly KubernetesBuildContext Context = new("registry.example:443", "soa123");

    private static InstanceConfig Load(string instanceYaml, string instance = "main", string smartstack = "main: {proxy_port: 20001}\n")
    {
        var soa = new TempSoaDir();
        soa.Service("example_service", "backend", "prod.canary", "prod.non_canary");
        soa.Write("example_service/smartstack.yaml", smartstack);
        soa.Write("example_service/kubernetes-pnw-prod.yaml", instanceYaml);
        var reader = new SoaConfigReader(soa.Root);
        return reader.LoadInstances(reader.LoadService("example_service"), new InstanceFilter(Instance: n => n == instance)).Single().Value!;
    }

    private const string AppendixA = """
        _base: &base {cpus: 0.5, mem: 1024, env: {FOO: bar}}
        main:   {<<: *base, instances: 3, deploy_group: prod.non_canary}
        """;

    // Keys the builder reads from the raw config into 32-bit fields: a value past int's range was cast and wrapped
    // round (4294967301 seconds became 5) before it was refused.
    [Theory]
    [InlineData("lifecycle: {termination_grace_period_seconds: 4294967301}", "lifecycle.termination_grace_period_seconds")]
    [InlineData("lifecycle: {pre_stop_drain_seconds: 4294967301}", "lifecycle.pre_stop_drain_seconds")]
    [InlineData("prometheus_port: 4294967297", "prometheus_port")]
    [InlineData("topology_spread_constraints: [{topology_key: zone, max_skew: -4294967295}]", "topology_spread_constraints")]
    [InlineData("node_selectors_preferred: [{weight: 4294967297, preferences: {pool: default}}]", "node_selectors_preferred")]
    [InlineData("anti_affinity_preferred: [{weight: 4294967297, service: other}]", "anti_affinity_preferred")]
    public void RawNumbersTooLargeForKubernetesAreRefusedNotWrapped(string setting, string key)
    {
        var instance = Load($"main:\n  instances: 1\n  deploy_group: prod.non_canary\n  {setting}\n");
        var error = Assert.Throws<PaastaException>(() => KubernetesObjectBuilder.BuildDeployment(instance, Branch, Context));
        Assert.Equal("ConfigValueOutOfRange", error.ErrorId);
        Assert.Equal(key, error.Key);
        Assert.EndsWith("kubernetes-pnw-prod.yaml", error.File);
        Assert.Equal(4, error.Line);
    }

    [Fact]
    public void AppendixAExampleGivesTheSpecsDeployment()
    {
        var d = KubernetesObjectBuilder.BuildDeployment(Load(AppendixA), Branch, Context);
        Assert.Equal("example--service-main", d.Metadata.Name);
        Assert.Equal("paastasvc-example--service", d.Metadata.NamespaceProperty);
        Assert.Equal(3, d.Spec.Replicas);
        Assert.Equal(0, d.Spec.RevisionHistoryLimit);
        Assert.Equal(new Dictionary<string, string> { ["paasta.yelp.com/service"] = "example_service", ["paasta.yelp.com/instance"] = "main" }, d.Spec.Selector.MatchLabels);
        Assert.Equal("RollingUpdate", d.Spec.Strategy.Type);
        Assert.Equal("100%", d.Spec.Strategy.RollingUpdate.MaxSurge.Value);
        Assert.Equal("5%", d.Spec.Strategy.RollingUpdate.MaxUnavailable.Value);

        var labels = d.Metadata.Labels;
        Assert.Equal(Sha, labels["paasta.yelp.com/git_sha"]);
        Assert.Equal("pnw-prod", labels["paasta.yelp.com/cluster"]);
        Assert.Equal("false", labels["paasta.yelp.com/autoscaled"]);
        Assert.Equal("true", labels["paasta.yelp.com/managed"]);
        Assert.Matches("^config[0-9a-f]{8}$", labels[KubernetesObjectBuilder.ConfigShaLabel]);
        Assert.Equal(labels[KubernetesObjectBuilder.ConfigShaLabel], d.Spec.Template.Metadata.Labels[KubernetesObjectBuilder.ConfigShaLabel]);
        Assert.Equal("prod.non_canary", d.Spec.Template.Metadata.Labels["paasta.yelp.com/deploy_group"]);
        Assert.Equal("10", d.Spec.Template.Metadata.Labels["paasta.yelp.com/weight"]);
        Assert.Equal("""["example_service.main"]""", d.Spec.Template.Metadata.Annotations["smartstack_registrations"]);

        var c = Assert.Single(d.Spec.Template.Spec.Containers);
        Assert.Equal("main", c.Name);
        Assert.Equal($"registry.example:443/services-example_service:paasta-{Sha}", c.Image);
        Assert.Equal(0.5m, c.Resources.Requests["cpu"].ToDecimal());
        Assert.Equal(1.5m, c.Resources.Limits["cpu"].ToDecimal());
        Assert.Equal(1024m * 1024 * 1024, c.Resources.Limits["memory"].ToDecimal());
        Assert.Equal(1024m * 1024 * 1024, c.Resources.Requests["ephemeral-storage"].ToDecimal());
        Assert.Equal("/status", c.LivenessProbe.HttpGet.Path);
        Assert.Equal((60, 10, 10, 30), (c.LivenessProbe.InitialDelaySeconds, c.LivenessProbe.PeriodSeconds, c.LivenessProbe.TimeoutSeconds, c.LivenessProbe.FailureThreshold));
        Assert.Contains("SETPCAP", c.SecurityContext.Capabilities.Drop);
        Assert.True(d.Spec.Template.Spec.ShareProcessNamespace);
        Assert.Equal("default", d.Spec.Template.Spec.NodeSelector["yelp.com/pool"]);
    }

    [Fact]
    public void EnvironmentFollowsPaastasOrderAndFieldReferences()
    {
        var c = KubernetesObjectBuilder.BuildDeployment(Load(AppendixA), Branch, Context).Spec.Template.Spec.Containers[0];
        var names = c.Env.Select(e => e.Name).ToList();
        Assert.Equal(new[]
        {
            "PAASTA_SERVICE", "PAASTA_INSTANCE", "PAASTA_DEPLOY_GROUP", "PAASTA_DOCKER_IMAGE", "PAASTA_RESOURCE_CPUS",
            "PAASTA_RESOURCE_MEM", "PAASTA_RESOURCE_DISK", "PAASTA_GIT_SHA", "PAASTA_MONITORING_TEAM", "PAASTA_INSTANCE_TYPE",
            "AWS_SDK_UA_APP_ID", "FOO", "PAASTA_PORT", "PAASTA_SOA_CONFIGS_SHA", "PAASTA_POD_IP", "POD_NAME", "PAASTA_HOST", "PAASTA_CLUSTER",
        }, names);
        string Value(string n) => c.Env.Single(e => e.Name == n).Value;
        Assert.Equal("0.5", Value("PAASTA_RESOURCE_CPUS"));
        Assert.Equal("1024", Value("PAASTA_RESOURCE_MEM"));
        Assert.Equal("4ef01b5a", Value("PAASTA_GIT_SHA"));
        Assert.Equal($"services-example_service:paasta-{Sha}", Value("PAASTA_DOCKER_IMAGE"));
        Assert.Equal("8888", Value("PAASTA_PORT"));
        Assert.Equal("metadata.labels['paasta.yelp.com/cluster']", c.Env.Last().ValueFrom.FieldRef.FieldPath);
    }

    [Fact]
    public void SecretsBecomeSecretKeyRefs()
    {
        var i = Load("main: {env: {TOKEN: SECRET(api_token), COMMON: SHARED_SECRET(db)}}\n");
        var env = KubernetesObjectBuilder.BuildDeployment(i, Branch, Context).Spec.Template.Spec.Containers[0].Env;
        var token = env.Single(e => e.Name == "TOKEN");
        Assert.Null(token.Value);
        Assert.Equal("paastasvc-example--service-secret-example--service-api--token", token.ValueFrom.SecretKeyRef.Name);
        Assert.Equal("api_token", token.ValueFrom.SecretKeyRef.Key); // the key inside the Secret is the secret's own name
        Assert.Equal("paastasvc-example--service-secret-underscore-shared-db", env.Single(e => e.Name == "COMMON").ValueFrom.SecretKeyRef.Name);
    }

    [Theory]
    [InlineData("main: {healthcheck_mode: tcp}\n", "tcp")]
    [InlineData("main: {healthcheck_mode: cmd, healthcheck_cmd: /bin/true}\n", "cmd")]
    [InlineData("main: {healthcheck_mode: https, healthcheck_uri: /health}\n", "https")]
    public void ProbesFollowTheHealthcheckMode(string yaml, string mode)
    {
        var probe = KubernetesObjectBuilder.Probe(Load(yaml, smartstack: "{}\n"))!;
        switch (mode)
        {
            case "tcp": Assert.Equal("8888", probe.TcpSocket.Port.Value); break;
            case "cmd": Assert.Equal(new[] { "/bin/sh", "-c", "/bin/true" }, probe.Exec.Command); break;
            case "https": Assert.Equal(("HTTPS", "/health"), (probe.HttpGet.Scheme, probe.HttpGet.Path)); break;
        }
    }

    [Fact]
    public void NoHealthcheckMeansNoProbe() => Assert.Null(KubernetesObjectBuilder.Probe(Load("main: {}\n", smartstack: "{}\n")));

    [Theory]
    [InlineData("crossover", null, "RollingUpdate", "100%", "5%")]
    [InlineData("crossover", "0.5", "RollingUpdate", "100%", "50%")]
    [InlineData("crossover", "1", "RollingUpdate", "100%", "0%")]
    // PaaSTA's int() of a float product: 0.9 and 0.8 truncate to 9% and 19%, and so must we.
    [InlineData("crossover", "0.9", "RollingUpdate", "100%", "9%")]
    [InlineData("crossover", "0.8", "RollingUpdate", "100%", "19%")]
    [InlineData("brutal", null, "RollingUpdate", "100%", "100%")]
    [InlineData("downthenup", null, "Recreate", null, null)]
    public void StrategyFollowsTheBounceMethod(string method, string? margin, string type, string? surge, string? unavailable)
    {
        var yaml = $"main: {{bounce_method: {method}{(margin is null ? "" : $", bounce_margin_factor: {margin}")}}}\n";
        var s = KubernetesObjectBuilder.Strategy(Load(yaml));
        Assert.Equal(type, s.Type);
        Assert.Equal(surge, s.RollingUpdate?.MaxSurge?.Value);
        Assert.Equal(unavailable, s.RollingUpdate?.MaxUnavailable?.Value);
    }

    [Fact]
    public void ConfigShaIsStableAndChangesOnlyWithWhatTheSpecSays()
    {
        string Hash(string yaml, DeploymentBranch? branch = null, KubernetesBuildContext? ctx = null) =>
            KubernetesObjectBuilder.BuildDeployment(Load(yaml), branch ?? Branch, ctx ?? Context).Metadata.Labels[KubernetesObjectBuilder.ConfigShaLabel];
        var baseline = Hash(AppendixA);
        Assert.Equal(baseline, Hash(AppendixA));                                                          // same input, same hash
        Assert.Equal(baseline, Hash(AppendixA.Replace("instances: 3", "instances: 7")));                 // replicas only: no bounce
        Assert.Equal(baseline, Hash(AppendixA, ctx: Context with { SoaConfigsSha = "other" }));          // soa-configs commit: no bounce
        Assert.NotEqual(baseline, Hash(AppendixA.Replace("FOO: bar", "FOO: baz")));                      // env: bounce
        Assert.NotEqual(baseline, Hash(AppendixA.Replace("cpus: 0.5", "cpus: 0.6")));                    // resources: bounce
        Assert.NotEqual(baseline, Hash(AppendixA, Branch with { ForceBounce = "20240316T090000" }));     // restart: bounce
        Assert.NotEqual(baseline, Hash(AppendixA, Branch with { GitSha = new string('a', 40), DockerImage = "services-example_service:paasta-" + new string('a', 40) }));
        var withSecret = AppendixA.Replace("FOO: bar", "FOO: SECRET(x)");
        var signed = Hash(withSecret, ctx: Context with { SecretSignatures = new Dictionary<string, string> { ["SECRET(x)"] = "sig1" } });
        Assert.NotEqual(signed, Hash(withSecret, ctx: Context with { SecretSignatures = new Dictionary<string, string> { ["SECRET(x)"] = "sig2" } })); // rotated secret: bounce
        Assert.Equal(baseline, Hash(AppendixA, ctx: Context with { SecretSignatures = new Dictionary<string, string> { ["SECRET(y)"] = "sig" } })); // unused secret: no bounce
    }

    [Fact]
    public void StoppedInstancesWantNoReplicasAndAutoscaledOnesAreClamped()
    {
        var fixedCount = Load(AppendixA);
        Assert.Equal(0, KubernetesObjectBuilder.DesiredReplicas(fixedCount, Branch with { DesiredState = "stop" }));
        var auto = Load("main: {min_instances: 2, max_instances: 5}\n");
        Assert.Equal(5, KubernetesObjectBuilder.DesiredReplicas(auto, Branch));
        Assert.Equal(2, KubernetesObjectBuilder.DesiredReplicas(auto, Branch, liveReplicas: 1));
        Assert.Equal(4, KubernetesObjectBuilder.DesiredReplicas(auto, Branch, liveReplicas: 4));
    }

    [Fact]
    public void CmdAndArgsTogetherAreRefused()
    {
        var instance = Load("main: {cmd: x, args: [y]}\n");
        var e = Assert.Throws<PaastaException>(() => KubernetesObjectBuilder.BuildDeployment(instance, Branch, Context));
        Assert.Equal("InstanceConfigInvalid", e.ErrorId);
        Assert.Same(instance, e.Target); // the ErrorRecord's TargetObject: the instance itself, not its name

    }
}
