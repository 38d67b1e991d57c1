using System.Net;
using System.Net.Sockets;
using Paasta.Errors;
using Paasta.Monitoring;
using Paasta.Operations;
using Paasta.Settings;
using Xunit;

namespace Paasta.Tests.Operations;

/// <summary>Test-PaastaReplication and Send-PaastaSensuEvent as operations, against stand-ins for the cluster and the socket.</summary>
public sealed class MonitoringOperationsTests : IDisposable
{
    private readonly TempSoaDir _soa = new();
    private readonly RecordingSink _sink = new();

    public MonitoringOperationsTests()
    {
        _soa.Service("web", "backend", "prod.main");
        _soa.Write("web/kubernetes-prod.yaml", "main: {deploy_group: prod.main, instances: 2}\nstopped: {deploy_group: prod.main, instances: 3}\nnew: {deploy_group: prod.never}\n");
        _soa.Write("web/tron-prod.yaml", "nightly:\n  schedule: daily 04:00:00\n  deploy_group: prod.main\n  actions:\n    run:\n      command: echo hi\n");
        _soa.Write("web/deployments.json", """
            {"v1": {}, "v2": {"deployments": {"prod.main": {"docker_image": "services-web:paasta-abc", "git_sha": "abc", "image_version": null}},
             "controls": {"web:prod.main": {"desired_state": "start", "force_bounce": null},
                          "web:prod.stopped": {"desired_state": "stop", "force_bounce": "20240316T090000"}}}}
            """);
    }

    public void Dispose() => _soa.Dispose();

    private OperationContext Context(PaastaSettings? given = null, PaastaSettings? saved = null) => _sink.Context(_soa.Root, given, saved);

    private sealed class Replicas : IReplicaReader
    {
        public List<string> Namespaces { get; } = new();

        public Task<NamespaceReplicas> ReadAsync(string ns, IReadOnlyCollection<string> services, ReplicaControllers controllers, CancellationToken cancellation)
        {
            lock (Namespaces) Namespaces.Add(ns);
            var r = new NamespaceReplicas { PodsListed = 1 };
            r.ReadyPods[("web", "main")] = 1;
            return Task.FromResult(r);
        }
    }

    [Fact]
    public void Checks_the_deployed_long_running_instances_of_the_cluster_and_skips_the_rest()
    {
        var check = new ReplicationOperation(new ReplicationCheckOptions());
        check.Add(Context(), new[] { "web" }, new[] { "prod" }, null);
        var replicas = new Replicas();
        var report = check.Check(Context(), _ => replicas);
        Assert.Equal(new[] { "main", "stopped" }, report.Results.Select(r => r.Instance));
        Assert.Equal(0, report.Results.Single(r => r.Instance == "stopped").ExpectedCount);
        Assert.Equal(new[] { "web.new" }, report.Summary.NotDeployed);
        Assert.Empty(report.Summary.Unchecked);
        Assert.Equal(new[] { "paastasvc-web" }, replicas.Namespaces);
        Assert.Equal(ProgressState.Completed, _sink.ProgressReports.Last().State);
    }

    [Fact]
    public void Clusters_are_names_or_wildcards_each_read_through_its_own_reader()
    {
        _soa.Write("web/kubernetes-prod2.yaml", "main: {deploy_group: prod.main, instances: 1}\n");
        _soa.Write("web/deployments.json", """
            {"v1": {}, "v2": {"deployments": {"prod.main": {"docker_image": "services-web:paasta-abc", "git_sha": "abc", "image_version": null}},
             "controls": {"web:prod.main": {"desired_state": "start", "force_bounce": null}, "web:prod2.main": {"desired_state": "start", "force_bounce": null}}}}
            """);
        var check = new ReplicationOperation(new ReplicationCheckOptions());
        check.Add(Context(), new[] { "web" }, new[] { "prod*", "nomatch*" }, new[] { "main" });
        var read = new List<string>();
        var report = check.Check(Context(), cluster => { read.Add(cluster); return new Replicas(); });
        Assert.Equal(new[] { "prod", "prod2" }, read);
        Assert.Equal(new[] { "prod", "prod2" }, report.Results.Select(r => r.Cluster));
        Assert.Equal("prod,prod2", report.Summary.Cluster);
        Assert.Empty(_sink.Errors);

        check.Add(Context(), new[] { "web" }, new[] { "nosuch" }, null);
        Assert.Equal("ClusterNotFound", Assert.Single(_sink.ErrorIds));
    }

    [Fact]
    public void The_cluster_comes_from_the_settings_and_without_one_the_check_is_refused()
    {
        var check = new ReplicationOperation(new ReplicationCheckOptions());
        check.Add(Context(saved: new PaastaSettings { Cluster = "prod" }), new[] { "web" }, null, null);
        Assert.Equal(3, check.Instances.Count);
        Assert.Equal("ClusterNotSpecified", Assert.Throws<PaastaException>(() => check.Add(Context(), new[] { "web" }, null, null)).ErrorId);
    }

    [Fact]
    public void What_could_not_be_read_or_found_is_listed_as_not_checked_so_the_run_is_not_OK()
    {
        _soa.Service("broken", "backend", "prod.main");
        _soa.Write("broken/kubernetes-prod.yaml", "main: {instances: [unclosed\n");
        var check = new ReplicationOperation(new ReplicationCheckOptions());
        check.Add(Context(), new[] { "broken", "nosuch" }, new[] { "prod" }, null);
        check.Add(Context(), new[] { "web" }, new[] { "prod" }, new[] { "typo" });
        var report = check.Check(Context(), _ => new Replicas());
        Assert.Equal(new[] { "broken (kubernetes-prod.yaml)", "nosuch", "typo" }, report.Summary.Unchecked);
        Assert.Equal(SensuStatus.UNKNOWN, report.Summary.Status);
        Assert.Contains("InstanceNotFound", _sink.ErrorIds);
    }

    [Fact]
    public void A_cluster_that_cannot_be_reached_leaves_its_instances_unchecked()
    {
        var check = new ReplicationOperation(new ReplicationCheckOptions());
        check.Add(Context(), new[] { "web" }, new[] { "prod" }, null);
        var report = check.Check(Context(), _ => throw new PaastaException("KubeConfigNotFound", PaastaErrorKind.ObjectNotFound, "no kubeconfig"));
        Assert.Empty(report.Results);
        Assert.Equal(new[] { "web.main", "web.stopped" }, report.Summary.Unchecked);
        Assert.Equal(1, report.Summary.ExitCode);
    }

    [Fact]
    public void A_bad_HaproxyStats_entry_is_refused_before_anything_is_read()
    {
        var e = Assert.Throws<PaastaException>(() => new ReplicationOperation(new ReplicationCheckOptions { HaproxyStats = new[] { "ftp://x/" } }));
        Assert.Equal("HaproxyStatsSourceInvalid", e.ErrorId);
    }

    [Fact]
    public void Sensu_socket_comes_from_the_settings_and_a_check_without_team_is_not_sent()
    {
        var sender = SensuSender.For(Context(saved: new PaastaSettings { SensuSocket = "10.1.2.3:4000" }));
        Assert.Equal(new SensuEndpoint("10.1.2.3", 4000), sender.Endpoint);
        Assert.Null(sender.Send(Context(), new SensuCheck { Name = "x", Output = "y" }, TimeSpan.FromSeconds(1)));
        Assert.Contains(_sink.Warnings, w => w.Contains("no team"));
        Assert.Empty(_sink.Asked);
        Assert.Equal("SensuSocketInvalid", Assert.Throws<PaastaException>(() => SensuSender.For(Context(new PaastaSettings { SensuSocket = "host:port" }))).ErrorId);
    }

    [Fact]
    public void A_check_is_sent_only_after_ShouldProcess_with_PaaSTAs_defaults()
    {
        var check = new SensuCheck { Name = "backup", Status = SensuStatus.CRITICAL, Output = "late", Team = "storage", Cluster = "prod" };
        var e = check.ToEvent();
        Assert.Equal(("http://y/paasta-troubleshooting", "paasta-prod", 60L, 300L), (e.Runbook, e.Source!, e.Interval!.Value, e.AlertAfter!.Value));
        _sink.Confirm = false;
        var sender = SensuSender.For(Context(new PaastaSettings { SensuSocket = "127.0.0.1:1" }));
        Assert.Null(sender.Send(Context(), check, TimeSpan.FromSeconds(1)));
        Assert.Equal(("backup (CRITICAL)", "Send a Sensu check result to 127.0.0.1:1"), _sink.Asked.Single());
    }

    /// <summary>A peer that reads <paramref name="bytes"/> bytes of the event, then resets the connection (RST, not FIN).</summary>
    private static async Task ReadThenReset(TcpListener listener, int bytes)
    {
        using var peer = await listener.AcceptSocketAsync();
        var buffer = new byte[bytes];
        var read = 0;
        while (read < bytes)
        {
            var n = await peer.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None);
            if (n == 0) break;
            read += n;
        }
        peer.LingerState = new LingerOption(true, 0);
        peer.Close();
    }

    [Fact]
    public async Task A_peer_that_reads_10_bytes_and_resets_the_connection_is_not_reported_as_delivered()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var endpoint = new SensuEndpoint("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port);
            var peer = ReadThenReset(listener, 10);
            var sensuEvent = new SensuCheck { Name = "check_paasta_services_replication.web.main", Status = SensuStatus.CRITICAL, Output = new string('x', 300), Team = "backend" }.ToEvent();
            var e = await Assert.ThrowsAsync<PaastaException>(() => SensuClient.SendAsync(sensuEvent, endpoint, TimeSpan.FromSeconds(10)));
            await peer;
            Assert.Equal("SensuConnectionFailed", e.ErrorId);
            Assert.Equal(PaastaErrorKind.ConnectionError, e.Kind);
            Assert.Contains("reset", e.Message);
        }
        finally { listener.Stop(); }
    }

    [Fact]
    public void Through_the_sender_the_reset_is_an_error_and_nothing_counts_as_sent()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var peer = ReadThenReset(listener, 10);
            var sender = SensuSender.For(Context(new PaastaSettings { SensuSocket = $"127.0.0.1:{port}" }));
            var e = Assert.Throws<PaastaException>(() => sender.Send(Context(), new SensuCheck { Name = "c", Output = "o", Team = "t" }, TimeSpan.FromSeconds(10)));
            peer.GetAwaiter().GetResult();
            Assert.Equal("SensuConnectionFailed", e.ErrorId);
            Assert.DoesNotContain(_sink.Messages, m => m.Text.Contains("sent;"));
        }
        finally { listener.Stop(); }
    }
}
