using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Paasta.Errors;
using Paasta.Settings;

namespace Paasta.Kubernetes;

/// <summary>Where Paasta's Kubernetes client points: a kubeconfig file and a context in it (null: its current context).</summary>
public sealed record KubeTarget(string KubeConfigPath, string? Context)
{
    /// <summary>The folder of the on-disk discovery cache (<see cref="DiscoveryCache"/>); null: none, ask each new process.</summary>
    public string? DiscoveryCacheDirectory { get; init; }
}

/// <summary>Counts the API requests a client makes, and how many of them write, for -Verbose and the benchmarks.</summary>
public sealed class RequestCounter : DelegatingHandler
{
    private int _requests;
    private int _writes;

    public int Requests => _requests;
    public int Writes => _writes;

    public void Reset()
    {
        Interlocked.Exchange(ref _requests, 0);
        Interlocked.Exchange(ref _writes, 0);
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requests);
        if (request.Method != HttpMethod.Get && request.Method != HttpMethod.Head) Interlocked.Increment(ref _writes);
        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>A Kubernetes client for one kubeconfig context, with request counting and API discovery.</summary>
public sealed class KubeConnection : IDisposable
{
    // What each API server serves, remembered for the process (like kubectl's discovery cache): a warm session
    // asks once per server and ten minutes, not once per cmdlet call. New processes share it through the disk
    // (DiscoveryCache), for the same ten minutes.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, (HashSet<string> GroupVersions, DateTime At)> ProcessDiscovery = new(StringComparer.Ordinal);
    private static readonly TimeSpan DiscoveryTtl = TimeSpan.FromMinutes(10);

    private readonly object _discoveryGate = new();
    private readonly Dictionary<string, bool> _served = new(StringComparer.Ordinal);
    private Task<HashSet<string>>? _discovery;
    private bool _discoveryFromDisk;

    private KubeConnection(IKubernetes client, KubeTarget target, RequestCounter counter)
    {
        Client = client;
        Target = target;
        Counter = counter;
    }

    public IKubernetes Client { get; }
    public KubeTarget Target { get; }
    public RequestCounter Counter { get; }

    public static KubeConnection Open(KubeTarget target)
    {
        if (!File.Exists(target.KubeConfigPath))
            throw new PaastaException("KubeConfigNotFound", PaastaErrorKind.ObjectNotFound,
                $"No kubeconfig at {target.KubeConfigPath}. Pass -KubeConfig, set $env:KUBECONFIG, or Set-PaastaConfiguration -KubeConfig." +
                " The local platform writes one to .platform/kubeconfig (./build.ps1 -Task Platform -Action Up).")
            { Target = target.KubeConfigPath };
        KubernetesClientConfiguration config;
        try
        {
            config = KubeConfigFile.ClientConfiguration(target.KubeConfigPath, target.Context);
        }
        catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException or InvalidOperationException or ArgumentException or YamlDotNet.Core.YamlException)
        {
            throw new PaastaException("KubeConfigInvalid", PaastaErrorKind.InvalidData,
                $"Cannot use {target.KubeConfigPath}{(target.Context is null ? "" : $" (context {target.Context})")}: {e.Message}", e)
            { File = target.KubeConfigPath, Target = target.KubeConfigPath };
        }
        var counter = new RequestCounter();
        return new KubeConnection(new RawReadingClient(config, counter), target, counter);
    }

    /// <summary>
    /// GETs <paramref name="relativeUri"/> (e.g. <c>api/v1/namespaces/x/pods?labelSelector=…</c>) as a JSON document,
    /// through the client's credentials and handlers, with its HTTP errors (HttpOperationException). For reads that
    /// need a few fields of many objects: skipping the client's model classes spares a new process the set-up of
    /// their whole type graph (V1Pod's is hundreds of types) and a large list the allocations.
    /// </summary>
    public Task<JsonDocument> GetJsonAsync(string relativeUri, CancellationToken cancellation = default) =>
        ((RawReadingClient)Client).GetJsonAsync(relativeUri, cancellation);

    // KubernetesClient's client, with its protected request path opened for GetJsonAsync.
    private sealed class RawReadingClient : k8s.Kubernetes
    {
        public RawReadingClient(KubernetesClientConfiguration config, params DelegatingHandler[] handlers) : base(config, handlers) { }

        public async Task<JsonDocument> GetJsonAsync(string relativeUri, CancellationToken cancellation)
        {
            // As the client's own requests: HTTP/2 when the server offers it.
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(BaseUri, relativeUri)) { Version = HttpVersion.Version20 };
            using var response = await SendRequestRaw("", request, cancellation).ConfigureAwait(false);
            await using var body = await response.Content.ReadAsStreamAsync(cancellation).ConfigureAwait(false);
            return await JsonDocument.ParseAsync(body, cancellationToken: cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// True when the server serves <paramref name="groupVersion"/> (e.g. <c>batch/v1</c>, <c>policy/v1beta1</c>).
    /// One discovery request per server per ten minutes (in the process, else on disk): Paasta asks rather than
    /// assumes (v1.20 lacks batch/v1 CronJob, policy/v1 and autoscaling/v2).
    /// </summary>
    public async Task<bool> ServesAsync(string groupVersion, CancellationToken cancellation = default)
    {
        lock (_discoveryGate)
        {
            if (_served.TryGetValue(groupVersion, out var known)) return known;
        }
        var groupVersions = await GroupVersionsAsync(cancellation).ConfigureAwait(false);
        lock (_discoveryGate) return _served[groupVersion] = groupVersions.Contains(groupVersion);
    }

    // One discovery per connection, shared by the reads that start together (Sync picks PDB and HPA versions at once).
    private Task<HashSet<string>> GroupVersionsAsync(CancellationToken cancellation)
    {
        lock (_discoveryGate)
        {
            if (_discovery is { IsFaulted: false, IsCanceled: false }) return _discovery;
            if (ProcessDiscovery.TryGetValue(ServerUrl, out var cached) && DateTime.UtcNow - cached.At < DiscoveryTtl)
                return _discovery = Task.FromResult(cached.GroupVersions);
            if (Target.DiscoveryCacheDirectory is { } dir && DiscoveryCache.Read(dir, ServerUrl, DiscoveryTtl) is { } fromDisk)
            {
                _discoveryFromDisk = true;
                return _discovery = Task.FromResult(fromDisk);
            }
            _discoveryFromDisk = false;
            return _discovery = AskGroupVersionsAsync(cancellation);
        }
    }

    private async Task<HashSet<string>> AskGroupVersionsAsync(CancellationToken cancellation)
    {
        // Read as JSON: the group list's models are one more type graph for a new process to set up.
        using var groups = await Call(() => GetJsonAsync("apis", cancellation), "discover the API groups of").ConfigureAwait(false);
        var asked = DiscoveryCache.GroupVersionsOf(groups.RootElement);
        ProcessDiscovery[ServerUrl] = (asked, DateTime.UtcNow);
        if (Target.DiscoveryCacheDirectory is { } dir) DiscoveryCache.Write(dir, ServerUrl, asked);
        return asked;
    }

    /// <summary>Forgets what this process learnt of <paramref name="serverUrl"/> (tests: the next new connection is a new process's).</summary>
    internal static void ForgetProcessDiscovery(string serverUrl) => ProcessDiscovery.TryRemove(serverUrl, out _);

    /// <summary>
    /// Runs a read whose API version came from discovery. When that discovery came from the disk cache and the
    /// server answers 404 (the cluster changed within the cache's ten minutes), the cache is dropped, the server
    /// asked, and the read runs once more with what it says now.
    /// </summary>
    public async Task<T> WithCurrentDiscoveryAsync<T>(Func<Task<T>> read)
    {
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (PaastaException e) when (e.ErrorId == "KubeObjectNotFound" && ForgetDiskDiscovery())
        {
            return await read().ConfigureAwait(false);
        }
    }

    private bool ForgetDiskDiscovery()
    {
        lock (_discoveryGate)
        {
            if (!_discoveryFromDisk) return false;
            _discoveryFromDisk = false;
            _discovery = null;
            _served.Clear();
        }
        if (Target.DiscoveryCacheDirectory is { } dir) DiscoveryCache.Delete(dir, ServerUrl);
        return true;
    }

    /// <summary>The first of <paramref name="candidates"/> (newest first) that the server serves.</summary>
    public async Task<string> PickVersionAsync(string what, IEnumerable<string> candidates, CancellationToken cancellation = default)
    {
        var list = candidates.ToList();
        foreach (var gv in list)
            if (await ServesAsync(gv, cancellation).ConfigureAwait(false)) return gv;
        throw new PaastaException("KubeApiNotServed", PaastaErrorKind.ResourceUnavailable,
            $"The cluster serves none of {string.Join(", ", list)} for {what}.") { Target = what };
    }

    /// <summary>Runs an API call, turning transport and HTTP failures into PaastaExceptions with stable ids.</summary>
    public async Task<T> Call<T>(Func<Task<T>> call, string what)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (HttpOperationException e)
        {
            throw Translate(e, what);
        }
        catch (HttpRequestException e)
        {
            throw new PaastaException("KubeApiUnreachable", PaastaErrorKind.ConnectionError,
                $"Cannot reach the Kubernetes API at {ServerUrl} to {what}: {e.Message}", e) { Target = ServerUrl };
        }
    }

    public string ServerUrl => (Client as k8s.Kubernetes)?.BaseUri?.ToString() ?? Target.KubeConfigPath;

    public static PaastaException Translate(HttpOperationException e, string what)
    {
        var status = e.Response?.StatusCode;
        var body = e.Response?.Content;
        var (id, kind) = status switch
        {
            HttpStatusCode.NotFound => ("KubeObjectNotFound", PaastaErrorKind.ObjectNotFound),
            HttpStatusCode.Conflict => ("KubeConflict", PaastaErrorKind.InvalidOperation),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => ("KubeAccessDenied", PaastaErrorKind.SecurityError),
            HttpStatusCode.UnprocessableEntity or HttpStatusCode.BadRequest => ("KubeObjectInvalid", PaastaErrorKind.InvalidData),
            _ => ("KubeApiError", PaastaErrorKind.NotSpecified),
        };
        return new PaastaException(id, kind, $"Kubernetes refused to {what}: {(int?)status} {status} {Short(body)}", e) { Target = what };
    }

    private static string Short(string? body) => body is null ? "" : body.Length > 400 ? body[..400] + "…" : body;

    public void Dispose() => (Client as IDisposable)?.Dispose();
}
