using System.Net;
using System.Net.Sockets;
using System.Text;
using Paasta.Monitoring;
using Paasta.Errors;

namespace Paasta.Tests.Monitoring;

/// <summary>SensuClient against loopback listeners that behave as the Sensu client socket does, and as it fails.</summary>
public class SensuClientTests
{
    private static readonly SensuEvent Event = new()
    {
        Name = "check_paasta_services_replication.web.main", Status = SensuStatus.CRITICAL, Output = "web.main has 0/1 replicas available (threshold: 50%)",
        Team = "backend", Runbook = "y/rb", Interval = 60, AlertAfter = 600, Source = "paasta-prod",
    };

    /// <summary>Accepts one connection, reads until the bytes parse as JSON (or the peer stops), answers, and returns what it read.</summary>
    private static async Task<string> Serve(TcpListener listener, string? answer)
    {
        using var peer = await listener.AcceptTcpClientAsync();
        var stream = peer.GetStream();
        var received = new MemoryStream();
        var buffer = new byte[4096];
        while (true)
        {
            var n = await stream.ReadAsync(buffer);
            if (n == 0) break;
            received.Write(buffer, 0, n);
            try { System.Text.Json.JsonDocument.Parse(received.ToArray()); break; } catch (System.Text.Json.JsonException) { }
        }
        if (answer is not null) await stream.WriteAsync(Encoding.ASCII.GetBytes(answer));
        peer.Client.Shutdown(SocketShutdown.Both);
        return Encoding.ASCII.GetString(received.ToArray());
    }

    private static (TcpListener Listener, SensuEndpoint Endpoint) Listen()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return (listener, new SensuEndpoint("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port));
    }

    [Fact]
    public async Task SendsOneJsonLineAndReadsTheAcknowledgement()
    {
        var (listener, endpoint) = Listen();
        using var _ = listener;
        var server = Serve(listener, "ok");
        var delivery = await SensuClient.SendAsync(Event, endpoint, TimeSpan.FromSeconds(5));
        Assert.Equal(Event.ToJson() + "\n", await server);
        Assert.True(delivery.Acknowledged);
        Assert.Equal(("ok", SensuStatus.CRITICAL), (delivery.Reply, delivery.Status));
        Assert.Equal(Event.ToJson(), delivery.Json);
    }

    [Fact]
    public async Task APeerThatClosesWithoutAnswerHasTakenTheEvent()
    {
        var (listener, endpoint) = Listen();
        using var _ = listener;
        var server = Serve(listener, null);
        var delivery = await SensuClient.SendAsync(Event, endpoint, TimeSpan.FromSeconds(5));
        await server;
        Assert.False(delivery.Acknowledged);
        Assert.Null(delivery.Reply);
    }

    [Fact]
    public async Task InvalidIsAnError()
    {
        var (listener, endpoint) = Listen();
        using var _ = listener;
        var server = Serve(listener, "invalid");
        var e = await Assert.ThrowsAsync<PaastaException>(() => SensuClient.SendAsync(Event, endpoint, TimeSpan.FromSeconds(5)));
        await server;
        Assert.Equal(("SensuEventRejected", PaastaErrorKind.InvalidData), (e.ErrorId, e.Kind));
    }

    [Fact]
    public async Task ConnectionRefusedIsAnError()
    {
        var (listener, endpoint) = Listen();
        listener.Stop();
        var e = await Assert.ThrowsAsync<PaastaException>(() => SensuClient.SendAsync(Event, endpoint, TimeSpan.FromSeconds(5)));
        Assert.Equal(("SensuConnectionRefused", PaastaErrorKind.ConnectionError), (e.ErrorId, e.Kind));
        Assert.Contains(endpoint.ToString(), e.Message);
    }

    [Fact]
    public async Task ASocketThatNeverAnswersTimesOut()
    {
        // Listening, so the kernel completes the connection and buffers the event, but nothing ever reads or answers.
        var (listener, endpoint) = Listen();
        using var _ = listener;
        var started = DateTime.UtcNow;
        var e = await Assert.ThrowsAsync<PaastaException>(() => SensuClient.SendAsync(Event, endpoint, TimeSpan.FromMilliseconds(700)));
        Assert.Equal(("SensuSocketTimeout", PaastaErrorKind.OperationTimeout), (e.ErrorId, e.Kind));
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromMilliseconds(600), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task CancellationStopsAWait()
    {
        var (listener, endpoint) = Listen();
        using var _ = listener;
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => SensuClient.SendAsync(Event, endpoint, TimeSpan.FromSeconds(30), cts.Token));
    }
}
