using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Paasta.Kubernetes;
using Paasta.Errors;

namespace Paasta.Jobs;

/// <summary>
/// What an API server says about itself that decides how Paasta writes CronJobs. <see cref="ServerDiscovery"/>
/// asks the server; unit tests give a stub, so the decision is tested without one.
/// </summary>
public interface ICronJobDiscovery
{
    /// <summary>True when the server serves the group version (e.g. <c>batch/v1beta1</c>).</summary>
    Task<bool> ServesAsync(string groupVersion, CancellationToken cancellation);
    /// <summary>The resources (plural names) the server serves in <c>batch/v1</c>.</summary>
    Task<IReadOnlyCollection<string>> BatchV1ResourcesAsync(CancellationToken cancellation);
    /// <summary>What <c>GET /version</c> answers; null when the server does not tell.</summary>
    Task<KubeServerVersion?> VersionAsync(CancellationToken cancellation);
}

/// <summary>The fields of <c>GET /version</c> that say which Kubernetes release a server is (e.g. "1", "25+", "v1.25.3-gke.1").</summary>
public sealed record KubeServerVersion(string? Major, string? Minor, string? GitVersion)
{
    /// <summary>major.minor, from major and minor (vendors append "+"), else from gitVersion; null when neither parses.</summary>
    public Version? Release
    {
        get
        {
            static int? Number(string? text)
            {
                var digits = new string((text ?? "").TakeWhile(char.IsAsciiDigit).ToArray());
                return int.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : null;
            }
            if (Number(Major) is { } major && Number(Minor) is { } minor) return new Version(major, minor);
            var parts = (GitVersion ?? "").TrimStart('v').Split('.');
            return parts.Length >= 2 && Number(parts[0]) is { } gmajor && Number(parts[1]) is { } gminor ? new Version(gmajor, gminor) : null;
        }
    }
}

/// <summary>Discovery through the server's own endpoints (/apis, /apis/batch/v1, /version).</summary>
public sealed class ServerDiscovery : ICronJobDiscovery
{
    private readonly KubeConnection _kube;

    public ServerDiscovery(KubeConnection kube) => _kube = kube;

    public Task<bool> ServesAsync(string groupVersion, CancellationToken cancellation) => _kube.ServesAsync(groupVersion, cancellation);

    public async Task<IReadOnlyCollection<string>> BatchV1ResourcesAsync(CancellationToken cancellation)
    {
        var resources = await _kube.Call(() => _kube.Client.BatchV1.GetAPIResourcesAsync(cancellation), "discover the resources of batch/v1").ConfigureAwait(false);
        return resources.Resources.Select(r => r.Name).ToList();
    }

    public async Task<KubeServerVersion?> VersionAsync(CancellationToken cancellation)
    {
        try
        {
            var v = await _kube.Call(() => _kube.Client.Version.GetCodeAsync(cancellation), "read the version of").ConfigureAwait(false);
            return new KubeServerVersion(v.Major, v.Minor, v.GitVersion);
        }
        // A server that hides its version is treated as one without the newer CronJob fields.
        catch (PaastaException e) when (e.ErrorId is "KubeAccessDenied" or "KubeObjectNotFound") { return null; }
    }
}

/// <summary>
/// CronJobs through whichever batch API the cluster serves: <c>batch/v1</c> when it lists cronjobs
/// (Kubernetes 1.21+), else <c>batch/v1beta1</c> (1.20 and older; KubernetesClient 21 has no model for it,
/// so objects travel as JSON through the generic object calls). Discovered per connection, never assumed;
/// so is whether CronJobs carry <c>spec.timeZone</c> (batch/v1 from Kubernetes 1.25).
/// </summary>
public sealed class CronJobApi
{
    private const string Group = "batch";
    private const string Plural = "cronjobs";
    /// <summary>The first release whose CronJobs honour spec.timeZone by default (beta, on by default; alpha in 1.24).</summary>
    public static readonly Version TimeZoneRelease = new(1, 25);
    private readonly KubeConnection _kube;

    private CronJobApi(KubeConnection kube, string version, Version? serverRelease)
    {
        _kube = kube;
        Version = version;
        ServerRelease = serverRelease;
    }

    /// <summary>v1 or v1beta1.</summary>
    public string Version { get; }
    public string ApiVersion => $"{Group}/{Version}";
    public KubeConnection Kube => _kube;
    /// <summary>The server's major.minor when it was asked (only for batch/v1); null otherwise or when it does not tell.</summary>
    public Version? ServerRelease { get; }
    /// <summary>True when the API server keeps spec.timeZone: batch/v1 on Kubernetes 1.25 or later. Older servers drop the field silently.</summary>
    public bool SupportsTimeZone => Version == "v1" && ServerRelease is { } r && r >= TimeZoneRelease;
    /// <summary>What the CronJob builder may write for this server.</summary>
    public CronJobTarget Target => new(ApiVersion, SupportsTimeZone, ServerRelease);

    public static Task<CronJobApi> DiscoverAsync(KubeConnection kube, CancellationToken cancellation) =>
        DiscoverAsync(kube, new ServerDiscovery(kube), cancellation);

    public static async Task<CronJobApi> DiscoverAsync(KubeConnection kube, ICronJobDiscovery discovery, CancellationToken cancellation)
    {
        // batch/v1 exists on every cluster (Jobs), so the group version alone says nothing: ask for its resources.
        if (await discovery.ServesAsync("batch/v1", cancellation).ConfigureAwait(false)
            && (await discovery.BatchV1ResourcesAsync(cancellation).ConfigureAwait(false)).Contains(Plural))
        {
            var release = (await discovery.VersionAsync(cancellation).ConfigureAwait(false))?.Release;
            return new CronJobApi(kube, "v1", release);
        }
        if (await discovery.ServesAsync("batch/v1beta1", cancellation).ConfigureAwait(false)) return new CronJobApi(kube, "v1beta1", null);
        throw new PaastaException("KubeApiNotServed", PaastaErrorKind.ResourceUnavailable,
            $"The cluster at {kube.ServerUrl} serves CronJobs in neither batch/v1 nor batch/v1beta1.") { Target = "CronJob" };
    }

    public async Task<List<JsonObject>> ListAsync(string ns, string labelSelector, CancellationToken cancellation)
    {
        var raw = await _kube.Call(() => _kube.Client.CustomObjects.ListNamespacedCustomObjectAsync(Group, Version, ns, Plural,
            labelSelector: labelSelector, cancellationToken: cancellation), $"list CronJobs in {ns}").ConfigureAwait(false);
        var list = ToJson(raw);
        return (list["items"] as JsonArray ?? new JsonArray()).OfType<JsonObject>().Select(o => (JsonObject)o.DeepClone()).ToList();
    }

    /// <summary>The CronJob, or null when there is none of that name.</summary>
    public async Task<JsonObject?> GetAsync(string ns, string name, CancellationToken cancellation)
    {
        try
        {
            var raw = await _kube.Client.CustomObjects.GetNamespacedCustomObjectAsync(Group, Version, ns, Plural, name, cancellation).ConfigureAwait(false);
            return ToJson(raw);
        }
        catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.NotFound) { return null; }
        catch (HttpOperationException e) { throw KubeConnection.Translate(e, $"read CronJob {ns}/{name}"); }
        catch (HttpRequestException e)
        {
            throw new PaastaException("KubeApiUnreachable", PaastaErrorKind.ConnectionError, $"Cannot reach the Kubernetes API at {_kube.ServerUrl}: {e.Message}", e) { Target = _kube.ServerUrl };
        }
    }

    public async Task<JsonObject> CreateAsync(string ns, JsonObject body, CancellationToken cancellation)
    {
        body["apiVersion"] = ApiVersion;
        var raw = await _kube.Call(() => _kube.Client.CustomObjects.CreateNamespacedCustomObjectAsync(body, Group, Version, ns, Plural, cancellationToken: cancellation),
            $"create CronJob {ns}/{body["metadata"]?["name"]}").ConfigureAwait(false);
        return ToJson(raw);
    }

    public async Task<JsonObject> ReplaceAsync(string ns, string name, JsonObject body, string resourceVersion, CancellationToken cancellation)
    {
        body["apiVersion"] = ApiVersion;
        body["metadata"]!["resourceVersion"] = resourceVersion;
        var raw = await _kube.Call(() => _kube.Client.CustomObjects.ReplaceNamespacedCustomObjectAsync(body, Group, Version, ns, Plural, name, cancellationToken: cancellation),
            $"replace CronJob {ns}/{name}").ConfigureAwait(false);
        return ToJson(raw);
    }

    /// <summary>Deletes the CronJob and, in the background, its Jobs and their pods.</summary>
    public async Task DeleteAsync(string ns, string name, CancellationToken cancellation)
    {
        try
        {
            await _kube.Client.CustomObjects.DeleteNamespacedCustomObjectAsync(Group, Version, ns, Plural, name,
                new V1DeleteOptions { PropagationPolicy = "Background" }, cancellationToken: cancellation).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.NotFound) { }
        catch (HttpOperationException e) { throw KubeConnection.Translate(e, $"delete CronJob {ns}/{name}"); }
    }

    /// <summary>Creates the namespace (labelled as PaaSTA labels its namespaces) unless it exists.</summary>
    public async Task EnsureNamespaceAsync(string name, CancellationToken cancellation)
    {
        try
        {
            await _kube.Client.CoreV1.ReadNamespaceAsync(name, cancellationToken: cancellation).ConfigureAwait(false);
            return;
        }
        catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.NotFound) { }
        catch (HttpOperationException e) { throw KubeConnection.Translate(e, $"read namespace {name}"); }
        var ns = new V1Namespace
        {
            Metadata = new V1ObjectMeta
            {
                Name = name,
                Labels = new Dictionary<string, string>
                {
                    ["name"] = name,
                    ["paasta.yelp.com/owner"] = KubernetesObjectBuilder.Owner,
                    ["paasta.yelp.com/managed"] = "true",
                },
            },
        };
        try { await _kube.Client.CoreV1.CreateNamespaceAsync(ns, cancellationToken: cancellation).ConfigureAwait(false); }
        catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.Conflict) { }
        catch (HttpOperationException e) { throw KubeConnection.Translate(e, $"create namespace {name}"); }
    }

    internal static JsonObject ToJson(object raw) => raw switch
    {
        JsonObject o => o,
        JsonElement e => JsonNode.Parse(e.GetRawText())!.AsObject(),
        string s => JsonNode.Parse(s)!.AsObject(),
        _ => JsonNode.Parse(JsonSerializer.Serialize(raw))!.AsObject(),
    };
}
