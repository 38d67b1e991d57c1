using System.Diagnostics;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Docker.DotNet.Models;
using Paasta.Errors;

namespace Paasta.Docker;

/// <summary>What push-to-registry did for one image name.</summary>
public sealed class ImagePushResult
{
    public required string Service { get; init; }
    public required string Image { get; init; }
    public required string Registry { get; init; }
    /// <summary>True when the image was pushed; false when the registry already had the tag (and -Force was not given).</summary>
    public bool Pushed { get; init; }
    /// <summary>Whether the registry had the tag before (null when it could not say, e.g. it wants credentials).</summary>
    public bool? ExistedBefore { get; init; }
    public string? Digest { get; init; }
    public TimeSpan Duration { get; init; }

    public override string ToString() => $"{Image}: {(Pushed ? "pushed" : "already in the registry")}";
}

/// <summary>
/// The registry side of images: does a tag exist (HEAD /v2/REPO/manifests/TAG; docs/BEHAVIOUR.md §3.5), pulling for
/// -Pull, and pushing (push-to-registry). Loopback registries, and those the engine is configured to treat
/// as insecure, are spoken to over plain HTTP, all others over HTTPS.
/// </summary>
public sealed partial class ImageRegistry
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = true })
    {
        Timeout = TimeSpan.FromSeconds(30),
    };

    private readonly DockerEngine _engine;
    private readonly IRunReporter _reporter;

    public ImageRegistry(DockerEngine engine, IRunReporter reporter)
    {
        _engine = engine;
        _reporter = reporter;
    }

    /// <summary>True for localhost, 127.0.0.0/8 and ::1, with or without a port: Docker treats those registries as insecure.</summary>
    public static bool IsLoopback(string registryHost)
    {
        var host = registryHost;
        if (host.StartsWith('['))
            host = host[1..host.IndexOf(']')];
        else if (host.Count(c => c == ':') == 1)
            host = host[..host.IndexOf(':')];
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip);
    }

    /// <summary>https, or http for a loopback registry or one the engine lists as insecure.</summary>
    public async Task<string> SchemeForAsync(string registryHost, CancellationToken cancellationToken)
    {
        if (IsLoopback(registryHost)) return "http";
        try
        {
            var info = await _engine.Call("read the engine's registry settings", c => c.System.GetSystemInfoAsync(cancellationToken)).ConfigureAwait(false);
            if (info.RegistryConfig?.IndexConfigs is { } indexes && indexes.TryGetValue(registryHost, out var index) && index is { Secure: false })
                return "http";
        }
        catch (PaastaException e) when (e.ErrorId != "DockerUnavailable")
        {
            _reporter.Verbose($"Could not read the engine's insecure registries ({e.Message}); using HTTPS for {registryHost}.");
        }
        return "https";
    }

    /// <summary>Whether the registry has the tag: true (200), false (404), null when it will not say (401/403, or an error).</summary>
    public async Task<bool?> ManifestExistsAsync(string image, CancellationToken cancellationToken)
    {
        var (host, repository, tag) = ImageNames.SplitRegistry(image);
        var scheme = await SchemeForAsync(host, cancellationToken).ConfigureAwait(false);
        var url = $"{scheme}://{host}/v2/{repository}/manifests/{tag}";
        using var request = new HttpRequestMessage(HttpMethod.Head, url);
        foreach (var accept in new[]
                 {
                     "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json",
                     "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
                 })
            request.Headers.Accept.ParseAdd(accept);
        try
        {
            using var response = await Http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            _reporter.Verbose($"HEAD {url}: {(int)response.StatusCode}");
            return response.StatusCode switch
            {
                HttpStatusCode.OK => true,
                HttpStatusCode.NotFound => false,
                _ => null,
            };
        }
        catch (HttpRequestException e)
        {
            throw new PaastaException("RegistryUnavailable", PaastaErrorKind.ConnectionError,
                $"Cannot reach the registry {host} ({url}): {e.InnerException?.Message ?? e.Message}.", e)
            { Target = host };
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PaastaException("RegistryUnavailable", PaastaErrorKind.ConnectionError,
                $"The registry {host} did not answer {url} within {Http.Timeout.TotalSeconds:0} s.", e)
            { Target = host };
        }
    }

    /// <summary>Pulls an image into the engine, with layer progress; at most 30 minutes, as PaaSTA allows.</summary>
    public async Task PullAsync(string image, CancellationToken cancellationToken)
    {
        var (repository, tag) = ImageNames.SplitTag(image);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(30));
        var activity = $"Pulling {image}";
        var layers = new LayerProgress(_reporter, 4, activity);
        try
        {
            await _engine.Call($"pull {image}", c => c.Images.CreateImageAsync(
                new ImagesCreateParameters { FromImage = repository, Tag = tag.StartsWith('@') ? null : tag },
                new AuthConfig(), new SyncProgress<JSONMessage>(layers.Report), timeout.Token), image).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PaastaException("ImagePullTimeout", PaastaErrorKind.OperationTimeout, $"Pulling {image} took more than 30 minutes.") { Target = image };
        }
        catch (PaastaException e) when (e.ErrorId is "DockerImageNotFound" or "DockerApiError")
        {
            throw new PaastaException("ImagePullFailed", PaastaErrorKind.ResourceUnavailable,
                $"Could not pull {image}: {e.Message} Was it pushed (Publish-PaastaImage)?", e)
            { Target = image };
        }
        finally
        {
            layers.Complete();
        }
        if (layers.Error is { } error)
            throw new PaastaException("ImagePullFailed", PaastaErrorKind.ResourceUnavailable,
                $"Could not pull {image}: {error}. Was it pushed (Publish-PaastaImage)?")
            { Target = image };
    }

    /// <summary>Pushes one local image name; returns the digest the registry reported.</summary>
    public async Task<string?> PushAsync(string image, CancellationToken cancellationToken)
    {
        var (repository, tag) = ImageNames.SplitTag(image);
        var activity = $"Pushing {image}";
        var layers = new LayerProgress(_reporter, 5, activity);
        try
        {
            await _engine.Call($"push {image}", c => c.Images.PushImageAsync(repository, new ImagePushParameters { Tag = tag },
                new AuthConfig(), new SyncProgress<JSONMessage>(layers.Report), cancellationToken), image).ConfigureAwait(false);
        }
        finally
        {
            layers.Complete();
        }
        if (layers.Error is { } error)
            throw new PaastaException("ImagePushFailed", PaastaErrorKind.WriteError, $"Could not push {image}: {error}") { Target = image };
        return layers.Digest;
    }

    /// <summary>
    /// Whether the engine has <paramref name="image"/>; when it does not but one of <paramref name="siblings"/> (the plain
    /// and versioned names of one build) exists, that image is tagged with the missing name.
    /// </summary>
    public async Task<bool> EnsureLocalAsync(string image, IEnumerable<string> siblings, CancellationToken cancellationToken)
    {
        if (await ExistsLocallyAsync(image, cancellationToken).ConfigureAwait(false)) return true;
        foreach (var other in siblings.Where(n => n != image))
        {
            if (!await ExistsLocallyAsync(other, cancellationToken).ConfigureAwait(false)) continue;
            var (repository, tag) = ImageNames.SplitTag(image);
            await _engine.Call($"tag {other} as {image}", c => c.Images.TagImageAsync(other, new ImageTagParameters { RepositoryName = repository, Tag = tag }, cancellationToken), image).ConfigureAwait(false);
            _reporter.Verbose($"Tagged {other} as {image}.");
            return true;
        }
        return false;
    }

    public async Task<bool> ExistsLocallyAsync(string image, CancellationToken cancellationToken)
    {
        try
        {
            await _engine.Call($"find {image}", c => c.Images.InspectImageAsync(image, cancellationToken), image).ConfigureAwait(false);
            return true;
        }
        catch (PaastaException e) when (e.ErrorId == "DockerImageNotFound") { return false; }
    }

    /// <summary>Turns the engine's per-layer JSON messages into one progress record and remembers errors and the digest.</summary>
    private sealed partial class LayerProgress
    {
        private readonly IRunReporter _reporter;
        private readonly int _id;
        private readonly string _activity;
        private readonly Dictionary<string, (long Current, long Total, string Status)> _layers = new(StringComparer.Ordinal);
        private readonly Stopwatch _sinceReport = Stopwatch.StartNew();

        public LayerProgress(IRunReporter reporter, int id, string activity)
        {
            _reporter = reporter;
            _id = id;
            _activity = activity;
        }

        public string? Error { get; private set; }
        public string? Digest { get; private set; }

        [GeneratedRegex(@"digest: (sha256:[0-9a-f]{64})")]
        private static partial Regex DigestPattern();

        public void Report(JSONMessage m)
        {
            if (m.Error is { Message.Length: > 0 } err) Error = err.Message;
            else if (!string.IsNullOrEmpty(m.ErrorMessage)) Error = m.ErrorMessage;
            if (m.Status is { } status && DigestPattern().Match(status) is { Success: true } d) Digest = d.Groups[1].Value;
            if (!string.IsNullOrEmpty(m.ID) && m.Status is not null)
                _layers[m.ID] = (m.Progress?.Current ?? (_layers.TryGetValue(m.ID, out var l) ? l.Current : 0), m.Progress?.Total ?? (_layers.TryGetValue(m.ID, out var l2) ? l2.Total : 0), m.Status);
            if (m.Status is { Length: > 0 } s) _reporter.Verbose(string.IsNullOrEmpty(m.ID) ? s : $"{m.ID}: {s}");
            if (_sinceReport.ElapsedMilliseconds < 200 && m.Progress is not null) return;
            _sinceReport.Restart();
            var total = _layers.Values.Sum(v => v.Total);
            var current = _layers.Values.Sum(v => Math.Min(v.Current, v.Total));
            var done = _layers.Values.Count(v => v.Status.Contains("complete", StringComparison.OrdinalIgnoreCase) || v.Status.StartsWith("Pushed", StringComparison.Ordinal)
                || v.Status.StartsWith("Layer already exists", StringComparison.Ordinal) || v.Status.StartsWith("Already exists", StringComparison.Ordinal));
            var percent = total > 0 ? (int)Math.Clamp(100 * current / total, 0, 100) : -1;
            _reporter.Progress(new RunProgress(_id, _activity, $"{done} of {_layers.Count} layer(s) done", percent, CurrentOperation: m.Status));
        }

        public void Complete() => _reporter.Progress(new RunProgress(_id, _activity, "done", 100, Completed: true));
    }
}
