using System.Net;
using Paasta.Errors;

namespace Paasta.Drain;

/// <summary>HTTP plumbing shared by the hacheck and http drain methods.</summary>
internal static class DrainHttp
{
    public static readonly string UserAgent =
        $"Paasta/{typeof(DrainHttp).Assembly.GetName().Version?.ToString(3) ?? "0"} (drain)";

    /// <summary>
    /// One client per method instance over the given handler, or over a new handler without proxies: these
    /// are pod addresses inside the cluster network, which an HTTP proxy from the environment cannot reach.
    /// </summary>
    public static HttpClient Client(HttpMessageHandler? handler, TimeSpan connectTimeout, TimeSpan total)
    {
        var client = handler is not null
            ? new HttpClient(handler, disposeHandler: false)
            : new HttpClient(new SocketsHttpHandler { ConnectTimeout = connectTimeout, UseProxy = false, AllowAutoRedirect = false }, disposeHandler: true);
        client.Timeout = total;
        client.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
        return client;
    }

    /// <summary>The host part of a URL: IPv6 addresses in brackets.</summary>
    public static string UrlHost(string host) =>
        IPAddress.TryParse(host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !host.StartsWith('[')
            ? $"[{host}]" : host;

    public static PaastaException Unreachable(string method, Uri url, Exception e) =>
        new("DrainEndpointUnreachable", PaastaErrorKind.ConnectionError, $"{method}: {url} could not be reached: {e.Message}", e) { Target = url };

    public static PaastaException Rejected(string method, string what, Uri url, HttpStatusCode code) =>
        new("DrainRequestRejected", PaastaErrorKind.InvalidOperation, $"{method}: {what} {url} answered {(int)code} {code}.") { Target = url };

    /// <summary>Sends a request; network failures and timeouts (not the caller's cancellation) become DrainEndpointUnreachable.</summary>
    public static async Task<(HttpStatusCode Code, string Body)> SendAsync(HttpClient client, string method, HttpRequestMessage request,
        TimeSpan readTimeout, CancellationToken cancellationToken)
    {
        var url = request.RequestUri!;
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            using var read = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            read.CancelAfter(readTimeout);
            var body = await response.Content.ReadAsStringAsync(read.Token).ConfigureAwait(false);
            return (response.StatusCode, body);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { throw; }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            throw Unreachable(method, url, e);
        }
    }

    /// <summary>The first failure of several concurrent requests, unwrapped.</summary>
    public static async Task<T[]> WhenAll<T>(IEnumerable<Task<T>> tasks)
    {
        var all = Task.WhenAll(tasks);
        try { return await all.ConfigureAwait(false); }
        catch when (all.Exception is { } aggregate)
        {
            var first = aggregate.InnerExceptions.FirstOrDefault(e => e is PaastaException) ?? aggregate.InnerExceptions[0];
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
            throw;
        }
    }
}
