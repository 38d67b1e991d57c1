using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Web;

namespace Paasta.Tests.Drain;

/// <summary>A clock the test moves by hand; shared by a drain method and a stand-in so "since" and "now" agree.</summary>
public sealed class ManualClock : TimeProvider
{
    private DateTimeOffset _now;
    public ManualClock(DateTimeOffset start) => _now = start;
    public override DateTimeOffset GetUtcNow() => _now;
    public void Advance(TimeSpan by) => _now += by;
    public double Epoch => _now.ToUnixTimeMilliseconds() / 1000.0;
}

/// <summary>One request a stand-in received, as it came off the wire.</summary>
public sealed record ReceivedRequest(string Method, string Path, string Query, string? ContentType, string Body, string? UserAgent)
{
    /// <summary>The form fields of an application/x-www-form-urlencoded body, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Form =>
        Body.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Select(kv => new KeyValuePair<string, string>(HttpUtility.UrlDecode(kv[0]), HttpUtility.UrlDecode(kv.Length > 1 ? kv[1] : "")))
            .ToList();

    public string? Field(string name) => Form.Where(kv => kv.Key == name).Select(kv => kv.Value).SingleOrDefault();
}

/// <summary>A loopback HTTP server that records every request and answers through a handler.</summary>
public sealed class HttpStandIn : IDisposable
{
    private readonly HttpListener _listener;
    private readonly Func<ReceivedRequest, (int Code, string Body)> _handler;
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();
    private readonly Task _loop;

    public HttpStandIn(Func<ReceivedRequest, (int Code, string Body)> handler)
    {
        _handler = handler;
        _listener = LoopbackHttpListener.Start(out var port);
        Port = port;
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }
    public IReadOnlyList<ReceivedRequest> Received => _received.ToArray();

    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            _ = Task.Run(() => Answer(context));
        }
    }

    private void Answer(HttpListenerContext context)
    {
        var r = context.Request;
        string body;
        using (var reader = new StreamReader(r.InputStream, Encoding.UTF8)) body = reader.ReadToEnd();
        var request = new ReceivedRequest(r.HttpMethod, r.Url!.AbsolutePath, r.Url.Query, r.ContentType, body, r.UserAgent);
        _received.Enqueue(request);
        var (code, text) = _handler(request);
        var bytes = Encoding.UTF8.GetBytes(text);
        context.Response.StatusCode = code;
        context.Response.ContentType = "text/plain";
        context.Response.ContentLength64 = bytes.Length;
        context.Response.OutputStream.Write(bytes);
        context.Response.Close();
    }

    public void Dispose()
    {
        LoopbackHttpListener.Close(_listener);
        try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }
}

/// <summary>
/// A stand-in for hacheck's spool API (docs/BEHAVIOUR.md §7.4), since hacheck cannot run here. POST /spool/NAME/PORT/status
/// with status=down (and expiration, reason) marks that spool down since now; status=up clears it. GET answers
/// 200 while up, and otherwise 503 "Service NAME in down state since F until F: REASON". A down state whose
/// expiration has passed is dropped on the next GET, as hacheck does. It reads time from the given clock.
/// </summary>
public sealed class HacheckStandIn : IDisposable
{
    private sealed record Spool(double Since, double Until, string Reason);

    private readonly ConcurrentDictionary<string, Spool> _down = new();
    private readonly Func<double> _now;
    private readonly HttpStandIn _server;

    public HacheckStandIn(Func<double>? now = null, int? rejectPostsWith = null)
    {
        _now = now ?? (() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0);
        _server = new HttpStandIn(request => Handle(request, rejectPostsWith));
    }

    public int Port => _server.Port;
    public IReadOnlyList<ReceivedRequest> Received => _server.Received;
    public IReadOnlyList<ReceivedRequest> Posts => Received.Where(r => r.Method == "POST").ToList();

    /// <summary>Marks a spool down from outside (another drainer), with the given since.</summary>
    public void SetDown(string name, int port, double since, double until) => _down[$"{name}/{port}"] = new Spool(since, until, "set by test");

    private (int, string) Handle(ReceivedRequest request, int? rejectPostsWith)
    {
        var parts = request.Path.Trim('/').Split('/');
        if (parts.Length != 4 || parts[0] != "spool" || parts[3] != "status") return (404, "not found");
        var name = Uri.UnescapeDataString(parts[1]);
        var key = $"{name}/{parts[2]}";
        if (request.Method == "POST")
        {
            if (rejectPostsWith is { } code) return (code, "refused");
            var status = request.Field("status");
            if (status == "up") _down.TryRemove(key, out _);
            else if (status == "down")
            {
                var until = double.TryParse(request.Field("expiration"), NumberStyles.Float, CultureInfo.InvariantCulture, out var e) ? e : 0;
                _down[key] = new Spool(_now(), until, request.Field("reason") ?? "");
            }
            else return (400, "bad status");
            return (200, "OK");
        }
        if (request.Method != "GET") return (405, "method not allowed");
        if (_down.TryGetValue(key, out var spool) && spool.Until > 0 && spool.Until <= _now())
        {
            _down.TryRemove(key, out _);
            spool = null;
        }
        if (spool is null) return (200, $"Service {name} in up state");
        return (503, string.Create(CultureInfo.InvariantCulture, $"Service {name} in down state since {spool.Since:0.000} until {spool.Until:0.000}: {spool.Reason}"));
    }

    public void Dispose() => _server.Dispose();
}
