using System.Security.Cryptography;
using System.Text;
using k8s;
using k8s.Models;
using Paasta.Config;
using Paasta.Errors;

namespace Paasta.Kubernetes;

/// <summary>
/// Signatures of the Kubernetes Secrets that instances' env references, so that a rotated secret changes
/// config_sha and bounces the instance (docs/BEHAVIOUR.md §5.8 step 3, §6.1). PaaSTA reads them from a ConfigMap its secret
/// syncer writes; Paasta has no syncer, so it signs each Secret's data itself — only the data, so relabelling
/// or annotating a Secret does not bounce anything.
/// </summary>
public sealed class SecretSignatures
{
    /// <summary>No secret observed: instances that reference secrets get no paasta_secrets entry.</summary>
    public static readonly SecretSignatures None = new(new Dictionary<(string, string), string>());

    private readonly IReadOnlyDictionary<(string Namespace, string Name), string> _byName;

    public SecretSignatures(IReadOnlyDictionary<(string Namespace, string Name), string> byName) => _byName = byName;

    public int Count => _byName.Count;

    /// <summary>True when the instance's env references a secret (SECRET(x) or SHARED_SECRET(x)).</summary>
    public static bool Referenced(InstanceConfig instance) =>
        instance.Env.Values.Any(v => PaastaEnvironment.IsSecretReference(v, out _, out _));

    /// <summary>
    /// Reads the Secrets of the namespaces of instances that reference any: one LIST per such namespace, none at
    /// all when no instance uses a secret.
    /// </summary>
    public static async Task<SecretSignatures> ReadAsync(KubeConnection kube, IEnumerable<InstanceConfig> instances, CancellationToken cancellation)
    {
        var namespaces = instances.Where(Referenced).Select(i => i.Namespace).Distinct(StringComparer.Ordinal).ToList();
        if (namespaces.Count == 0) return None;
        var lists = await Task.WhenAll(namespaces.Select(ns => ListAsync(kube, ns, cancellation))).ConfigureAwait(false);
        var byName = new Dictionary<(string, string), string>();
        foreach (var secret in lists.SelectMany(l => l))
            byName[(secret.Metadata.NamespaceProperty, secret.Metadata.Name)] = Sign(secret);
        return new SecretSignatures(byName);
    }

    private static async Task<IList<V1Secret>> ListAsync(KubeConnection kube, string ns, CancellationToken cancellation)
    {
        try
        {
            return (await kube.Call(() => kube.Client.CoreV1.ListNamespacedSecretAsync(ns, cancellationToken: cancellation), $"list the Secrets of namespace {ns}")
                .ConfigureAwait(false)).Items;
        }
        catch (PaastaException e) when (e.ErrorId == "KubeObjectNotFound")
        {
            return Array.Empty<V1Secret>(); // the namespace does not exist yet
        }
    }

    /// <summary>The first 16 hex digits of SHA-256 over the Secret's data, key by key in ordinal order.</summary>
    public static string Sign(V1Secret secret)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (key, value) in (secret.Data ?? new Dictionary<string, byte[]>()).OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(key));
            sha.AppendData(new byte[] { 0 });
            sha.AppendData(BitConverter.GetBytes((long)value.Length));
            sha.AppendData(value);
        }
        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant()[..16];
    }

    /// <summary>The signature of each secret reference in the instance's env (keyed by the reference, e.g. <c>SECRET(x)</c>).</summary>
    public IReadOnlyDictionary<string, string>? For(InstanceConfig instance)
    {
        if (_byName.Count == 0) return null;
        var picked = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in instance.Env.Values)
            if (PaastaEnvironment.IsSecretReference(value, out var shared, out var secret)
                && _byName.TryGetValue((instance.Namespace, KubernetesObjectBuilder.SecretName(instance, shared, secret)), out var signature))
                picked[value] = signature;
        return picked.Count == 0 ? null : picked;
    }
}
