using System.Globalization;
using k8s.Models;

namespace Paasta.Drain;

/// <summary>
/// One running copy to drain (docs/BEHAVIOUR.md §7.2's task): on Kubernetes a pod. <see cref="Host"/> and the first of
/// <see cref="Ports"/> are what hacheck and http drain methods talk to; <see cref="Id"/> is what the test
/// method records. The bounce engine fills one from a pod with <see cref="FromPod"/>.
/// </summary>
public sealed record DrainTask
{
    /// <summary>Stable identity of the copy: the pod name.</summary>
    public string Id { get; init; } = "";
    public string? Namespace { get; init; }
    /// <summary>The address drain methods reach the copy at: the pod IP on Kubernetes (hacheck runs in the pod).</summary>
    public string? Host { get; init; }
    /// <summary>The node's IP, for custom methods that talk to a per-node agent.</summary>
    public string? HostIp { get; init; }
    public string? NodeName { get; init; }
    /// <summary>The copy's ports; drain methods use the first (docs/BEHAVIOUR.md §7.2). On Kubernetes: container_port.</summary>
    public IReadOnlyList<int> Ports { get; init; } = Array.Empty<int>();
    public string? Service { get; init; }
    public string? Instance { get; init; }
    /// <summary>The pod's paasta.yelp.com/config_sha label: which version the copy runs.</summary>
    public string? ConfigSha { get; init; }
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>The first port, or null when the task has none.</summary>
    public int? Port => Ports.Count > 0 ? Ports[0] : null;

    /// <summary>
    /// A task for a pod. The port is <paramref name="port"/> when given (pass the instance's container_port),
    /// else the first port the pod's first container declares.
    /// </summary>
    public static DrainTask FromPod(V1Pod pod, int? port = null)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var labels = pod.Metadata?.Labels ?? new Dictionary<string, string>();
        var declared = pod.Spec?.Containers?.FirstOrDefault()?.Ports?.Select(p => p.ContainerPort).ToList();
        var ports = port is { } given ? new List<int> { given } : declared ?? new List<int>();
        string? Label(string key) => labels.TryGetValue(key, out var v) ? v : null;
        return new DrainTask
        {
            Id = pod.Metadata?.Name ?? "",
            Namespace = pod.Metadata?.NamespaceProperty,
            Host = pod.Status?.PodIP,
            HostIp = pod.Status?.HostIP,
            NodeName = pod.Spec?.NodeName,
            Ports = ports,
            Service = Label("paasta.yelp.com/service"),
            Instance = Label("paasta.yelp.com/instance"),
            ConfigSha = Label("paasta.yelp.com/config_sha"),
            Labels = new Dictionary<string, string>(labels),
        };
    }

    public override string ToString() =>
        Port is { } p ? $"{Id} ({Host}:{p.ToString(CultureInfo.InvariantCulture)})" : $"{Id} ({Host ?? "no address"})";
}
