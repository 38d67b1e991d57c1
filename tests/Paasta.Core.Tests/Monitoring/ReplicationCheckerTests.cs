using Paasta.Config;
using Paasta.Monitoring;
using Paasta.Errors;

namespace Paasta.Tests.Monitoring;

public class ReplicationCheckerTests
{
    private sealed class FakeReplicas : IReplicaReader
    {
        public Dictionary<string, NamespaceReplicas> Namespaces { get; } = new();
        public List<(string Ns, string[] Services, ReplicaControllers Controllers)> Calls { get; } = new();
        public HashSet<string> Failing { get; } = new();

        public Task<NamespaceReplicas> ReadAsync(string ns, IReadOnlyCollection<string> services, ReplicaControllers controllers, CancellationToken cancellation)
        {
            lock (Calls) Calls.Add((ns, services.ToArray(), controllers));
            if (Failing.Contains(ns)) throw new PaastaException("KubeApiUnreachable", PaastaErrorKind.ConnectionError, $"down: {ns}");
            return Task.FromResult(Namespaces.TryGetValue(ns, out var r) ? r : new NamespaceReplicas());
        }
    }

    private static Dictionary<string, InstanceConfig> Load(TempSoaDir soa, string service)
    {
        var reader = new SoaConfigReader(soa.Root);
        var results = reader.LoadInstances(reader.LoadService(service)).ToList();
        Assert.All(results, r => Assert.Null(r.Error));
        return results.Select(r => r.Value!).ToDictionary(i => i.Instance);
    }

    private static TempSoaDir Soa()
    {
        var soa = new TempSoaDir();
        soa.Service("web", "backend", "prod.main");
        soa.Write("web/smartstack.yaml", "main: {proxy_port: 20001}\nnomesh: {proxy_port: null}\n");
        soa.Write("web/kubernetes-prod.yaml", """
            _d: &d {deploy_group: prod.main}
            main: {<<: *d, instances: 4}
            canary: {<<: *d, instances: 1, registrations: [web.main]}
            nomesh: {<<: *d, instances: 2}
            scaled: {<<: *d, min_instances: 2, max_instances: 6}
            fresh: {<<: *d, min_instances: 1, max_instances: 3}
            stopped: {<<: *d, instances: 3}
            undeployed: {deploy_group: prod.never}
            uncontrolled: {<<: *d}
            """);
        soa.Write("web/deployments.json", """
            {"v1": {}, "v2": {"deployments": {"prod.main": {"docker_image": "services-web:paasta-abc", "git_sha": "abc", "image_version": null}},
             "controls": {"web:prod.main": {"desired_state": "start", "force_bounce": null},
                          "web:prod.canary": {"desired_state": "start", "force_bounce": null},
                          "web:prod.nomesh": {"desired_state": "start", "force_bounce": null},
                          "web:prod.scaled": {"desired_state": "start", "force_bounce": null},
                          "web:prod.fresh": {"desired_state": "start", "force_bounce": null},
                          "web:prod.stopped": {"desired_state": "stop", "force_bounce": "20240316T090000"},
                          "web:prod.undeployed": {"desired_state": "start", "force_bounce": null}}}}
            """);
        return soa;
    }

    [Fact]
    public void SelectsDeployedInstancesOnly()
    {
        using var soa = Soa();
        var selection = ReplicationSelection.Of(Load(soa, "web").Values);
        Assert.Equal(new[] { "canary", "fresh", "main", "nomesh", "scaled", "stopped" }, selection.Targets.Select(t => t.Instance.Instance).Order());
        Assert.Equal("stop", selection.Targets.Single(t => t.Instance.Instance == "stopped").DesiredState);
        Assert.Equal(new[] { "uncontrolled", "undeployed" }, selection.NotDeployed.Select(n => n.Instance.Instance).Order());
        Assert.Contains(selection.NotDeployed, n => n.Reason.Contains("prod.never has no docker image"));
        Assert.Empty(selection.Errors);
    }

    [Fact]
    public void MissingOrBrokenDeploymentsJson()
    {
        using var soa = new TempSoaDir();
        soa.Service("a");
        soa.Write("a/kubernetes-prod.yaml", "main: {}\n");
        soa.Service("b");
        soa.Write("b/kubernetes-prod.yaml", "main: {}\n");
        soa.Write("b/deployments.json", "{not json");
        var selection = ReplicationSelection.Of(Load(soa, "a").Values.Concat(Load(soa, "b").Values));
        Assert.Empty(selection.Targets);
        // No file: not deployed, skipped. A file that cannot be read: not known to be undeployed, so unchecked.
        Assert.Equal("a", Assert.Single(selection.NotDeployed).Instance.Service);
        var broken = Assert.Single(selection.Unchecked);
        Assert.Equal("b", broken.Instance.Service);
        Assert.Contains("DeploymentsFileInvalid", broken.Reason);
        Assert.Equal("DeploymentsFileInvalid", Assert.Single(selection.Errors).ErrorId);
    }

    [Fact]
    public void MeshCountingOnlyForTheInstanceItselfWithAProxyPort()
    {
        using var soa = Soa();
        var i = Load(soa, "web");
        Assert.True(ReplicationChecker.IsMeshChecked(i["main"]));
        Assert.False(ReplicationChecker.IsMeshChecked(i["canary"]));  // registered as web.main
        Assert.False(ReplicationChecker.IsMeshChecked(i["nomesh"]));  // proxy_port: null
        Assert.False(ReplicationChecker.IsMeshChecked(i["scaled"]));  // not in smartstack.yaml
    }

    [Fact]
    public async Task CountsReadyPodsWithOneReadPerNamespace()
    {
        using var soa = Soa();
        var selection = ReplicationSelection.Of(Load(soa, "web").Values);
        var fake = new FakeReplicas();
        var ns = new NamespaceReplicas();
        ns.ReadyPods[("web", "main")] = 4;
        ns.ReadyPods[("web", "canary")] = 0;
        ns.ReadyPods[("web", "nomesh")] = 1;
        ns.ReadyPods[("web", "scaled")] = 2;
        ns.ReadyPods[("web", "stopped")] = 1;   // still terminating
        ns.ControllerReplicas[("web", "scaled", ReplicaControllers.Deployments)] = 1; // below min 2: clamped
        fake.Namespaces["paastasvc-web"] = ns;
        var checker = new ReplicationChecker(fake, (_, _) => throw new InvalidOperationException("no mesh expected"), new ReplicationOptions());
        var progress = new List<ReplicationProgress>();
        var run = await checker.RunAsync(selection.Targets, progress.Add, CancellationToken.None);

        var call = Assert.Single(fake.Calls);
        Assert.Equal("paastasvc-web", call.Ns);
        Assert.Equal(ReplicaControllers.Deployments, call.Controllers); // autoscaled Deployments need the live count; no StatefulSet here
        Assert.Equal(new ReplicationProgress(1, 1, "paastasvc-web", 0), Assert.Single(progress));
        Assert.Empty(run.Errors);
        var r = run.Results.ToDictionary(x => x.Instance);
        Assert.All(r.Values, x => Assert.Equal(ReplicationMethod.Pods, x.Method)); // no -HaproxyStats: mesh instances count pods too
        Assert.Equal((4L, 4L, SensuStatus.OK), (r["main"].ExpectedCount, r["main"].AvailableCount, r["main"].Status));
        Assert.Equal((1L, 0L, SensuStatus.CRITICAL), (r["canary"].ExpectedCount, r["canary"].AvailableCount, r["canary"].Status));
        Assert.Equal("web.nomesh has 1/2 replicas available (threshold: 50%)", r["nomesh"].Output);
        Assert.Equal(SensuStatus.OK, r["nomesh"].Status);
        Assert.Equal((2L, SensuStatus.OK), (r["scaled"].ExpectedCount, r["scaled"].Status));
        Assert.Equal((3L, 0L, SensuStatus.CRITICAL), (r["fresh"].ExpectedCount, r["fresh"].AvailableCount, r["fresh"].Status)); // no Deployment yet: max
        Assert.Equal((0L, SensuStatus.OK, "stop"), (r["stopped"].ExpectedCount, r["stopped"].Status, r["stopped"].DesiredState));
        Assert.Equal(new[] { "canary", "fresh", "main", "nomesh", "scaled", "stopped" }, run.Results.Select(x => x.Instance));
    }

    [Fact]
    public async Task AutoscaledStatefulSetsReadTheirStatefulSetAndOnlyWhatIsNeededIsListed()
    {
        using var soa = new TempSoaDir();
        soa.Service("db", "backend", "prod.main");
        soa.Write("db/kubernetes-prod.yaml", """
            _d: &d {deploy_group: prod.main}
            store: {<<: *d, min_instances: 1, max_instances: 5, persistent_volumes: [{container_path: /data, size: 1, mode: RW}]}
            fixedstore: {<<: *d, instances: 2, persistent_volumes: [{container_path: /data, size: 1, mode: RW}]}
            web: {<<: *d, min_instances: 1, max_instances: 4}
            plain: {<<: *d, instances: 1}
            """);
        soa.Write("db/deployments.json", """
            {"v1": {}, "v2": {"deployments": {"prod.main": {"docker_image": "services-db:paasta-abc", "git_sha": "abc", "image_version": null}},
             "controls": {"db:prod.store": {"desired_state": "start", "force_bounce": null},
                          "db:prod.fixedstore": {"desired_state": "start", "force_bounce": null},
                          "db:prod.web": {"desired_state": "start", "force_bounce": null},
                          "db:prod.plain": {"desired_state": "start", "force_bounce": null}}}}
            """);
        var targets = ReplicationSelection.Of(Load(soa, "db").Values).Targets;
        Task<ReplicationRun> Run(FakeReplicas fake, params string[] instances) =>
            new ReplicationChecker(fake, (_, _) => throw new InvalidOperationException(), new ReplicationOptions())
                .RunAsync(targets.Where(t => instances.Contains(t.Instance.Instance)).ToList(), null, CancellationToken.None);

        var ns = new NamespaceReplicas();
        ns.ControllerReplicas[("db", "store", ReplicaControllers.StatefulSets)] = 3;
        ns.ControllerReplicas[("db", "store", ReplicaControllers.Deployments)] = 9;  // a leftover of the other kind is not read
        ns.ControllerReplicas[("db", "web", ReplicaControllers.Deployments)] = 2;
        var fake = new FakeReplicas();
        fake.Namespaces["paastasvc-db"] = ns;
        var all = (await Run(fake, "store", "fixedstore", "web", "plain")).Results.ToDictionary(r => r.Instance);
        Assert.Equal(ReplicaControllers.Deployments | ReplicaControllers.StatefulSets, Assert.Single(fake.Calls).Controllers);
        Assert.Equal(3L, all["store"].ExpectedCount);      // the StatefulSet's live replicas, not max_instances (5)
        Assert.Equal(2L, all["web"].ExpectedCount);
        Assert.Equal(2L, all["fixedstore"].ExpectedCount);

        // Each kind is listed only when an autoscaled instance runs as it; none when nothing is autoscaled.
        var onlySets = new FakeReplicas();
        onlySets.Namespaces["paastasvc-db"] = ns;
        Assert.Equal(3L, (await Run(onlySets, "store", "plain")).Results.Single(r => r.Instance == "store").ExpectedCount);
        Assert.Equal(ReplicaControllers.StatefulSets, Assert.Single(onlySets.Calls).Controllers);
        var none = new FakeReplicas();
        await Run(none, "fixedstore", "plain");
        Assert.Equal(ReplicaControllers.None, Assert.Single(none.Calls).Controllers);
        var fresh = new FakeReplicas();   // no StatefulSet yet: max_instances, as for Deployments
        Assert.Equal(5L, (await Run(fresh, "store")).Results.Single().ExpectedCount);
    }

    private static HaproxyCounts Counts(string location, params (string Backend, int Up)[] up) =>
        new(location, HaproxyStatsSource.Parse($"/run/{location}.sock"), up.ToDictionary(u => u.Backend, u => u.Up), up.Length);

    [Fact]
    public async Task MeshInstancesCountUpServersPerLocation()
    {
        using var soa = Soa();
        var selection = ReplicationSelection.Of(Load(soa, "web").Values);
        var locations = HaproxyLocation.FromArguments(new[] { "west=/run/west.sock", "east=/run/east.sock" }, "prod");
        var asked = new List<string>();
        var checker = new ReplicationChecker(new FakeReplicas(), (loc, _) =>
        {
            lock (asked) asked.Add(loc.Name);
            return Task.FromResult(loc.Name == "east" ? Counts("east", ("web.main", 2)) : Counts("west", ("web.main", 0), ("web.canary", 9)));
        }, new ReplicationOptions { MeshLocations = locations });
        var run = await checker.RunAsync(selection.Targets, null, CancellationToken.None);
        var main = run.Results.Single(x => x.Instance == "main");
        Assert.Equal(ReplicationMethod.Smartstack, main.Method);
        Assert.Equal(SensuStatus.CRITICAL, main.Status);
        Assert.Equal("web.main has 0/2 replicas in west according to Smartstack (CRITICAL: 0.0%). The following locations are OK: "
            + "web.main has 2/2 replicas in east according to Smartstack (OK: 100.0%)", main.Output);
        Assert.Equal((4L, 2L, 0.0), (main.ExpectedCount, main.AvailableCount, main.Ratio));
        Assert.Equal(new[] { "east", "west" }, main.Locations.Select(l => l.Location));
        Assert.Contains("503", main.Description);
        Assert.Equal(ReplicationMethod.Pods, run.Results.Single(x => x.Instance == "canary").Method);
        Assert.Equal(new[] { "east", "west" }, asked.Order()); // each location read once
    }

    [Fact]
    public async Task FailuresLeaveInstancesUncheckedWithOneErrorEach()
    {
        using var soa = Soa();
        var selection = ReplicationSelection.Of(Load(soa, "web").Values);
        var fake = new FakeReplicas();
        var checker = new ReplicationChecker(fake, (loc, _) => throw new PaastaException("HaproxyStatsUnavailable", PaastaErrorKind.ConnectionError, $"{loc.Name} down"),
            new ReplicationOptions { MeshLocations = HaproxyLocation.FromArguments(new[] { "/run/x.sock" }, "prod") });
        var run = await checker.RunAsync(selection.Targets, null, CancellationToken.None);
        Assert.Equal(new[] { "web.main" }, run.Unchecked);
        Assert.Equal("HaproxyStatsUnavailable", Assert.Single(run.Errors).ErrorId);
        Assert.Equal(5, run.Results.Count);

        fake.Failing.Add("paastasvc-web");
        var checker2 = new ReplicationChecker(fake, (_, _) => throw new InvalidOperationException(), new ReplicationOptions());
        var run2 = await checker2.RunAsync(selection.Targets, null, CancellationToken.None);
        Assert.Empty(run2.Results);
        Assert.Equal(6, run2.Unchecked.Count);
        Assert.Equal("KubeApiUnreachable", Assert.Single(run2.Errors).ErrorId);
    }
}
