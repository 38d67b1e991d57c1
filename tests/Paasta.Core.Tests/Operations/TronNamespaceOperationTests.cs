using System.Net;
using System.Text;
using System.Text.Json;
using Paasta.Errors;
using Paasta.Operations;
using Paasta.Settings;
using Paasta.Tron;
using Xunit;

namespace Paasta.Tests.Operations;

/// <summary>ConvertTo-PaastaTronConfig and Sync-PaastaTronNamespace as operations: selection, settings, stop, the protocol.</summary>
public sealed class TronNamespaceOperationTests : IDisposable
{
    private const string Sha = TronTestService.Sha;
    private readonly TempSoaDir _soa = new();
    private readonly RecordingSink _sink = new();

    public TronNamespaceOperationTests()
    {
        TronTestService.Write(_soa);
        Deployments("alpha", ("prod.nightly.first", "start"));
        _soa.Service("beta", "backend", "prod.main");
        _soa.Write("beta/kubernetes-prod.yaml", "main: {deploy_group: prod.main}\n");
    }

    public void Dispose() => _soa.Dispose();

    private void Deployments(string service, params (string Branch, string State)[] controls) => TronTestService.WriteDeployments(_soa, service, controls);

    private OperationContext Context(PaastaSettings? given = null, PaastaSettings? saved = null) =>
        _sink.Context(_soa.Root, given ?? new PaastaSettings { DockerRegistry = "registry.example:443" }, saved);

    private static string JobBlock(string yaml, string job) =>
        System.Text.RegularExpressions.Regex.Match(yaml, $"(?ms)^  {job}:\n(.*?)(?=^  \\S|\\z)").Groups[1].Value;

    [Fact]
    public void A_job_with_a_stopped_action_is_written_with_enabled_false_and_the_others_as_configured()
    {
        Deployments("alpha", ("prod.nightly.first", "start"), ("prod.nightly.second", "stop"), ("prod.hourly.run", "start"));
        var config = Assert.Single(TronNamespaceOperation.Generate(Context(), new TronNamespaceRequest { Services = new[] { "alpha" }, Cluster = "prod" }));
        Assert.Contains("\n    enabled: false\n", JobBlock(config.Yaml, "nightly"));
        Assert.DoesNotContain("enabled:", JobBlock(config.Yaml, "hourly"));
        Assert.Contains(_sink.Messages, m => m.Text.Contains("alpha.nightly: stopped (deployments.json says stop for second)"));
    }

    [Fact]
    public void After_the_next_deploy_the_control_says_start_and_the_job_is_scheduled_again()
    {
        Deployments("alpha", ("prod.nightly.second", "start"));
        var config = Assert.Single(TronNamespaceOperation.Generate(Context(), new TronNamespaceRequest { Services = new[] { "alpha" }, Cluster = "prod" }));
        Assert.DoesNotContain("enabled:", config.Yaml);
    }

    [Fact]
    public void The_cluster_comes_from_the_settings_and_is_required()
    {
        var config = Assert.Single(TronNamespaceOperation.Generate(Context(saved: new PaastaSettings { Cluster = "prod" }), new TronNamespaceRequest { Services = new[] { "alpha" } }));
        Assert.Equal("prod", config.Cluster);
        var e = Assert.Throws<PaastaException>(() => TronNamespaceOperation.Generate(Context(), new TronNamespaceRequest { Services = new[] { "alpha" } }));
        Assert.Equal("ClusterNotSpecified", e.ErrorId);
    }

    [Fact]
    public void A_cluster_no_service_has_a_tron_file_for_is_ClusterNotFound()
    {
        var e = Assert.Throws<PaastaException>(() => TronNamespaceOperation.Generate(Context(), new TronNamespaceRequest { Services = new[] { "alpha" }, Cluster = "prdo" }));
        Assert.Equal(("ClusterNotFound", "prdo"), (e.ErrorId, e.Target as string));
    }

    [Fact]
    public void A_service_named_without_a_tron_file_gets_an_empty_namespace_and_a_wildcard_leaves_it_out()
    {
        var named = TronNamespaceOperation.Generate(Context(), new TronNamespaceRequest { Services = new[] { "beta" }, Cluster = "prod" });
        Assert.Equal("jobs: {}\n", Assert.Single(named).Yaml);
        var all = TronNamespaceOperation.Generate(Context(), new TronNamespaceRequest { Services = new[] { "*" }, Cluster = "prod" });
        Assert.Equal(new[] { "alpha" }, all.Select(c => c.Namespace));
    }

    [Fact]
    public void A_literal_service_that_does_not_exist_is_ServiceNotFound()
    {
        Assert.Empty(TronNamespaceOperation.Generate(Context(), new TronNamespaceRequest { Services = new[] { "nosuch" }, Cluster = "prod" }));
        Assert.Equal(new[] { "ServiceNotFound" }, _sink.ErrorIds);
    }

    [Fact]
    public void The_registry_parameter_wins_over_service_yaml_which_wins_over_the_saved_setting()
    {
        _soa.Write("alpha/service.yaml", "description: test\nexternal_link: http://example\ndocker_registry: yaml.example:5000\n");
        var request = new TronNamespaceRequest { Services = new[] { "alpha" }, Cluster = "prod" };
        string Image(PaastaSettings given) => Assert.Single(TronNamespaceOperation.Generate(_sink.Context(_soa.Root, given, new PaastaSettings { DockerRegistry = "file.example:5000" }), request)).Yaml;
        Assert.Contains($"docker_image: param.example:5000/services-alpha:paasta-{Sha}", Image(new PaastaSettings { DockerRegistry = "param.example:5000" }));
        Assert.Contains($"docker_image: yaml.example:5000/services-alpha:paasta-{Sha}", Image(new PaastaSettings()));
    }

    [Fact]
    public void DefaultVolume_without_IncludeMaster_is_refused()
    {
        var e = Assert.Throws<PaastaException>(() => TronNamespaceOperation.Generate(Context(),
            new TronNamespaceRequest { Services = new[] { "alpha" }, Cluster = "prod", DefaultVolumes = new[] { "/a:/b" } }));
        Assert.Equal("DefaultVolumeNeedsMaster", e.ErrorId);
    }

    /// <summary>A Tron master's config API in memory: GET answers {config, hash}, POST stores when the hash matches.</summary>
    private sealed class MasterStandIn : HttpMessageHandler
    {
        public Dictionary<string, string> Store { get; } = new();
        public List<string> Calls { get; } = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            string body;
            if (request.Method == HttpMethod.Get)
            {
                var name = Uri.UnescapeDataString(request.RequestUri!.Query.Split('&')[0].Split('=')[1]);
                Calls.Add("GET " + name);
                var config = Store.GetValueOrDefault(name, "");
                body = JsonSerializer.Serialize(new { config, hash = TronConfigBuilder.Sha1(config) });
            }
            else
            {
                var form = (await request.Content!.ReadAsStringAsync(cancellationToken)).Split('&')
                    .Select(p => p.Split('=')).ToDictionary(p => p[0], p => Uri.UnescapeDataString(p[1].Replace('+', ' ')));
                Calls.Add("POST " + form["name"]);
                Store[form["name"]] = form["config"];
                body = "{\"status\": \"Active\"}";
            }
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        }
    }

    private static TronNamespaceConfig Config(string ns, string yaml) => new() { Namespace = ns, Cluster = "prod", Yaml = yaml };

    [Fact]
    public void Sync_sends_MASTER_first_asks_with_the_diff_and_leaves_an_unchanged_namespace_alone()
    {
        using var master = new MasterStandIn();
        master.Store["alpha"] = "jobs: {}\n";
        var context = Context(new PaastaSettings { TronUrl = "http://tron.example:8089" });
        var results = TronNamespaceOperation.Sync(context, new[] { Config("beta", "jobs: {}\n"), Config("alpha", "jobs:\n  x: {}\n"), Config("MASTER", "a: 1\n") },
            new TronSyncRequest(), master);
        Assert.Equal(new[] { "MASTER", "alpha", "beta" }, results.Select(r => r.Namespace));
        Assert.Equal(new[] { TronSyncAction.Updated, TronSyncAction.Updated, TronSyncAction.Updated }, results.Select(r => r.Action));
        Assert.Equal(new[] { "GET MASTER", "POST MASTER", "GET alpha", "POST alpha", "GET beta", "POST beta" }, master.Calls);
        var (target, action) = _sink.Asked.ElementAt(1);
        Assert.Equal("Send this config", action);
        Assert.StartsWith("Tron namespace alpha on http://tron.example:8089/: update\n", target);
        Assert.Contains("\n+  x: {}\n", target);

        master.Calls.Clear();
        var again = TronNamespaceOperation.Sync(context, new[] { Config("alpha", "jobs:\n  x: {}\n") }, new TronSyncRequest(), master);
        Assert.Equal(TronSyncAction.Unchanged, Assert.Single(again).Action);
        Assert.Equal(new[] { "GET alpha" }, master.Calls);
    }

    [Fact]
    public void Sync_under_WhatIf_posts_nothing()
    {
        using var master = new MasterStandIn();
        _sink.Confirm = false;
        var r = Assert.Single(TronNamespaceOperation.Sync(Context(new PaastaSettings { TronUrl = "http://tron.example:8089" }), new[] { Config("alpha", "jobs: {}\n") }, new TronSyncRequest(), master));
        Assert.True(r.WhatIf);
        Assert.Equal(new[] { "GET alpha" }, master.Calls);
    }

    [Fact]
    public void Sync_needs_a_Tron_url()
    {
        var e = Assert.Throws<PaastaException>(() => TronNamespaceOperation.Sync(Context(), new[] { Config("alpha", "jobs: {}\n") }, new TronSyncRequest()));
        Assert.Equal("TronUrlNotConfigured", e.ErrorId);
    }

    [Fact]
    public void The_token_rule_reads_the_environment_through_the_context_not_the_process()
    {
        // The process environment has no TRONCTL_API_AUTH; the context's environment does, so a token is required.
        var context = new OperationContext(new ResolvedSettings(new PaastaSettings { SoaDir = _soa.Root, TronUrl = "http://tron.example:8089" },
            () => new PaastaSettings(), name => name == TronClient.AuthSwitchVariable ? "1" : null), _sink, default, _soa.Root);
        var e = Assert.Throws<PaastaException>(() => TronNamespaceOperation.Sync(context, new[] { Config("alpha", "jobs: {}\n") }, new TronSyncRequest()));
        Assert.Equal("TronTokenNotConfigured", e.ErrorId);
    }
}
