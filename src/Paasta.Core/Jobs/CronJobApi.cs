using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Paasta.Kubernetes;

namespace Paasta.Jobs;

/// <summary>
/// CronJobs through whichever batch API the cluster serves: <c>batch/v1</c> when it lists cronjobs
/// (Kubernetes 1.21+), else <c>batch/v1beta1</c> (1.20 and older; KubernetesClient 21 has no model for it,
/// so objects travel as JSON through the generic object calls). Discovered per connection, never assumed.
/// </summary>
public sealed class CronJobApi
{
    private const string Group = "batch";
    private const string Plural = "cronjobs";
    private readonly KubeConnection _kube;

    private CronJobApi(KubeConnection kube, string version)
    {
        _kube = kube;
        Version = version;
    }

    /// <summary>v1 or v1beta1.</summary>
    public string Version { get; }
    public string ApiVersion => $"{Group}/{Version}";
    public KubeConnection Kube => _kube;

    public static async Task<CronJobApi> DiscoverAsync(KubeConnection kube, CancellationToken cancellation)
    {
        // batch/v1 exists on every cluster (Jobs), so the group version alone says nothing: ask for its resources.
        if (await kube.ServesAsync("batch/v1", cancellation).ConfigureAwait(false))
        {
            var resources = await kube.Call(() => kube.Client.BatchV1.GetAPIResourcesAsync(cancellation), "discover the resources of batch/v1").ConfigureAwait(false);
            if (resources.Resources.Any(r => r.Name == Plural)) return new CronJobApi(kube, "v1");
        }
        if (await kube.ServesAsync("batch/v1beta1", cancellation).ConfigureAwait(false)) return new CronJobApi(kube, "v1beta1");
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
