using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Paasta.Cmdlets.Tests;

/// <summary>Tron, job and monitoring cmdlets as an operator types them, against loopback stand-ins (no cluster).</summary>
public sealed class JobsAndMonitoringCmdletTests : IDisposable
{
    private readonly PaastaHost _host = new();
    private static readonly string Examples = Path.Combine(PaastaHost.RepositoryRoot, "examples", "soa-configs");

    public void Dispose() => _host.Dispose();

    /// <summary>A Tron master's config API on loopback: GET answers {config, hash}, POST stores the config.</summary>
    private sealed class TronStandIn : IDisposable
    {
        private readonly HttpListener _listener = new();
        public Dictionary<string, string> Store { get; } = new();
        public string Url { get; }

        public TronStandIn()
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Url = $"http://127.0.0.1:{port}/";
            _listener.Prefixes.Add(Url);
            _listener.Start();
            _ = Task.Run(Loop);
        }

        private async Task Loop()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext c;
                try { c = await _listener.GetContextAsync(); } catch { return; }
                string body;
                if (c.Request.HttpMethod == "GET")
                {
                    var name = c.Request.QueryString["name"] ?? "";
                    var config = Store.GetValueOrDefault(name, "");
                    body = JsonSerializer.Serialize(new { config, hash = Convert.ToHexString(SHA1.HashData(Encoding.UTF8.GetBytes(config))).ToLowerInvariant() });
                }
                else
                {
                    using var reader = new StreamReader(c.Request.InputStream);
                    var form = (await reader.ReadToEndAsync()).Split('&').Select(p => p.Split('=')).ToDictionary(p => p[0], p => WebUtility.UrlDecode(p[1]));
                    Store[form["name"]] = form["config"];
                    body = "{\"status\": \"Active\"}";
                }
                var bytes = Encoding.UTF8.GetBytes(body);
                c.Response.ContentType = "application/json";
                await c.Response.OutputStream.WriteAsync(bytes);
                c.Response.Close();
            }
        }

        public void Dispose() => _listener.Close();
    }

    [Fact]
    public void ConvertTo_PaastaTronConfig_output_binds_to_Sync_PaastaTronNamespace_and_is_sent()
    {
        using var tron = new TronStandIn();
        var r = _host.Invoke("ConvertTo-PaastaTronConfig -SoaDir $args[0] -Service hello -Cluster local -Registry r.example:5000 -WarningAction SilentlyContinue | " +
                             "Sync-PaastaTronNamespace -TronUrl $args[1] -Confirm:$false", Examples, tron.Url);
        Assert.Empty(r.Errors);
        var result = Assert.Single(r.Output);
        Assert.Equal(("hello", "Updated"), ((string)result.Properties["Namespace"].Value, result.Properties["Action"].Value.ToString()!));
        Assert.Contains("nightly_report", tron.Store["hello"]);
    }

    [Fact]
    public void Test_PaastaConfig_Quiet_answers_false_for_a_missing_service_without_writing_an_error()
    {
        var r = _host.Invoke("Test-PaastaConfig -SoaDir $args[0] -Service hello, nosuch -Quiet", Examples);
        Assert.Empty(r.Errors);
        Assert.Equal(new object[] { false }, r.Output.Select(o => o.BaseObject));
        var loud = _host.Invoke("Test-PaastaConfig -SoaDir $args[0] -Service nosuch", Examples);
        Assert.Equal(new[] { "ServiceNotFound" }, loud.ErrorIds);
    }

    [Fact]
    public void A_Sensu_peer_that_reads_10_bytes_and_resets_is_an_error_not_a_delivery()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var peer = Task.Run(async () =>
            {
                using var socket = await listener.AcceptSocketAsync();
                var buffer = new byte[10];
                for (var read = 0; read < 10;)
                {
                    var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None);
                    if (n == 0) break;
                    read += n;
                }
                socket.LingerState = new LingerOption(true, 0);
                socket.Close();
            });
            var r = _host.Invoke("[pscustomobject]@{ Name = 'c'; Status = 'CRITICAL'; Output = ('x' * 200); Team = 't' } | Send-PaastaSensuEvent -SensuSocket $args[0] -PassThru",
                $"127.0.0.1:{port}");
            peer.GetAwaiter().GetResult();
            Assert.Empty(r.Output);
            var error = Assert.Single(r.Errors);
            Assert.Equal("SensuConnectionFailed", error.FullyQualifiedErrorId.Split(',')[0]);
            Assert.Equal(ErrorCategory.ConnectionError, error.CategoryInfo.Category);
        }
        finally { listener.Stop(); }
    }

    [Theory]
    [InlineData("Test-PaastaReplication -SoaDir $args[0] -Cluster 'nomatch*', 'zz*' -Summary")]
    [InlineData("Get-PaastaJob -SoaDir $args[0] -Cluster 'nomatch*', 'zz*'")]
    [InlineData("Sync-PaastaJob -SoaDir $args[0] -Service hello -Cluster 'nomatch*', 'zz*' -Confirm:$false")]
    public void Cluster_takes_several_wildcards_that_may_match_nothing(string script)
    {
        var r = _host.Invoke(script, Examples);
        Assert.Empty(r.Errors);
    }

    [Fact]
    public void Test_PaastaReplication_reports_a_literal_cluster_among_several_that_matches_nothing()
    {
        var r = _host.Invoke("Test-PaastaReplication -SoaDir $args[0] -Service hello -Cluster 'nomatch*', nosuch -Summary", Examples);
        Assert.Equal(new[] { "ClusterNotFound" }, r.ErrorIds);
        Assert.Equal("nosuch", (string)r.Output.Single().Properties["Cluster"].Value);
    }

    [Fact]
    public void Get_PaastaDrainMethod_reports_a_literal_name_that_matches_nothing()
    {
        var r = _host.Invoke("Get-PaastaDrainMethod -Name noop, 'h*', nosuch");
        Assert.Equal(new[] { "hacheck", "http", "noop" }, r.Output.Select(o => (string)o.Properties["Name"].Value).Order());
        Assert.Equal(new[] { "DrainMethodNotFound" }, r.ErrorIds);
    }
}
