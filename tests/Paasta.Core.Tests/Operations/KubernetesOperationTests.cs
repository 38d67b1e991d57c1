using System.Text.RegularExpressions;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Paasta.Config;
using Paasta.Errors;
using Paasta.Kubernetes;
using Paasta.Operations;
using Paasta.Settings;
using Paasta.Sync;
using Paasta.Tests.Kubernetes;

namespace Paasta.Tests.Operations;

/// <summary>
/// The Kubernetes operations (Sync, status, wait, render) end to end against API servers in memory
/// (<see cref="FakeKubeApi"/>): what they ask, what they write, to which cluster, and what they refuse.
/// </summary>
public sealed class KubernetesOperationTests : IDisposable
{
    private const string Sha = "4ef01b5a574b519ab546309e89f72972a33b6b75";
    private readonly TempSoaDir _soa = new();
    private readonly FakeKubeApi _one = new();
    private readonly FakeKubeApi _two = new();
    private readonly string _kubeconfig;
    private readonly List<OperationContext> _contexts = new();

    public KubernetesOperationTests()
    {
        _kubeconfig = FakeKubeApi.KubeConfig(Path.Combine(_soa.Root, "kubeconfig"), _one, _two);
        Service("svc", ("c1", "main: {instances: 2}\ncanary: {instances: 1}\n"));
    }

    public void Dispose()
    {
        foreach (var c in _contexts) c.Dispose();
        _one.Dispose();
        _two.Dispose();
        _soa.Dispose();
    }

    /// <summary>A service whose instances all deploy from group everything at <see cref="Sha"/>, started.</summary>
    private void Service(string name, params (string Cluster, string Yaml)[] files) => Service(name, "", files);

    private void Service(string name, string serviceYaml, params (string Cluster, string Yaml)[] files)
    {
        _soa.Write($"{name}/service.yaml", $"description: t\nexternal_link: http://e\ngit_url: null\ndocker_registry: registry.example:443\n{serviceYaml}");
        _soa.Write($"{name}/monitoring.yaml", "team: t\n");
        _soa.Write($"{name}/deploy.yaml", "pipeline:\n- step: everything\n");
        foreach (var (cluster, yaml) in files)
        {
            var withGroup = string.Join("\n", yaml.Split('\n').Select(l => l.EndsWith('}') && l.Contains(": {") ? l.Replace(": {", ": {deploy_group: everything, ") : l));
            _soa.Write($"{name}/kubernetes-{cluster}.yaml", withGroup.Replace("{deploy_group: everything, }", "{deploy_group: everything}"));
        }
        // A control entry per instance, as New-PaastaDeployments writes them (an instance without one is not deployed).
        var controls = files.SelectMany(f => f.Yaml.Split('\n').Select(l => Regex.Match(l, @"^([\w-]+):")).Where(m => m.Success)
            .Select(m => $"\"{name}:{f.Cluster}.{m.Groups[1].Value}\": {{\"desired_state\": \"start\", \"force_bounce\": null}}"));
        _soa.Write($"{name}/deployments.json",
            $"{{\"v1\": {{}}, \"v2\": {{\"deployments\": {{\"everything\": {{\"docker_image\": \"services-{name}:paasta-{Sha}\", \"git_sha\": \"{Sha}\", \"image_version\": null}}}}, \"controls\": {{{string.Join(", ", controls)}}}}}}}");
    }

    private (OperationContext Context, RecordingSink Sink) Context(IReadOnlyDictionary<string, string>? clusterContext = null, bool confirm = true)
    {
        var sink = new RecordingSink { Confirm = confirm };
        var context = sink.Context(_soa.Root, new PaastaSettings { KubeConfig = _kubeconfig, ClusterContext = clusterContext });
        _contexts.Add(context);
        return (context, sink);
    }

    private static IReadOnlyList<InstanceConfig> Select(OperationContext context, string service = "svc", string[]? clusters = null, string[]? instances = null) =>
        KubernetesInstances.Select(context, KubernetesInstances.Selection(new[] { service }, clusters, instances));

    private static IReadOnlyList<SyncResult> Sync(OperationContext context, IReadOnlyList<InstanceConfig> instances, SyncOptions? options = null) =>
        SyncOperation.Run(context, instances, options ?? new SyncOptions());

    private static JsonObject Labelled(string kind, string ns, string name, Dictionary<string, string> labels, int replicas = 1) => new()
    {
        ["apiVersion"] = kind == "Pod" ? "v1" : "apps/v1",
        ["kind"] = kind,
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["namespace"] = ns,
            ["labels"] = new JsonObject(labels.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
        },
        ["spec"] = kind == "Pod"
            ? new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "main", ["image"] = "x" }) }
            : new JsonObject
            {
                ["replicas"] = replicas,
                ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["a"] = "b" } },
                ["template"] = new JsonObject { ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["a"] = "b" } }, ["spec"] = new JsonObject { ["containers"] = new JsonArray() } },
            },
    };

    private static Dictionary<string, string> PaastaLabels(string service, string instance, string cluster) => new()
    {
        [KubernetesObjectBuilder.ManagedLabel] = "true",
        [KubernetesObjectBuilder.ServiceLabel] = service,
        [KubernetesObjectBuilder.InstanceLabel] = instance,
        [KubernetesObjectBuilder.ClusterLabel] = cluster,
    };

    // ------------------------------------------------------------------ Sync

    [Fact]
    public void SyncCreatesWhatIsMissingAndASecondPassWritesNothing()
    {
        var (context, sink) = Context();
        var results = Sync(context, Select(context));
        Assert.Equal(new[] { SyncAction.Created, SyncAction.Created }, results.Select(r => r.Action));
        Assert.Equal(results, sink.Outputs.Cast<SyncResult>()); // streamed as each instance is done
        Assert.NotNull(_one.Get("deployments", "paastasvc-svc", "svc-main"));
        Assert.NotNull(_one.Get("poddisruptionbudgets", "paastasvc-svc", "svc-canary"));
        Assert.NotNull(_one.Get("namespaces", null, "paastasvc-svc"));
        Assert.Empty(sink.Errors);

        var writes = _one.Writes.Count();
        var (again, _) = Context();
        Assert.All(Sync(again, Select(again)), r => Assert.Equal(SyncAction.Unchanged, r.Action));
        Assert.Equal(writes, _one.Writes.Count());
    }

    [Fact]
    public void SyncAsksPerInstanceAndADeclinedInstanceIsNeitherWrittenNorAskedAgain()
    {
        var (context, sink) = Context(confirm: false);
        var results = Sync(context, Select(context), new SyncOptions { Wait = true, Timeout = TimeSpan.FromSeconds(5), PollInterval = TimeSpan.FromMilliseconds(10) });
        Assert.Empty(_one.Writes);
        Assert.All(results, r => Assert.True(r.WhatIf));
        Assert.Equal(new[] { "svc.main on c1", "svc.canary on c1" }, sink.Asked.Select(a => a.Target));
        Assert.Contains("create Deployment paastasvc-svc/svc-main", sink.Asked.First().Action);
    }

    [Fact]
    public void EachClusterIsSyncedThroughItsOwnContext()
    {
        Service("svc", ("c1", "main: {instances: 2}\n"), ("c2", "main: {instances: 3}\n"));
        var (context, sink) = Context(new Dictionary<string, string> { ["c1"] = "ctx-0", ["c2"] = "ctx-1" });
        var results = Sync(context, Select(context));
        Assert.Equal(new[] { "c1", "c2" }, results.Select(r => r.Cluster).Order());
        Assert.Equal("c1", _one.Get("deployments", "paastasvc-svc", "svc-main")!["metadata"]!["labels"]![KubernetesObjectBuilder.ClusterLabel]!.GetValue<string>());
        Assert.Equal("c2", _two.Get("deployments", "paastasvc-svc", "svc-main")!["metadata"]!["labels"]![KubernetesObjectBuilder.ClusterLabel]!.GetValue<string>());
        Assert.Equal(3, _two.Get("deployments", "paastasvc-svc", "svc-main")!["spec"]!["replicas"]!.GetValue<int>());
        Assert.Empty(sink.Errors);
    }

    [Fact]
    public void ClustersThatWouldShareOneContextAreRefusedBeforeAnyRequest()
    {
        Service("svc", ("c1", "main: {}\n"), ("c2", "main: {}\n"));
        var (context, _) = Context(new Dictionary<string, string> { ["c1"] = "ctx-0" }); // c2 falls back to the current context, ctx-0
        var e = Assert.Throws<PaastaException>(() => Sync(context, Select(context)));
        Assert.Equal("MultipleClusters", e.ErrorId);
        Assert.Contains("c1, c2", e.Message);
        Assert.Contains("ctx-0", e.Message);
        Assert.Empty(_one.Requests);
    }

    [Fact]
    public void AnInstanceWithoutDeploymentIsAWarningNotAWrite()
    {
        _soa.Write("svc/deployments.json", "{\"v1\": {}, \"v2\": {\"deployments\": {}, \"controls\": {}}}");
        var (context, sink) = Context();
        var results = Sync(context, Select(context));
        Assert.All(results, r => Assert.Equal(SyncAction.NoDeployment, r.Action));
        Assert.Contains(sink.Warnings, w => w.Contains("svc.main on c1") && w.Contains("everything"));
        Assert.Empty(_one.Writes);
    }

    [Fact]
    public void WithoutARegistryTheInstanceIsReportedAndNothingIsRead()
    {
        _soa.Write("svc/service.yaml", "description: t\nexternal_link: http://e\ngit_url: null\n");
        var (context, sink) = Context();
        Assert.Empty(Sync(context, Select(context)));
        Assert.Equal(new[] { "RegistryNotConfigured", "RegistryNotConfigured" }, sink.ErrorIds);
        Assert.Empty(_one.Requests);
    }

    [Fact]
    public void PipedInstancesOfAnotherTypeAreRefusedOneByOne()
    {
        _soa.Write("svc/adhoc-c1.yaml", "job: {}\n");
        var (context, sink) = Context();
        var all = InstanceQuery.Instances(context, new InstanceSelection { Services = new[] { "svc" } });
        var kept = KubernetesInstances.Accept(context, all, "Sync-PaastaInstance");
        Assert.Equal(new[] { "main", "canary" }, kept.Select(i => i.Instance));
        Assert.Equal(new[] { "InstanceNotLongRunning" }, sink.ErrorIds);
    }

    [Fact]
    public void TheClusterSettingSelectsWhenNoClusterIsNamed()
    {
        Service("svc", ("c1", "main: {}\n"), ("c2", "other: {}\n"));
        var sink = new RecordingSink();
        var context = sink.Context(_soa.Root, new PaastaSettings { KubeConfig = _kubeconfig }, saved: new PaastaSettings { Cluster = "c2" });
        _contexts.Add(context);
        Assert.Equal(new[] { "other" }, Select(context).Select(i => i.Instance));
    }

    // ------------------------------------------------------------------ Prune

    private void Live(FakeKubeApi server, string instance, string cluster = "c1", int pods = 0, string service = "svc")
    {
        var name = $"{service}-{instance}";
        server.Add("deployments", Labelled("Deployment", $"paastasvc-{service}", name, PaastaLabels(service, instance, cluster)));
        server.Add("poddisruptionbudgets", Labelled("PodDisruptionBudget", $"paastasvc-{service}", name, PaastaLabels(service, instance, cluster)));
        for (var i = 0; i < pods; i++)
        {
            var pod = Labelled("Pod", $"paastasvc-{service}", $"{name}-pod{i}", PaastaLabels(service, instance, cluster));
            pod["status"] = new JsonObject { ["podIP"] = $"10.0.0.{i + 1}" };
            pod["metadata"]!["ownerReferences"] = new JsonArray(new JsonObject { ["apiVersion"] = "apps/v1", ["kind"] = "ReplicaSet", ["name"] = "rs", ["uid"] = "u" });
            server.Add("pods", pod);
        }
    }

    private static SyncOptions Prune(bool force = false) =>
        new() { Prune = new PruneSelection(new[] { "svc" }, new[] { "c1" }, force) };

    [Fact]
    public void PruneDrainsThenDeletesOnlyTheLabelledObjectsOfInstancesGoneFromSoaConfigs()
    {
        Live(_one, "gone", pods: 2);
        _one.Add("deployments", Labelled("Deployment", "paastasvc-svc", "svc-unlabelled", new Dictionary<string, string>()));
        Live(_one, "elsewhere", cluster: "c2");               // the same service on another PaaSTA cluster
        Live(_one, "other", service: "another");              // a service that is not synced
        var (context, sink) = Context();
        var results = Sync(context, Select(context), Prune());

        var removed = Assert.Single(results, r => r.Instance == "gone");
        Assert.Equal(SyncAction.Removed, removed.Action);
        Assert.Null(_one.Get("deployments", "paastasvc-svc", "svc-gone"));
        Assert.Null(_one.Get("poddisruptionbudgets", "paastasvc-svc", "svc-gone"));
        Assert.NotNull(_one.Get("deployments", "paastasvc-svc", "svc-unlabelled"));
        Assert.NotNull(_one.Get("deployments", "paastasvc-svc", "svc-elsewhere"));
        Assert.NotNull(_one.Get("deployments", "paastasvc-another", "another-other"));
        // Every copy was marked draining before its Deployment was deleted.
        var requests = _one.Requests.ToList();
        var deleted = requests.FindIndex(r => r.StartsWith("DELETE /apis/apps/v1/namespaces/paastasvc-svc/deployments/svc-gone", StringComparison.Ordinal));
        Assert.True(deleted > 0);
        foreach (var pod in new[] { "svc-gone-pod0", "svc-gone-pod1" })
        {
            var marked = requests.FindIndex(r => r.StartsWith($"PATCH /api/v1/namespaces/paastasvc-svc/pods/{pod}", StringComparison.Ordinal));
            Assert.InRange(marked, 0, deleted - 1);
        }
        Assert.Empty(sink.Errors);
    }

    [Fact]
    public void PruneUnderWhatIfListsWhatWouldGoAndWritesNothing()
    {
        Live(_one, "gone", pods: 1);
        var (context, sink) = Context(confirm: false);
        var removal = Assert.Single(Sync(context, Select(context), Prune()), r => r.Instance == "gone");
        Assert.True(removal.WhatIf);
        Assert.Equal("Removed?", removal.Outcome);
        Assert.Equal(new[] { "delete PodDisruptionBudget paastasvc-svc/svc-gone", "delete Deployment paastasvc-svc/svc-gone" }, removal.Changes);
        Assert.Contains(sink.Asked, a => a.Target == "svc.gone on c1" && a.Action.Contains("no longer in soa-configs"));
        Assert.Empty(_one.Writes);
    }

    [Fact]
    public void PruneLooksAtEveryInstanceOfTheServiceWhateverInstanceWasSelected()
    {
        Live(_one, "canary");
        var (context, _) = Context();
        var results = Sync(context, Select(context, instances: new[] { "main" }), Prune());
        Assert.DoesNotContain(results, r => r.Action == SyncAction.Removed);
        Assert.NotNull(_one.Get("deployments", "paastasvc-svc", "svc-canary"));
    }

    [Fact]
    public void PruneRefusesToRemoveEveryInstanceOfAServiceUnlessForced()
    {
        _soa.Write("svc/kubernetes-c1.yaml", "{}\n");
        Live(_one, "main");
        Live(_one, "canary");
        var (context, sink) = Context();
        Assert.Empty(Sync(context, Select(context, clusters: new[] { "c1" }), Prune()));
        var refusal = Assert.Single(sink.Errors);
        Assert.Equal("PruneWouldRemoveAllInstances", refusal.ErrorId);
        Assert.Contains("canary, main", refusal.Message);
        Assert.Empty(_one.Writes);

        var (forced, _) = Context();
        var results = Sync(forced, Select(forced, clusters: new[] { "c1" }), Prune(force: true));
        Assert.Equal(new[] { "canary", "main" }, results.Select(r => r.Instance));
        Assert.All(results, r => Assert.Equal(SyncAction.Removed, r.Action));
        Assert.Empty(_one.All("deployments"));
    }

    [Fact]
    public void AServiceWithAnUnreadableInstanceFileIsNotPruned()
    {
        _soa.Write("svc/kubernetes-c1.yaml", "main: [not, a, mapping\n");
        Live(_one, "gone");
        var (context, sink) = Context();
        var scopes = SyncOperation.PruneScopes(context, new PruneSelection(new[] { "svc" }, new[] { "c1" }, false), Array.Empty<InstanceConfig>());
        Assert.Empty(scopes);
        Assert.Contains(sink.Warnings, w => w.Contains("not pruned"));
    }

    [Fact]
    public void ThePrunedInstanceDrainsWithTheServicesDefaults()
    {
        Service("svc", "drain_method: test\n", ("c1", "main: {}\n"));
        var (context, _) = Context();
        var scope = Assert.Single(SyncOperation.PruneScopes(context, new PruneSelection(new[] { "svc" }, new[] { "c1" }, false), Array.Empty<InstanceConfig>()));
        Assert.Equal(new[] { ("main", "paastasvc-svc") }, scope.Instances.Select(kv => (kv.Key, kv.Value)));
        var ghost = scope.DrainConfig("gone");
        Assert.Equal(("svc", "gone", "c1", "test"), (ghost.Service, ghost.Instance, ghost.Cluster, ghost.DrainMethod));
    }

    // ------------------------------------------------------------------ status and wait

    private void Running(FakeKubeApi server, string instance, int ready, string sha = Sha)
    {
        var (context, _) = Context();
        Sync(context, Select(context, instances: new[] { instance }));
        var deployment = server.Get("deployments", "paastasvc-svc", $"svc-{instance}")!;
        deployment["status"] = new JsonObject { ["readyReplicas"] = ready, ["updatedReplicas"] = ready, ["availableReplicas"] = ready, ["observedGeneration"] = 1 };
        deployment["metadata"]!["generation"] = 1;
        var template = deployment["spec"]!["template"]!["metadata"]!["labels"]!.AsObject();
        var replicas = deployment["spec"]!["replicas"]!.GetValue<int>();
        for (var i = 0; i < replicas; i++)
        {
            var pod = new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Pod",
                ["metadata"] = new JsonObject { ["name"] = $"svc-{instance}-{i}", ["namespace"] = "paastasvc-svc", ["labels"] = template.DeepClone() },
                ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = instance, ["image"] = "x" }) },
                ["status"] = new JsonObject
                {
                    ["podIP"] = $"10.0.1.{i}",
                    ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = i < ready ? "True" : "False" }),
                    ["containerStatuses"] = new JsonArray(new JsonObject { ["name"] = instance, ["ready"] = i < ready, ["restartCount"] = 0, ["image"] = "x", ["imageID"] = "", ["state"] = new JsonObject { ["running"] = new JsonObject() } }),
                },
            };
            server.Add("pods", pod);
        }
    }

    [Fact]
    public void StatusComparesWithTheConfigShaSyncBuilds()
    {
        Running(_one, "main", ready: 2);
        var (context, _) = Context();
        var statuses = InstanceStatusOperation.Run(context, Select(context));
        var main = statuses.Single(s => s.Instance == "main");
        Assert.Equal("Running", main.State);
        Assert.Equal(main.ConfigSha, main.DesiredConfigSha);
        Assert.Equal("NotRunning", statuses.Single(s => s.Instance == "canary").State);
        Assert.Equal(new[] { "main", "canary" }, statuses.Select(s => s.Instance));
    }

    [Fact]
    public void StatusReadsClustersThatShareAContextThroughOneConnection()
    {
        Service("svc", ("c1", "main: {}\n"), ("c2", "other: {}\n"));
        var (context, sink) = Context();
        var statuses = InstanceStatusOperation.Run(context, Select(context));
        Assert.Equal(new[] { ("main", "NotRunning"), ("other", "NotRunning") }, statuses.Select(s => (s.Instance, s.State)));
        Assert.Empty(sink.Errors);
        Assert.Single(context.OpenConnections);
    }

    [Fact]
    public void WaitReturnsWhenReadyAndWaitsOncePerServiceAndDeployGroup()
    {
        Running(_one, "main", ready: 2);
        Running(_one, "canary", ready: 1);
        var (context, sink) = Context();
        var waits = new DeploymentWaitOperation();
        var results = waits.Wait(context, new DeploymentWaitRequest("svc", "everything") { Timeout = TimeSpan.FromSeconds(30) });
        Assert.All(results, r => Assert.True(r.Converged));
        Assert.Equal(new[] { "main", "canary" }, results.Select(r => r.Instance));
        var requests = _one.Requests.Count;
        Assert.Empty(waits.Wait(context, new DeploymentWaitRequest("svc", "everything") { Commit = Sha[..8] }));
        Assert.Equal(requests, _one.Requests.Count);
        Assert.Equal(2, sink.Outputs.Count);
        Assert.Empty(sink.Errors);
    }

    [Fact]
    public void WaitGivesUpWithTheReasonOfEachInstanceThatDidNotConverge()
    {
        Running(_one, "main", ready: 1);
        Running(_one, "canary", ready: 1);
        var (context, sink) = Context();
        var results = new DeploymentWaitOperation().Wait(context,
            new DeploymentWaitRequest("svc", "everything") { Timeout = TimeSpan.FromMilliseconds(300), PollInterval = TimeSpan.FromMilliseconds(50) });
        Assert.False(results.Single(r => r.Instance == "main").Converged);
        Assert.True(results.Single(r => r.Instance == "canary").Converged);
        var error = Assert.Single(sink.Errors);
        Assert.Equal("DeploymentWaitTimedOut", error.ErrorId);
        Assert.Contains("main on c1: only 1 of the required 2 replica(s) ready", error.Message);
        Assert.Contains(sink.ProgressReports, p => p.State == ProgressState.Completed);
    }

    [Fact]
    public void WaitTakesServicesByWildcardAndNeedsTheGroupOnlyOfThoseNamedExactly()
    {
        Service("other", ("c1", "web: {instances: 1}\n"));
        _soa.Write("other/kubernetes-c1.yaml", "web: {deploy_group: elsewhere, instances: 1}\n");
        _soa.Write("other/deploy.yaml", "pipeline:\n- step: everything\n- step: elsewhere\n");
        Running(_one, "main", ready: 2);
        Running(_one, "canary", ready: 1);
        var (context, sink) = Context();
        var results = new DeploymentWaitOperation().Wait(context, new DeploymentWaitRequest(new[] { "*" }, "everything") { Timeout = TimeSpan.FromSeconds(30) });
        Assert.Equal(new[] { ("svc", "main"), ("svc", "canary") }, results.Select(r => (r.Service, r.Instance)));
        Assert.Empty(sink.Errors);
        Assert.Contains(sink.Messages, m => m.Text.Contains("other has no long-running instance in deploy group everything", StringComparison.Ordinal));

        var (named, namedSink) = Context();
        results = new DeploymentWaitOperation().Wait(named, new DeploymentWaitRequest(new[] { "other", "svc" }, "everything") { Timeout = TimeSpan.FromSeconds(30) });
        Assert.Equal(2, results.Count);
        Assert.Equal("DeployGroupNotUsed", Assert.Single(namedSink.Errors).ErrorId);
    }

    [Fact]
    public void WaitRefusesAGroupNoInstanceUses()
    {
        var (context, _) = Context();
        var e = Assert.Throws<PaastaException>(() => new DeploymentWaitOperation().Wait(context, new DeploymentWaitRequest("svc", "nosuch")));
        Assert.Equal("DeployGroupNotUsed", e.ErrorId);
        Assert.Empty(_one.Requests);
    }

    // ------------------------------------------------------------------ render

    [Fact]
    public void RenderingOfflineNeedsNoClusterAndTakesThePathOfObjectsThatDoNotExistYet()
    {
        Service("svc", ("c1", "main: {instances: 2}\nauto: {min_instances: 1, max_instances: 5}\n"));
        _one.Dispose(); // nothing answers: offline rendering must not ask
        var (context, sink) = Context();
        var objects = KubernetesObjectsOperation.Render(context, Select(context), live: false);
        Assert.Equal(new[] { "Namespace", "LimitRange", "Deployment", "PodDisruptionBudget", "Deployment", "PodDisruptionBudget", "HorizontalPodAutoscaler" },
            objects.Cast<IKubernetesObject>().Select(o => o.Kind));
        var auto = objects.OfType<V1Deployment>().Single(d => d.Metadata.Name == "svc-auto");
        Assert.Equal(5, auto.Spec.Replicas); // no live count: max_instances
        Assert.Equal("policy/v1", objects.OfType<V1PodDisruptionBudget>().First().ApiVersion);
        Assert.Equal("autoscaling/v2", objects.OfType<V2HorizontalPodAutoscaler>().Single().ApiVersion);
        Assert.Empty(sink.Errors);
        Assert.Empty(_one.Requests);
    }

    [Fact]
    public void RenderingWithTheClusterReadsItAsSyncDoesAndWritesNothing()
    {
        Service("svc", ("c1", "auto: {min_instances: 1, max_instances: 5}\n"));
        var (sync, _) = Context();
        Sync(sync, Select(sync));
        var live = _one.Get("deployments", "paastasvc-svc", "svc-auto")!;
        live["spec"]!["replicas"] = 3; // the autoscaler's count
        var writes = _one.Writes.Count();

        var (context, _) = Context();
        var objects = KubernetesObjectsOperation.Render(context, Select(context), live: true);
        var deployment = objects.OfType<V1Deployment>().Single();
        Assert.Equal(3, deployment.Spec.Replicas);
        Assert.Equal(live["metadata"]!["labels"]![ConfigSha.Label]!.GetValue<string>(), deployment.Metadata.Labels[ConfigSha.Label]);
        Assert.Equal("policy/v1beta1", objects.OfType<V1PodDisruptionBudget>().Single().ApiVersion);
        Assert.Equal("autoscaling/v2beta2", objects.OfType<V2HorizontalPodAutoscaler>().Single().ApiVersion);
        Assert.Equal(writes, _one.Writes.Count());
    }

    [Fact]
    public void TheOfflineObjectsAreTheOnesSyncCreates()
    {
        var (render, _) = Context();
        var rendered = KubernetesObjectsOperation.Render(render, Select(render), live: false).OfType<V1Deployment>().ToList();
        var (sync, _) = Context();
        Sync(sync, Select(sync));
        foreach (var d in rendered)
        {
            var created = KubernetesJson.Deserialize<V1Deployment>(_one.Get("deployments", "paastasvc-svc", d.Metadata.Name)!.ToJsonString());
            Assert.Equal(KubernetesJson.Serialize(d.Spec), KubernetesJson.Serialize(created.Spec));
            Assert.Equal(d.Metadata.Labels, created.Metadata.Labels);
        }
    }

    [Fact]
    public void TheManifestIsOneYamlStreamOfTheObjects()
    {
        var (context, _) = Context();
        var objects = KubernetesObjectsOperation.Render(context, Select(context, instances: new[] { "main" }), live: false);
        var yaml = KubernetesObjectsOperation.ToYaml(objects);
        var documents = yaml.Split("---\n");
        Assert.Equal(objects.Count, documents.Length);
        Assert.StartsWith("apiVersion: v1\nkind: Namespace\n", documents[0]);
        Assert.Contains("kind: Deployment\n", documents[2]);
        var parsed = KubernetesYaml.LoadAllFromString(yaml);
        Assert.Equal(objects.Count, parsed.Count);
        Assert.IsType<V1Deployment>(parsed[2]);
    }
}
