using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Paasta.Config;
using Paasta.Errors;

namespace Paasta.Docker;

/// <summary>Who runs the container and where: PAASTA_LAUNCHED_BY, HOST/PAASTA_HOST and the container's hostname.</summary>
public sealed record LocalIdentity(string User, string Fqdn, string ShortName)
{
    private static LocalIdentity? _current;

    /// <summary>$SUDO_USER or the current user; the host's fully qualified name (as Python's socket.getfqdn()) and its short name.</summary>
    public static LocalIdentity Current => _current ??= Discover();

    private static LocalIdentity Discover()
    {
        var user = System.Environment.GetEnvironmentVariable("SUDO_USER") is { Length: > 0 } sudo ? sudo : System.Environment.UserName;
        var host = Dns.GetHostName();
        var fqdn = host;
        try
        {
            var entry = Dns.GetHostEntry(host);
            if (!string.IsNullOrEmpty(entry.HostName) && entry.HostName.Contains('.')) fqdn = entry.HostName;
        }
        catch (SocketException) { }
        return new LocalIdentity(user, fqdn, host.Split('.')[0]);
    }
}

/// <summary>What the caller asks of a local run beyond the instance's own configuration.</summary>
public sealed record LocalRunOptions
{
    /// <summary>-Command: one string runs with <c>sh -c</c>; several words run as they are.</summary>
    public IReadOnlyList<string>? Command { get; init; }
    /// <summary>
    /// True: run interactively with a shell unless a command is given (-Interactive, or the interactive instance).
    /// False: never interactively (-Interactive:$false). Null: interactively only when the instance has no
    /// healthcheck, as PaaSTA forces it then, with the instance's own command.
    /// </summary>
    public bool? Interactive { get; init; }
    /// <summary>The console is a terminal: an interactive run gets a TTY.</summary>
    public bool Tty { get; init; }
    public bool Detach { get; init; }
    public bool NoHealthcheck { get; init; }
    public bool HealthcheckOnly { get; init; }
    /// <summary>-Port: the host port to publish the container port on.</summary>
    public int? Port { get; init; }
    /// <summary>-Env: added last, so they override everything else. Names are checked by the caller.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Env { get; init; } = Array.Empty<KeyValuePair<string, string>>();
    /// <summary>-Volume: <c>host:container[:ro|rw]</c>, host paths already absolute.</summary>
    public IReadOnlyList<string> Volumes { get; init; } = Array.Empty<string>();
    public string? ContainerName { get; init; }
    /// <summary>The instance's own command when it differs from its config (a Tron action's, with its date variables filled in).</summary>
    public IReadOnlyList<string>? InstanceCommand { get; init; }
    /// <summary>git_sha of the soa dir's .metadata.json, "" when unknown: PAASTA_SOA_CONFIGS_SHA of kubernetes and eks instances.</summary>
    public string SoaConfigsSha { get; init; } = "";
}

/// <summary>
/// Turns an instance, its deployment and the caller's options into a <see cref="LocalRunPlan"/> the way
/// <c>paasta local-run</c> does (docs/BEHAVIOUR.md §9.3): PaaSTA's environment plus the local-run variables, memory and CPU
/// limits, PaaSTA's labels and capability set, the published port, volumes, command and healthcheck.
/// </summary>
public static class LocalRunPlanner
{
    /// <summary>Capabilities PaaSTA drops unless the instance adds them back with cap_add.</summary>
    public static readonly IReadOnlyList<string> DefaultDroppedCapabilities = new[]
        { "SETPCAP", "MKNOD", "AUDIT_WRITE", "CHOWN", "NET_RAW", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "NET_BIND_SERVICE", "SYS_CHROOT", "SETFCAP" };

    /// <summary>The shell of an interactive run: bash where the image has it (PaaSTA's choice), else sh.</summary>
    public const string InteractiveShell = "if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi";

    public static LocalRunPlan Plan(
        InstanceConfig instance,
        DeploymentBranch? branch,
        string image,
        string dockerImageVariable,
        LocalRunOptions options,
        LocalIdentity identity,
        Func<int>? pickPort = null)
    {
        if (instance.Cmd is not null && instance.Args is not null)
            throw new PaastaException("InstanceConfigInvalid", PaastaErrorKind.InvalidData,
                $"{instance.File}:{instance.Line}: {instance.Service}.{instance.Instance} sets both cmd and args; give only one.")
            { File = instance.File, Line = instance.Line, Key = "args", Target = instance };

        var warnings = new List<string>();
        var net = string.IsNullOrEmpty(instance.Net) ? "bridge" : instance.Net;

        // Environment: PaaSTA's injected set and the instance's env; kubernetes and eks instances add the soa-configs
        // commit and drop PAASTA_CLUSTER (their pods get it from a label); then local-run's own variables (a dict
        // update: keys already present keep their place), then -Env.
        var env = PaastaEnvironment.Build(instance, branch);
        void Set(string name, string value)
        {
            var i = env.FindIndex(e => e.Key == name);
            if (i >= 0) env[i] = new(name, value);
            else env.Add(new(name, value));
        }
        if (InstanceTypes.IsLongRunning(instance.InstanceType))
        {
            Set("PAASTA_SOA_CONFIGS_SHA", options.SoaConfigsSha);
            env.RemoveAll(e => e.Key == "PAASTA_CLUSTER");
        }
        Set("HOST", identity.Fqdn);
        Set("PAASTA_DOCKER_IMAGE", dockerImageVariable);
        Set("PAASTA_LAUNCHED_BY", identity.User);
        Set("PAASTA_HOST", identity.Fqdn);
        Set("PAASTA_CLUSTER", instance.Cluster);
        foreach (var (k, v) in options.Env) Set(k, v);
        foreach (var (k, v) in env)
            if (PaastaEnvironment.IsSecretReference(v, out _, out var secret))
                warnings.Add($"{k} refers to secret '{secret}'; local runs do not decrypt secrets, so the container gets the literal {v}. Pass a value with -Env {k}=...");

        // docs/BEHAVIOUR.md §9.3 step 10: an instance without a healthcheck runs interactively and publishes no port;
        // one with a healthcheck publishes its port when -Port is given, the healthcheck runs, or -HealthcheckOnly.
        var mode = instance.HealthcheckMode;
        var interactive = options.Interactive ?? (mode is null && !options.Detach);
        var publish = mode is not null && (options.Port is not null || !options.NoHealthcheck || options.HealthcheckOnly);
        int? hostPort = null;
        if (net == "bridge" && publish)
            hostPort = options.Port ?? (pickPort ?? (() => PortPicker.Pick(instance.Service, identity.User)))();
        var reachable = hostPort ?? (net == "host" ? (int?)instance.ContainerPort : null);
        if (options.Port is { } asked && hostPort is null)
            warnings.Add(mode is null
                ? $"-Port {asked} is ignored: {instance.Service}.{instance.Instance} has no healthcheck, so its port is not published (as PaaSTA runs it)."
                : net == "host"
                ? $"-Port {asked} is ignored: with net: host the container shares the host's network and listens on its own port {instance.ContainerPort}."
                : $"-Port {asked} is ignored: with net: {net} the container port is not published.");

        HealthcheckSpec? healthcheck = null;
        if (mode is not null && (!options.NoHealthcheck || options.HealthcheckOnly))
        {
            string? target = mode switch
            {
                "cmd" => instance.HealthcheckCmd ?? throw new PaastaException("InstanceConfigInvalid", PaastaErrorKind.InvalidData,
                    $"{instance.File}:{instance.Line}: {instance.Service}.{instance.Instance} uses healthcheck_mode cmd without healthcheck_cmd.")
                    { File = instance.File, Line = instance.Line, Key = "healthcheck_cmd", Target = instance },
                "http" or "https" when reachable is { } p => $"{mode}://127.0.0.1:{p.ToString(CultureInfo.InvariantCulture)}{(instance.HealthcheckUri.StartsWith('/') ? "" : "/")}{instance.HealthcheckUri}",
                "tcp" when reachable is { } p => $"tcp://127.0.0.1:{p.ToString(CultureInfo.InvariantCulture)}",
                _ => null,
            };
            if (target is null)
                warnings.Add($"healthcheck_mode {mode} needs the container port on the host, which net: {net} does not give; the healthcheck is skipped.");
            else
                healthcheck = new HealthcheckSpec(mode, target, instance.HealthcheckGracePeriodSeconds, instance.HealthcheckIntervalSeconds,
                    instance.HealthcheckTimeoutSeconds, instance.HealthcheckMaxConsecutiveFailures);
        }
        if (options.HealthcheckOnly && healthcheck is null)
            throw new PaastaException("HealthcheckNotDefined", PaastaErrorKind.InvalidOperation,
                $"{instance.Service}.{instance.Instance} on {instance.Cluster} has no healthcheck{(mode is null ? " (no healthcheck_mode, and no mesh registration that implies one)" : $" this run can make (healthcheck_mode {mode} with net: {net})")}; nothing to check.")
            { Target = $"{instance.Service}.{instance.Instance}" };

        // An interactive run asked for starts a shell unless a command is given; a forced one runs the instance's command.
        IReadOnlyList<string>? command = options.Command switch
        {
            { Count: 1 } one => new[] { "sh", "-c", one[0] },
            { Count: > 1 } many => many.ToArray(),
            _ when options.Interactive == true => new[] { "sh", "-c", InteractiveShell },
            _ when options.InstanceCommand is { } own => own,
            _ when instance.Command is { } c => c,
            _ when instance.Args is { Count: > 0 } a => a,
            _ => null,
        };

        var capAdd = StringList(instance, "cap_add");
        var capDrop = DefaultDroppedCapabilities.Where(c => !capAdd.Contains(c, StringComparer.OrdinalIgnoreCase)).ToList();

        var (extraDocker, extraArgs) = ExtraDockerArgs.Parse(instance);

        // PaaSTA lists --volume values first, then the instance's volumes (de-duplicated and sorted), those whose host path exists.
        var volumes = options.Volumes.Select(ValidateVolume).ToList();
        foreach (var v in ContainerVolumes.Of(instance))
        {
            if (Directory.Exists(v.HostPath) || File.Exists(v.HostPath))
                volumes.Add($"{v.HostPath}:{v.ContainerPath}:{v.Mode.ToLowerInvariant()}");
            else
                warnings.Add($"{(v == ContainerVolumes.Bulkdata ? "uses_bulkdata" : "extra_volumes")}: {v.HostPath} does not exist on this host; {v.ContainerPath} is not mounted.");
        }

        var mem = instance.Mem;
        const long MiB = 1024 * 1024;
        return new LocalRunPlan
        {
            Service = instance.Service,
            Instance = instance.Instance,
            Cluster = instance.Cluster,
            InstanceType = instance.InstanceType,
            Image = image,
            ContainerName = options.ContainerName ?? $"paasta_local_run_{ImageNames.SafeTagPart(identity.User).Replace('.', '_')}_{RandomNumberGenerator.GetInt32(1, 1_000_000).ToString(CultureInfo.InvariantCulture)}",
            Environment = env,
            Command = command,
            MemoryBytes = (long)mem * MiB,
            MemorySwapBytes = (long)Math.Ceiling(mem + 64) * MiB,
            CpuPeriod = instance.CfsPeriodUs,
            CpuQuota = (long)((instance.Cpus + instance.CpuBurstAdd) * instance.CfsPeriodUs),
            Labels = new Dictionary<string, string> { ["paasta_service"] = instance.Service, ["paasta_instance"] = instance.Instance },
            CapAdd = capAdd,
            CapDrop = capDrop,
            ExtraDockerArgs = extraArgs,
            ExtraDocker = extraDocker,
            NetworkMode = net,
            // paasta_docker_wrapper names the container after the host unless a hostname is given or the net is the host's.
            Hostname = net == "host" || extraDocker.Hostname is not null ? null : identity.ShortName,
            ContainerPort = instance.ContainerPort,
            HostPort = hostPort,
            HostPortRequested = options.Port is not null,
            Volumes = volumes,
            Interactive = interactive,
            Tty = interactive && options.Tty,
            Detach = options.Detach,
            HealthcheckOnly = options.HealthcheckOnly,
            Healthcheck = healthcheck,
            Warnings = warnings,
        };
    }

    private static List<string> StringList(InstanceConfig instance, string key) =>
        instance.Config.TryGetValue(key, out var v) && v is IEnumerable<object?> list && v is not string
            ? list.Where(x => x is not null).Select(x => Yaml.PythonText.Str(x)).ToList()
            : new List<string>();

    /// <summary>host:container[:ro|rw] with absolute paths on both sides.</summary>
    public static string ValidateVolume(string spec)
    {
        var parts = spec.Split(':');
        var ok = parts.Length is 2 or 3 && parts[0].StartsWith('/') && parts[1].StartsWith('/')
            && (parts.Length == 2 || parts[2] is "ro" or "rw" or "RO" or "RW");
        if (!ok)
            throw new PaastaException("VolumeSpecInvalid", PaastaErrorKind.InvalidArgument,
                $"'{spec}' is not a volume: use /host/path:/container/path[:ro|rw].")
            { Target = spec };
        return parts.Length == 2 ? $"{parts[0]}:{parts[1]}:rw" : $"{parts[0]}:{parts[1]}:{parts[2].ToLowerInvariant()}";
    }
}

/// <summary>Host ports for local runs (docs/BEHAVIOUR.md §9.3 step 9).</summary>
public static class PortPicker
{
    /// <summary>PaaSTA's stable choice for a service and user: 33000 + sha1("service,user") mod 25000.</summary>
    public static int Preferred(string service, string user)
    {
        var digest = SHA1.HashData(Encoding.UTF8.GetBytes($"{service},{user}"));
        var value = new BigInteger(digest, isUnsigned: true, isBigEndian: true);
        return 33000 + (int)(value % 25000);
    }

    /// <summary>The preferred port when nothing listens on it, else a free port the kernel hands out.</summary>
    public static int Pick(string service, string user)
    {
        var preferred = Preferred(service, user);
        return IsFree(preferred) ? preferred : FreePort();
    }

    public static bool IsFree(int port)
    {
        foreach (var address in new[] { IPAddress.Any, IPAddress.Loopback })
        {
            try
            {
                var listener = new TcpListener(address, port);
                listener.Start();
                listener.Stop();
            }
            catch (SocketException) { return false; }
        }
        return true;
    }

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        try { return ((IPEndPoint)listener.LocalEndpoint).Port; }
        finally { listener.Stop(); }
    }
}
