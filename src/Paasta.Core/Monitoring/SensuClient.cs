using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Paasta.Errors;

namespace Paasta.Monitoring;

/// <summary>What happened to one event sent to the Sensu client socket.</summary>
public sealed class SensuDelivery
{
    public required string Name { get; init; }
    public SensuStatus Status { get; init; }
    /// <summary>host:port of the Sensu client socket.</summary>
    public required string Endpoint { get; init; }
    /// <summary>True when the client answered "ok" (it parsed the event and will publish it).</summary>
    public bool Acknowledged { get; init; }
    /// <summary>The client's answer, or null when it closed without one.</summary>
    public string? Reply { get; init; }
    /// <summary>The bytes sent (a newline follows them on the wire).</summary>
    public required string Json { get; init; }
    public TimeSpan Elapsed { get; init; }

    public override string ToString() => $"{Name} {Status} -> {Endpoint}{(Acknowledged ? " (ok)" : "")}";
}

/// <summary>The host and port of a Sensu client socket.</summary>
public sealed record SensuEndpoint(string Host, int Port)
{
    public const int DefaultPort = 3030;

    /// <summary>Parses <c>host:port</c>, <c>host</c> (port 3030), <c>[v6]:port</c>.</summary>
    public static SensuEndpoint Parse(string? text)
    {
        var t = text?.Trim() ?? "";
        string host;
        var port = DefaultPort;
        if (t.StartsWith('['))
        {
            var close = t.IndexOf(']');
            if (close < 0) throw Invalid(text);
            host = t[1..close];
            var rest = t[(close + 1)..];
            if (rest.Length > 0 && (!rest.StartsWith(':') || !TryPort(rest[1..], out port))) throw Invalid(text);
        }
        else if (t.Count(c => c == ':') == 1)
        {
            host = t[..t.IndexOf(':')];
            if (!TryPort(t[(t.IndexOf(':') + 1)..], out port)) throw Invalid(text);
        }
        else host = t;
        if (host.Length == 0 || host.Any(char.IsWhiteSpace)) throw Invalid(text);
        return new SensuEndpoint(host, port);
    }

    private static bool TryPort(string s, out int port) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and < 65536;

    private static PaastaException Invalid(string? text) =>
        new("SensuSocketInvalid", PaastaErrorKind.InvalidArgument,
            $"'{text}' is not a Sensu client socket: write host:port, e.g. 127.0.0.1:3030.") { Target = text };

    public override string ToString() => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

/// <summary>
/// Sends check results to the local Sensu client socket as PaaSTA does: one TCP connection per event, the
/// JSON object followed by a newline. It then waits for the client's answer ("ok", or "invalid" for a
/// result it could not parse). Every step is bounded by the timeout, so a dead or stalled socket gives an
/// error, never a hang.
/// </summary>
public static class SensuClient
{
    public static async Task<SensuDelivery> SendAsync(SensuEvent sensuEvent, SensuEndpoint endpoint, TimeSpan timeout, CancellationToken cancellation = default)
    {
        var json = sensuEvent.ToJson();
        var payload = Encoding.ASCII.GetBytes(json + "\n"); // ToJson escapes everything outside ASCII
        var started = System.Diagnostics.Stopwatch.StartNew();
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var at = endpoint.ToString();

        using (var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellation))
        {
            connect.CancelAfter(timeout);
            try
            {
                await socket.ConnectAsync(endpoint.Host, endpoint.Port, connect.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
            {
                throw Timeout(sensuEvent, at, $"could not connect within {Seconds(timeout)}");
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
            {
                throw new PaastaException("SensuConnectionRefused", PaastaErrorKind.ConnectionError,
                    $"Event {sensuEvent.Name} not sent: nothing listens on the Sensu client socket {at} (connection refused). Is the Sensu client running? Use -SensuSocket or Set-PaastaConfiguration -SensuSocket to point elsewhere.", e)
                { Target = sensuEvent.Name };
            }
            catch (SocketException e)
            {
                throw Failed(sensuEvent, at, e.Message, e);
            }
        }

        using var exchange = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        exchange.CancelAfter(timeout);
        try
        {
            await socket.SendAsync(payload, SocketFlags.None, exchange.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            throw Timeout(sensuEvent, at, $"could not write the event within {Seconds(timeout)}");
        }
        catch (SocketException e)
        {
            throw Failed(sensuEvent, at, e.Message, e);
        }

        // The Sensu client answers "ok" once the JSON parses, "invalid" otherwise; a peer that closes in order
        // (FIN, after reading everything) has taken the bytes, as PaaSTA's fire-and-forget sender assumes. A reset
        // is not that: a peer that closes with bytes still unread resets the connection, so the event may be lost.
        var reply = new StringBuilder();
        var buffer = new byte[64];
        try
        {
            while (reply.Length < 64)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, exchange.Token).ConfigureAwait(false);
                if (n == 0) break;
                reply.Append(Encoding.ASCII.GetString(buffer, 0, n));
                var sofar = reply.ToString().Trim();
                if (sofar is "ok" or "invalid") break;
            }
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            if (reply.Length == 0)
                throw Timeout(sensuEvent, at, $"accepted the event but did not acknowledge it within {Seconds(timeout)}");
        }
        catch (SocketException e)
        {
            // The loop stops at a whole answer, so a failure here always comes before one.
            throw e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted
                ? Failed(sensuEvent, at, "the peer reset the connection before acknowledging it, so it may not have read the whole event", e)
                : Failed(sensuEvent, at, e.Message, e);
        }

        var answer = reply.Length == 0 ? null : reply.ToString().Trim();
        if (answer == "invalid")
            throw new PaastaException("SensuEventRejected", PaastaErrorKind.InvalidData,
                $"The Sensu client at {at} rejected event {sensuEvent.Name} as invalid.") { Target = sensuEvent.Name };
        return new SensuDelivery
        {
            Name = sensuEvent.Name,
            Status = sensuEvent.Status,
            Endpoint = at,
            Acknowledged = answer == "ok",
            Reply = answer,
            Json = json,
            Elapsed = started.Elapsed,
        };
    }

    private static string Seconds(TimeSpan t) => $"{t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s";

    private static PaastaException Timeout(SensuEvent e, string at, string what) =>
        new("SensuSocketTimeout", PaastaErrorKind.OperationTimeout,
            $"Event {e.Name} not confirmed: the Sensu client socket {at} {what}.") { Target = e.Name };

    private static PaastaException Failed(SensuEvent e, string at, string why, Exception inner) =>
        new("SensuConnectionFailed", PaastaErrorKind.ConnectionError,
            $"Event {e.Name} not sent to the Sensu client socket {at}: {why}", inner) { Target = e.Name };
}
