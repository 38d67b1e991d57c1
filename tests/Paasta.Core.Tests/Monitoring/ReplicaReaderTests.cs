using System.Text.Json.Nodes;
using Paasta.Kubernetes;
using Paasta.Monitoring;
using Paasta.Tests.Kubernetes;
using Xunit;

namespace Paasta.Tests.Monitoring;

/// <summary>KubernetesReplicaReader against an API server in memory: what it counts from one LIST of pods.</summary>
public sealed class ReplicaReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("paasta-replicas-").FullName;
    private readonly FakeKubeApi _api = new();
    private readonly KubeConnection _kube;

    public ReplicaReaderTests() => _kube = KubeConnection.Open(new KubeTarget(FakeKubeApi.KubeConfig(Path.Combine(_dir, "kubeconfig"), _api), null));

    public void Dispose()
    {
        _kube.Dispose();
        _api.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private void Pod(string name, string? service, string? instance, string? ready, string ns = "paastasvc-svc", string created = "2026-01-01T00:00:00Z")
    {
        var labels = new JsonObject();
        if (service is not null) labels[KubernetesReplicaReader.ServiceLabel] = service;
        if (instance is not null) labels[KubernetesReplicaReader.InstanceLabel] = instance;
        var status = new JsonObject { ["phase"] = "Running" };
        if (ready is not null) status["conditions"] = new JsonArray(new JsonObject { ["type"] = "PodScheduled", ["status"] = "True" }, new JsonObject { ["type"] = "Ready", ["status"] = ready });
        _api.Add("pods", new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["labels"] = labels, ["creationTimestamp"] = created },
            ["status"] = status,
        });
    }

    private NamespaceReplicas Read(string ns = "paastasvc-svc", params string[] services) =>
        new KubernetesReplicaReader(_kube).ReadAsync(ns, services.Length == 0 ? new[] { "svc" } : services, ReplicaControllers.None, default).GetAwaiter().GetResult();

    [Fact]
    public void Counts_the_pods_whose_Ready_condition_is_True_per_service_and_instance()
    {
        Pod("main-1", "svc", "main", "True");
        Pod("main-2", "svc", "main", "True");
        Pod("main-3", "svc", "main", "False");
        Pod("canary-1", "svc", "canary", null);
        Pod("other-1", "other", "main", "True");
        Pod("unlabelled", "svc", null, "True");
        Pod("elsewhere", "svc", "main", "True", ns: "paastasvc-other");

        var read = Read();

        Assert.Equal(4, read.PodsListed);
        Assert.Equal(2, read.ReadyPods[("svc", "main")]);
        Assert.Equal(0, read.ReadyPods[("svc", "canary")]);
        Assert.False(read.ReadyPods.ContainsKey(("other", "main")));
        var list = Assert.Single(_api.Requests);
        Assert.StartsWith("GET /api/v1/namespaces/paastasvc-svc/pods?labelSelector=", list);
        Assert.Equal(1, _kube.Counter.Requests);
    }

    [Fact]
    public void Reads_only_what_it_counts_so_a_field_the_client_models_cannot_parse_does_not_stop_the_check()
    {
        // KubernetesClient's V1Pod rejects a timestamp it cannot parse; the check needs only labels and conditions.
        Pod("main-1", "svc", "main", "True", created: "not a time");
        Assert.Equal(1, Read().ReadyPods[("svc", "main")]);
    }

    [Fact]
    public void Reads_the_replicas_of_Deployments_and_StatefulSets_from_their_lists_as_JSON()
    {
        foreach (var (plural, kind, name, instance, replicas) in new[]
                 { ("deployments", "Deployment", "svc-main", "main", (int?)3), ("deployments", "Deployment", "svc-canary", "canary", null), ("statefulsets", "StatefulSet", "svc-db", "db", 2) })
        {
            var spec = new JsonObject();
            if (replicas is { } n) spec["replicas"] = n;
            _api.Add(plural, new JsonObject
            {
                ["apiVersion"] = "apps/v1",
                ["kind"] = kind,
                // KubernetesClient's models reject a timestamp they cannot parse; the check needs labels and spec.replicas only.
                ["metadata"] = new JsonObject
                {
                    ["name"] = name, ["namespace"] = "paastasvc-svc", ["creationTimestamp"] = "not a time",
                    ["labels"] = new JsonObject { [KubernetesReplicaReader.ServiceLabel] = "svc", [KubernetesReplicaReader.InstanceLabel] = instance },
                },
                ["spec"] = spec,
            });
        }
        var read = new KubernetesReplicaReader(_kube).ReadAsync("paastasvc-svc", new[] { "svc" }, ReplicaControllers.Deployments | ReplicaControllers.StatefulSets, default).GetAwaiter().GetResult();
        Assert.Equal(3, read.ControllerReplicas[("svc", "main", ReplicaControllers.Deployments)]);
        Assert.Equal(1, read.ControllerReplicas[("svc", "canary", ReplicaControllers.Deployments)]); // unset: the API's default
        Assert.Equal(2, read.ControllerReplicas[("svc", "db", ReplicaControllers.StatefulSets)]);
        Assert.Equal(3, _kube.Counter.Requests);
    }

    [Fact]
    public void A_refused_list_is_a_PaastaException_naming_the_namespace()
    {
        _api.Dispose();
        var e = Assert.ThrowsAny<Exception>(() => Read());
        var paasta = Assert.IsType<Paasta.Errors.PaastaException>(e);
        Assert.Equal("KubeApiUnreachable", paasta.ErrorId);
        Assert.Contains("paastasvc-svc", paasta.Message);
    }
}
