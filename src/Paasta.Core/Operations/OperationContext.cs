using Paasta.Config;
using Paasta.Errors;
using Paasta.Kubernetes;
using Paasta.Settings;

namespace Paasta.Operations;

/// <summary>
/// Everything one cmdlet call needs from its surroundings, resolved once: the settings (in the documented
/// order, docs/CONFIGURATION.md), the soa-configs reader, Kubernetes connections (one per context), the
/// sink that carries messages, progress and confirmations back, and cancellation. One context lives as long
/// as the cmdlet call, so pipeline input shares its reader and connections.
/// </summary>
public sealed class OperationContext : IDisposable
{
    private readonly object _gate = new();
    private SoaConfigReader? _reader;
    private readonly Dictionary<(string KubeConfig, string? Context), KubeConnection> _connections = new();
    // A context made by WithSink: it reads and connects through its parent, which owns (and disposes) both.
    private readonly OperationContext? _parent;

    public OperationContext(ResolvedSettings settings, IOperationSink sink, CancellationToken cancellation = default, string? currentDirectory = null)
    {
        Settings = settings;
        Sink = sink;
        Cancellation = cancellation;
        CurrentDirectory = currentDirectory ?? Environment.CurrentDirectory;
    }

    private OperationContext(OperationContext parent, IOperationSink sink)
        : this(parent.Settings, sink, parent.Cancellation, parent.CurrentDirectory) => _parent = parent;

    /// <summary>
    /// The same call reporting to another sink (an operation that runs others as its steps and keeps their output
    /// to itself): settings, soa-configs reader and Kubernetes connections are this context's own, shared.
    /// </summary>
    public OperationContext WithSink(IOperationSink sink) => new(_parent ?? this, sink);

    public ResolvedSettings Settings { get; }
    public IOperationSink Sink { get; }
    public CancellationToken Cancellation { get; }
    /// <summary>Where relative paths the user wrote (git_url, volumes) resolve: the caller's current location.</summary>
    public string CurrentDirectory { get; }
    /// <summary>Where this call's time went (written with -Debug when the call ends).</summary>
    public PhaseTimings Timings { get; private init; } = new();

    // A context made for part of a call (ErrorCollectingSink.Collect) adds its phases to the caller's timings.
    private bool _ownsTimings = true;

    /// <summary>A context for part of this call that reports to <paramref name="sink"/>: same settings and timings, its own reader and connections.</summary>
    public OperationContext Child(IOperationSink sink) =>
        new(Settings, sink, Cancellation, CurrentDirectory) { Timings = Timings, _ownsTimings = false };

    /// <summary>The soa-configs reader of the resolved soa dir (SoaDirNotFound when it does not exist).</summary>
    public SoaConfigReader Reader
    {
        get
        {
            if (_parent is not null) return _parent.Reader;
            lock (_gate)
            {
                if (_reader is not null) return _reader;
                var soaDir = Settings.Get(nameof(PaastaSettings.SoaDir));
                _reader = new SoaConfigReader(Path.GetFullPath(soaDir.Value!, CurrentDirectory));
                Sink.Debug($"soa dir: {_reader.SoaDir} ({soaDir.Origin})");
                return _reader;
            }
        }
    }

    /// <summary>
    /// The connection for a PaaSTA cluster: its kubeconfig context is the -Context parameter, else the cluster's
    /// ClusterContext entry, else KubeContext, else the kubeconfig's current one. Clusters that map to the same
    /// context share one connection.
    /// </summary>
    public KubeConnection Kube(string? cluster = null)
    {
        if (_parent is not null) return _parent.Kube(cluster);
        var kubeConfig = Path.GetFullPath(Settings.KubeConfig, CurrentDirectory);
        var context = Settings.ContextFor(cluster).Value;
        lock (_gate)
        {
            if (_connections.TryGetValue((kubeConfig, context), out var open)) return open;
            var cache = Settings.CacheDirectory;
            var connection = KubeConnection.Open(new KubeTarget(kubeConfig, context) { DiscoveryCacheDirectory = cache is null ? null : Path.Combine(cache, "kube-discovery") });
            _connections[(kubeConfig, context)] = connection;
            Timings.Mark("kubeconfig and client");
            Sink.Verbose($"Kubernetes{(cluster is null ? "" : $" for cluster {cluster}")}: {connection.ServerUrl} (kubeconfig {kubeConfig}{(context is null ? "" : $", context {context}")})");
            return connection;
        }
    }

    /// <summary>The connections opened so far (for request counts in -Verbose and benchmarks).</summary>
    public IReadOnlyCollection<KubeConnection> OpenConnections
    {
        get
        {
            if (_parent is not null) return _parent.OpenConnections;
            lock (_gate) return _connections.Values.ToList();
        }
    }

    /// <summary>
    /// The image registry of a service: a -Registry parameter, else service.yaml docker_registry, else
    /// $env:PAASTA_DOCKER_REGISTRY, else the saved setting; null when none is set.
    /// </summary>
    public string? RegistryFor(ServiceConfig service) => RegistryFor(service.DockerRegistry);

    /// <summary>As <see cref="RegistryFor(ServiceConfig)"/>, for an instance (its merged docker_registry).</summary>
    public string? RegistryFor(InstanceConfig instance) =>
        RegistryFor(instance.Config.TryGetValue("docker_registry", out var value) ? value as string : null);

    /// <summary>The registry, or RegistryNotConfigured naming every place it can be set.</summary>
    public string RequireRegistryFor(ServiceConfig service) =>
        RegistryFor(service) ?? throw RegistryMissing(service.Name);

    public string RequireRegistryFor(InstanceConfig instance) =>
        RegistryFor(instance) ?? throw RegistryMissing(instance.ToString());

    private string? RegistryFor(string? fromServiceYaml)
    {
        var setting = Settings.Get(nameof(PaastaSettings.DockerRegistry));
        var registry = setting.Origin == SettingOrigin.Parameter ? setting.Value
            : !string.IsNullOrWhiteSpace(fromServiceYaml) ? fromServiceYaml
            : setting.Value;
        return string.IsNullOrWhiteSpace(registry) ? null : registry.Trim().TrimEnd('/');
    }

    private static PaastaException RegistryMissing(string target) =>
        new("RegistryNotConfigured", PaastaErrorKind.InvalidOperation,
            $"{target}: no docker registry: pass -Registry, set docker_registry in service.yaml, set $env:PAASTA_DOCKER_REGISTRY, or Set-PaastaConfiguration -DockerRegistry.")
        { Target = target };

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var c in _connections.Values)
            {
                Sink.Verbose($"Kubernetes API ({c.ServerUrl}): {c.Counter.Requests} request(s), {c.Counter.Writes} write(s).");
                c.Dispose();
            }
            _connections.Clear();
        }
        if (_ownsTimings && Timings.Phases.Count > 0)
        {
            Timings.Mark("until the call ends");
            Sink.Debug(Timings.Summary()!);
        }
    }
}
