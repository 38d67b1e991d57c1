using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Paasta.Errors;

namespace Paasta.Kubernetes;

/// <summary>One write a sync or a bounce will make: what it does (for -WhatIf and -Verbose) and how.</summary>
public sealed record KubeOperation(string Verb, string Kind, string Namespace, string Name, IReadOnlyList<string> Details, Func<CancellationToken, Task> Run)
{
    public string Summary => Namespace.Length == 0 ? $"{Verb} {Kind} {Name}" : $"{Verb} {Kind} {Namespace}/{Name}";

    public string Describe() => Details.Count == 0 ? Summary : Summary + string.Concat(Details.Select(d => "\n    " + d));
}

/// <summary>Reading PaaSTA's labels off live objects.</summary>
public static class KubeLabels
{
    public static string? Of(V1ObjectMeta? metadata, string key) =>
        metadata?.Labels is { } labels && labels.TryGetValue(key, out var value) ? value : null;

    public static string? Of(JsonObject? o, string key) =>
        o?["metadata"]?["labels"]?[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>
    /// True when the object carries the labels every object Paasta writes for an instance carries: managed=true,
    /// service and instance. Nothing else is ever changed or removed on Paasta's own initiative.
    /// </summary>
    public static bool IsPaastaManaged(V1ObjectMeta? metadata) =>
        Of(metadata, KubernetesObjectBuilder.ManagedLabel) == "true"
        && Of(metadata, KubernetesObjectBuilder.ServiceLabel) is { Length: > 0 }
        && Of(metadata, KubernetesObjectBuilder.InstanceLabel) is { Length: > 0 };

    public static bool IsPaastaManaged(JsonObject? o) =>
        Of(o, KubernetesObjectBuilder.ManagedLabel) == "true"
        && Of(o, KubernetesObjectBuilder.ServiceLabel) is { Length: > 0 }
        && Of(o, KubernetesObjectBuilder.InstanceLabel) is { Length: > 0 };
}

/// <summary>
/// The namespace objects Sync makes sure exist before it creates a controller: the namespace with PaaSTA's
/// labels and, for paastasvc- namespaces, PaaSTA's default LimitRange (docs/BEHAVIOUR.md §5.3).
/// </summary>
public static class NamespaceObjects
{
    public const string LimitRangeName = "limit-mem-cpu-disk-per-container";

    public static V1Namespace Namespace(string name) => new()
    {
        ApiVersion = "v1",
        Kind = "Namespace",
        Metadata = new V1ObjectMeta
        {
            Name = name,
            Labels = new Dictionary<string, string>
            {
                ["name"] = name,
                ["paasta.yelp.com/owner"] = KubernetesObjectBuilder.Owner,
                [KubernetesObjectBuilder.ManagedLabel] = "true",
            },
        },
    };

    /// <summary>The default LimitRange of a paastasvc- namespace; null for any other namespace.</summary>
    public static V1LimitRange? LimitRange(string @namespace)
    {
        if (!@namespace.StartsWith("paastasvc-", StringComparison.Ordinal)) return null;
        var defaults = new Dictionary<string, ResourceQuantity>
        {
            ["cpu"] = new("1"),
            ["memory"] = new("1024Mi"),
            ["ephemeral-storage"] = new("1Gi"),
        };
        return new V1LimitRange
        {
            ApiVersion = "v1",
            Kind = "LimitRange",
            Metadata = new V1ObjectMeta { Name = LimitRangeName, NamespaceProperty = @namespace },
            Spec = new V1LimitRangeSpec
            {
                Limits = new List<V1LimitRangeItem> { new() { Type = "Container", DefaultProperty = defaults, DefaultRequest = defaults } },
            },
        };
    }
}

/// <summary>
/// The writes Sync and the bounce engine make to one cluster: namespaces, controllers (create, replace, scale,
/// delete), and PDBs and HPAs through the API version the server serves. Every call goes through the
/// connection, so failures carry Paasta's Kube* ErrorIds and requests are counted.
/// </summary>
public sealed class KubeWriter
{
    private readonly KubeConnection _kube;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _ensuredNamespaces = new(StringComparer.Ordinal);

    public KubeWriter(KubeConnection kube) => _kube = kube;

    public KubeConnection Connection => _kube;

    /// <summary>Creates a namespace with PaaSTA's labels, plus the default LimitRange for paastasvc- namespaces.</summary>
    public async Task EnsureNamespaceAsync(string name, CancellationToken cancellation)
    {
        if (_ensuredNamespaces.ContainsKey(name)) return;
        var ns = NamespaceObjects.Namespace(name);
        await TolerateExisting(() => _kube.Client.CoreV1.CreateNamespaceAsync(ns, cancellationToken: cancellation), $"create namespace {name}").ConfigureAwait(false);
        if (NamespaceObjects.LimitRange(name) is { } limitRange)
            await TolerateExisting(() => _kube.Client.CoreV1.CreateNamespacedLimitRangeAsync(limitRange, name, cancellationToken: cancellation),
                $"create LimitRange in {name}").ConfigureAwait(false);
        _ensuredNamespaces[name] = true;
    }

    private async Task TolerateExisting<T>(Func<Task<T>> create, string what)
    {
        try { await _kube.Call(create, what).ConfigureAwait(false); }
        catch (PaastaException e) when (e.ErrorId == "KubeConflict") { }
    }

    /// <summary>Creates the controller; if one appeared meanwhile (or was not labelled as ours), replaces it instead.</summary>
    public async Task CreateControllerAsync(DesiredApp desired, CancellationToken cancellation)
    {
        var what = $"create {desired.Kind} {desired.Namespace}/{desired.Name}";
        try
        {
            if (desired.Deployment is { } d)
                await _kube.Call(() => _kube.Client.AppsV1.CreateNamespacedDeploymentAsync(d, desired.Namespace, cancellationToken: cancellation), what).ConfigureAwait(false);
            else
                await _kube.Call(() => _kube.Client.AppsV1.CreateNamespacedStatefulSetAsync(desired.StatefulSet!, desired.Namespace, cancellationToken: cancellation), what).ConfigureAwait(false);
        }
        catch (PaastaException e) when (e.ErrorId == "KubeConflict")
        {
            await ReplaceControllerAsync(desired, null, cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// PUTs the desired controller over the live one (whose resourceVersion it carries). When the object changed
    /// since it was read, reads it again and retries once.
    /// </summary>
    public async Task ReplaceControllerAsync(DesiredApp desired, IKubernetesObject<V1ObjectMeta>? live, CancellationToken cancellation)
    {
        var what = $"replace {desired.Kind} {desired.Namespace}/{desired.Name}";
        for (var attempt = 0; ; attempt++)
        {
            live ??= await ReadControllerAsync(desired, cancellation).ConfigureAwait(false);
            desired.Metadata.ResourceVersion = live.Metadata.ResourceVersion;
            try
            {
                if (desired.Deployment is { } d)
                    await _kube.Call(() => _kube.Client.AppsV1.ReplaceNamespacedDeploymentAsync(d, d.Metadata.Name, desired.Namespace, cancellationToken: cancellation), what).ConfigureAwait(false);
                else
                    await _kube.Call(() => _kube.Client.AppsV1.ReplaceNamespacedStatefulSetAsync(desired.StatefulSet!, desired.Name, desired.Namespace, cancellationToken: cancellation), what).ConfigureAwait(false);
                return;
            }
            catch (PaastaException e) when (e.ErrorId == "KubeConflict" && attempt == 0)
            {
                live = null;
            }
            finally
            {
                desired.Metadata.ResourceVersion = null;
            }
        }
    }

    private async Task<IKubernetesObject<V1ObjectMeta>> ReadControllerAsync(DesiredApp desired, CancellationToken cancellation)
    {
        var what = $"read {desired.Kind} {desired.Namespace}/{desired.Name}";
        return desired.Deployment is not null
            ? await _kube.Call(() => _kube.Client.AppsV1.ReadNamespacedDeploymentAsync(desired.Name, desired.Namespace, cancellationToken: cancellation), what).ConfigureAwait(false)
            : await _kube.Call(() => _kube.Client.AppsV1.ReadNamespacedStatefulSetAsync(desired.Name, desired.Namespace, cancellationToken: cancellation), what).ConfigureAwait(false);
    }

    /// <summary>Sets spec.replicas alone (a merge patch): the pod template is untouched, so no pod is replaced.</summary>
    public async Task ScaleControllerAsync(DesiredApp desired, CancellationToken cancellation)
    {
        var patch = new V1Patch($"{{\"spec\":{{\"replicas\":{desired.Replicas}}}}}", V1Patch.PatchType.MergePatch);
        var what = $"scale {desired.Kind} {desired.Namespace}/{desired.Name}";
        if (desired.Deployment is not null)
            await _kube.Call(() => _kube.Client.AppsV1.PatchNamespacedDeploymentAsync(patch, desired.Name, desired.Namespace, cancellationToken: cancellation), what).ConfigureAwait(false);
        else
            await _kube.Call(() => _kube.Client.AppsV1.PatchNamespacedStatefulSetAsync(patch, desired.Name, desired.Namespace, cancellationToken: cancellation), what).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes a Deployment or StatefulSet with its pods (background propagation), only if the object of that
    /// name is still the one that was read (its uid): a controller recreated meanwhile is left alone.
    /// </summary>
    public async Task DeleteControllerAsync(string kind, string ns, string name, string? uid, CancellationToken cancellation)
    {
        var options = new V1DeleteOptions
        {
            PropagationPolicy = "Background",
            Preconditions = uid is null ? null : new V1Preconditions { Uid = uid },
        };
        var what = $"delete {kind} {ns}/{name}";
        try
        {
            if (kind == "StatefulSet")
                await _kube.Call(() => _kube.Client.AppsV1.DeleteNamespacedStatefulSetAsync(name, ns, options, cancellationToken: cancellation), what).ConfigureAwait(false);
            else
                await _kube.Call(() => _kube.Client.AppsV1.DeleteNamespacedDeploymentAsync(name, ns, options, cancellationToken: cancellation), what).ConfigureAwait(false);
        }
        catch (PaastaException e) when (e.ErrorId == "KubeObjectNotFound") { }
    }

    /// <summary>Deletes one pod (already gone is fine).</summary>
    public async Task DeletePodAsync(string ns, string name, CancellationToken cancellation)
    {
        try
        {
            await _kube.Call(() => _kube.Client.CoreV1.DeleteNamespacedPodAsync(name, ns, cancellationToken: cancellation), $"delete pod {ns}/{name}").ConfigureAwait(false);
        }
        catch (PaastaException e) when (e.ErrorId == "KubeObjectNotFound") { }
    }

    /// <summary>Creates a PDB or HPA under <paramref name="groupVersion"/>; one that exists already is patched to match.</summary>
    public async Task CreateCustomAsync(string groupVersion, string plural, JsonObject body, CancellationToken cancellation)
    {
        var (group, version) = Split(groupVersion);
        var obj = new JsonObject { ["apiVersion"] = groupVersion };
        foreach (var (k, v) in body) obj[k] = v?.DeepClone();
        var ns = obj["metadata"]!["namespace"]!.GetValue<string>();
        var name = obj["metadata"]!["name"]!.GetValue<string>();
        try
        {
            await _kube.Call(() => _kube.Client.CustomObjects.CreateNamespacedCustomObjectAsync(obj, group, version, ns, plural, cancellationToken: cancellation),
                $"create {plural} {ns}/{name}").ConfigureAwait(false);
        }
        catch (PaastaException e) when (e.ErrorId == "KubeConflict")
        {
            await PatchCustomAsync(groupVersion, plural, ns, name, new JsonObject { ["metadata"] = new JsonObject { ["labels"] = obj["metadata"]!["labels"]!.DeepClone() }, ["spec"] = obj["spec"]!.DeepClone() }, cancellation).ConfigureAwait(false);
        }
    }

    public async Task PatchCustomAsync(string groupVersion, string plural, string ns, string name, JsonObject patch, CancellationToken cancellation)
    {
        var (group, version) = Split(groupVersion);
        var body = new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch);
        await _kube.Call(() => _kube.Client.CustomObjects.PatchNamespacedCustomObjectAsync(body, group, version, ns, plural, name, cancellationToken: cancellation),
            $"patch {plural} {ns}/{name}").ConfigureAwait(false);
    }

    public async Task DeleteCustomAsync(string groupVersion, string plural, string ns, string name, CancellationToken cancellation)
    {
        var (group, version) = Split(groupVersion);
        try
        {
            await _kube.Call(() => _kube.Client.CustomObjects.DeleteNamespacedCustomObjectAsync(group, version, ns, plural, name, cancellationToken: cancellation),
                $"delete {plural} {ns}/{name}").ConfigureAwait(false);
        }
        catch (PaastaException e) when (e.ErrorId == "KubeObjectNotFound") { }
    }

    /// <summary>Lists PDBs or HPAs of every namespace by label selector, as JSON.</summary>
    public async Task<List<JsonObject>> ListCustomAsync(string groupVersion, string plural, string selector, CancellationToken cancellation)
    {
        // Straight from the response into JSON nodes (not through the client's object-typed custom-object path).
        var prefix = groupVersion.Contains('/') ? "apis" : "api";
        using var list = await _kube.Call(() => _kube.GetJsonAsync($"{prefix}/{groupVersion}/{plural}?labelSelector={Uri.EscapeDataString(selector)}", cancellation),
            $"list Paasta-managed {plural}").ConfigureAwait(false);
        return KubeJson.Items(list.RootElement).Where(i => i.ValueKind == JsonValueKind.Object).Select(i => JsonObject.Create(i.Clone())!).ToList();
    }

    public async Task<bool> NamespaceExistsAsync(string name, CancellationToken cancellation)
    {
        try
        {
            await _kube.Call(() => _kube.Client.CoreV1.ReadNamespaceAsync(name, cancellationToken: cancellation), $"read namespace {name}").ConfigureAwait(false);
            return true;
        }
        catch (PaastaException e) when (e.ErrorId == "KubeObjectNotFound")
        {
            return false;
        }
    }

    private static (string Group, string Version) Split(string groupVersion)
    {
        var slash = groupVersion.IndexOf('/');
        return slash < 0 ? ("", groupVersion) : (groupVersion[..slash], groupVersion[(slash + 1)..]);
    }
}
