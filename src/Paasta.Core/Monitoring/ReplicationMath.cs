using Paasta.Yaml;
using Paasta.Config;

namespace Paasta.Monitoring;

/// <summary>The arithmetic and the texts of PaaSTA's replication check (docs/BEHAVIOUR.md §8.2–8.5), as pure functions.</summary>
public static class ReplicationMath
{
    public const string CheckPrefix = "check_paasta_services_replication";
    public const string SmartstackProvider = "Smartstack";
    public const string DefaultRunbook = "y/unhealthy-paasta-instances";

    /// <summary>
    /// Under-replicated when <c>available / expected × 100</c> is below the threshold (the threshold taken as an
    /// integer); expected 0 counts as 100 %. The ratio is computed in the same order as PaaSTA, so its text matches.
    /// </summary>
    public static (bool UnderReplicated, double Ratio) Evaluate(long available, long expected, long threshold)
    {
        var ratio = expected == 0 ? 100.0 : available / (double)expected * 100;
        return (ratio < threshold, ratio);
    }

    /// <summary>
    /// Copies an instance should have: 0 when stopped (Paasta decision 7); otherwise <c>instances</c>, or for an
    /// autoscaled instance the live controller's replicas clamped to [min_instances, max_instances], and
    /// max_instances when there is no live controller yet.
    /// </summary>
    public static long ExpectedCount(InstanceConfig instance, string? desiredState, long? liveReplicas)
    {
        if (string.Equals(desiredState, "stop", StringComparison.Ordinal)) return 0;
        if (instance.MaxInstances is not { } max) return instance.Instances;
        if (liveReplicas is not { } live) return max;
        return Math.Min(Math.Max(live, instance.MinInstances), max);
    }

    /// <summary>The replication alert's default alert_after: 20m for a single, non-autoscaled copy, else 10m.</summary>
    public static string DefaultAlertAfter(InstanceConfig instance) =>
        !instance.IsAutoscaled && instance.Instances == 1 ? "20m" : "10m";

    /// <summary>Python's <c>str()</c> of a float, as the check prints ratios (<c>33.33333333333333</c>, <c>100.0</c>).</summary>
    public static string Percent(double ratio) => PythonText.Float(ratio);

    public static string JobId(string service, string instance) => $"{service}.{instance}";

    public static string CheckName(string service, string instance) => $"{CheckPrefix}.{service}.{instance}";

    /// <summary>Pod-based output: <c>svc.inst has n/expected replicas available (threshold: t%)</c>.</summary>
    public static string PodOutput(string service, string instance, long available, long expected, long threshold) =>
        $"{JobId(service, instance)} has {available}/{expected} replicas available (threshold: {threshold}%)";

    /// <summary>One location of a mesh-based check.</summary>
    public static string MeshLine(string service, string instance, long available, long expectedPerLocation, string location, string provider, bool under, double ratio) =>
        $"{JobId(service, instance)} has {available}/{expectedPerLocation} replicas in {location} according to {provider} ({(under ? "CRITICAL" : "OK")}: {Percent(ratio)}%)";

    /// <summary>Critical lines joined by ", ", then the OK ones after ". The following locations are OK: " when there are both.</summary>
    public static string MeshOutput(IReadOnlyList<string> criticalLines, IReadOnlyList<string> okLines)
    {
        if (criticalLines.Count == 0) return string.Join(", ", okLines);
        var text = string.Join(", ", criticalLines);
        return okLines.Count == 0 ? text : text + ". The following locations are OK: " + string.Join(", ", okLines);
    }

    public static string StatusCommand(string service, string instance, string cluster) =>
        $"paasta status -s {service} -i {instance} -c {cluster} -vv";

    public static string LogsCommand(string service, string instance, string cluster) =>
        $"paasta logs -s {service} -i {instance} -c {cluster}";

    /// <summary>The tip sent when the soa-configs set none.</summary>
    public static string DefaultTip(string service, string instance, string cluster) =>
        $"Check the instance with: `{StatusCommand(service, instance, cluster)}`";

    public static string PodCriticalDescription(string service, string instance, string cluster, long available, long expected, long threshold) =>
        $"{JobId(service, instance)} on {cluster} is under-replicated: {available} of its {expected} expected replicas are Ready, "
        + $"below its replication threshold of {threshold}%.\n\n"
        + "The platform cannot keep the requested number of copies of this instance healthy. Common reasons: the copies "
        + "crash or fail their health checks, the version being deployed does not start, or the cluster has no room "
        + "to schedule more copies.\n\n"
        + $"What to do: look at the copies and their recent events with `{StatusCommand(service, instance, cluster)}` and at "
        + $"their output with `{LogsCommand(service, instance, cluster)}`. If the copies are healthy but too few for the "
        + "load, raise `instances` (or `max_instances`) in the instance's soa-configs.";

    public static string MeshCriticalDescription(string service, string instance, string cluster, long threshold) =>
        $"{JobId(service, instance)} on {cluster} has too few healthy backends in the service mesh: under {threshold}% of "
        + "its expected replicas are UP in the mesh load balancer of at least one location.\n\n"
        + "Clients of this service in those locations may see 503s or refused connections, because the mesh has "
        + "little or nothing healthy to send their requests to.\n\n"
        + $"What to do: read the instance's output with `{LogsCommand(service, instance, cluster)}` and its state with "
        + $"`{StatusCommand(service, instance, cluster)}`. If the copies run but sit in too few locations, widen the "
        + "namespace's `discover` setting in smartstack.yaml or add copies (`instances`) so every location gets some.";

    public static string OkDescription(string service, string instance, long threshold) =>
        $"{JobId(service, instance)} is well-replicated: at least {threshold}% of its expected replicas are up.";
}
