using System.Globalization;
using System.Text.RegularExpressions;
using Docker.DotNet.Models;
using Paasta.Config;
using Paasta.Errors;

namespace Paasta.Docker;

/// <summary>One --ulimit: NAME=SOFT[:HARD].</summary>
public sealed record DockerUlimit(string Name, long Soft, long Hard)
{
    public override string ToString() => $"{Name}={Soft.ToString(CultureInfo.InvariantCulture)}:{Hard.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>
/// An instance's extra_docker_args (docs/BEHAVIOUR.md §9.3) as the container settings the Docker API takes: what
/// <c>docker run --KEY=VALUE</c> would set for each, for the options Paasta knows. Null or empty means not given.
/// </summary>
public sealed class ExtraDockerSettings
{
    public long? ShmSize { get; internal set; }
    public long? MemorySwap { get; internal set; }
    public long? MemoryReservation { get; internal set; }
    public long? MemorySwappiness { get; internal set; }
    public long? PidsLimit { get; internal set; }
    public long? CpuShares { get; internal set; }
    public long? OomScoreAdj { get; internal set; }
    public bool? OomKillDisable { get; internal set; }
    public bool? Privileged { get; internal set; }
    public bool? ReadOnly { get; internal set; }
    public string? CpusetCpus { get; internal set; }
    public string? CpusetMems { get; internal set; }
    public string? User { get; internal set; }
    public string? WorkingDir { get; internal set; }
    public string? Hostname { get; internal set; }
    public string? IpcMode { get; internal set; }
    public string? PidMode { get; internal set; }
    public string? StopSignal { get; internal set; }
    public long? StopTimeoutSeconds { get; internal set; }
    public List<DockerUlimit> Ulimits { get; } = new();
    public List<string> CapAdd { get; } = new();
    public List<string> CapDrop { get; } = new();
    public List<string> ExtraHosts { get; } = new();
    public List<string> Dns { get; } = new();
    public List<string> DnsSearch { get; } = new();
    public List<string> DnsOptions { get; } = new();
    public List<string> SecurityOpt { get; } = new();
    public List<string> GroupAdd { get; } = new();
    public Dictionary<string, string> Sysctls { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, string> Tmpfs { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, string> Labels { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Reads extra_docker_args and applies them through the Docker API, since Paasta creates containers with the API
/// rather than the docker CLI. An option without an API mapping here is refused, never silently dropped.
/// </summary>
public static partial class ExtraDockerArgs
{
    private delegate void Handler(ExtraDockerSettings s, string value, Func<string, Exception> bad);

    private static readonly Dictionary<string, Handler> Handlers = new(StringComparer.Ordinal)
    {
        ["shm-size"] = (s, v, bad) => s.ShmSize = Size(v, bad),
        ["memory-swap"] = (s, v, bad) => s.MemorySwap = v.Trim() == "-1" ? -1 : Size(v, bad),
        ["memory-reservation"] = (s, v, bad) => s.MemoryReservation = Size(v, bad),
        ["memory-swappiness"] = (s, v, bad) => s.MemorySwappiness = Integer(v, bad, -1, 100),
        ["pids-limit"] = (s, v, bad) => s.PidsLimit = Integer(v, bad, -1, long.MaxValue),
        ["cpu-shares"] = (s, v, bad) => s.CpuShares = Integer(v, bad, 0, long.MaxValue),
        ["oom-score-adj"] = (s, v, bad) => s.OomScoreAdj = Integer(v, bad, -1000, 1000),
        ["oom-kill-disable"] = (s, v, bad) => s.OomKillDisable = Bool(v, bad),
        ["privileged"] = (s, v, bad) => s.Privileged = Bool(v, bad),
        ["read-only"] = (s, v, bad) => s.ReadOnly = Bool(v, bad),
        ["cpuset-cpus"] = (s, v, bad) => s.CpusetCpus = NonEmpty(v, bad),
        ["cpuset-mems"] = (s, v, bad) => s.CpusetMems = NonEmpty(v, bad),
        ["user"] = (s, v, bad) => s.User = NonEmpty(v, bad),
        ["workdir"] = (s, v, bad) => s.WorkingDir = v.StartsWith('/') ? v : throw bad("an absolute path"),
        ["hostname"] = (s, v, bad) => s.Hostname = NonEmpty(v, bad),
        ["ipc"] = (s, v, bad) => s.IpcMode = NonEmpty(v, bad),
        ["pid"] = (s, v, bad) => s.PidMode = NonEmpty(v, bad),
        ["stop-signal"] = (s, v, bad) => s.StopSignal = NonEmpty(v, bad),
        ["stop-timeout"] = (s, v, bad) => s.StopTimeoutSeconds = Integer(v, bad, -1, int.MaxValue),
        ["ulimit"] = (s, v, bad) => s.Ulimits.Add(Ulimit(v, bad)),
        ["cap-add"] = (s, v, bad) => s.CapAdd.Add(NonEmpty(v, bad)),
        ["cap-drop"] = (s, v, bad) => s.CapDrop.Add(NonEmpty(v, bad)),
        ["add-host"] = (s, v, bad) => s.ExtraHosts.Add(HostEntry(v, bad)),
        ["dns"] = (s, v, bad) => s.Dns.Add(NonEmpty(v, bad)),
        ["dns-search"] = (s, v, bad) => s.DnsSearch.Add(NonEmpty(v, bad)),
        ["dns-option"] = (s, v, bad) => s.DnsOptions.Add(NonEmpty(v, bad)),
        ["dns-opt"] = (s, v, bad) => s.DnsOptions.Add(NonEmpty(v, bad)),
        ["security-opt"] = (s, v, bad) => s.SecurityOpt.Add(NonEmpty(v, bad)),
        ["group-add"] = (s, v, bad) => s.GroupAdd.Add(NonEmpty(v, bad)),
        ["sysctl"] = (s, v, bad) => { var (k, x) = Pair(v, bad, '='); s.Sysctls[k] = x; },
        ["label"] = (s, v, bad) => { var (k, x) = Pair(v, bad, '='); s.Labels[k] = x; },
        ["tmpfs"] = (s, v, bad) =>
        {
            var colon = v.IndexOf(':');
            var path = colon < 0 ? v : v[..colon];
            if (!path.StartsWith('/')) throw bad("an absolute path, optionally followed by :OPTIONS");
            s.Tmpfs[path] = colon < 0 ? "" : v[(colon + 1)..];
        },
    };

    /// <summary>The option names Paasta can apply, for messages and help.</summary>
    public static IReadOnlyCollection<string> Supported => Handlers.Keys;

    /// <summary>
    /// Parses the instance's extra_docker_args: returns the settings and the <c>--KEY=VALUE</c> words of the
    /// equivalent command line (a list value gives one word per item, as a repeated docker option).
    /// </summary>
    public static (ExtraDockerSettings Settings, List<string> Arguments) Parse(InstanceConfig instance)
    {
        var settings = new ExtraDockerSettings();
        var arguments = new List<string>();
        if (!instance.Config.TryGetValue("extra_docker_args", out var raw) || raw is null) return (settings, arguments);
        if (raw is not IEnumerable<KeyValuePair<string, object?>> entries)
            throw new PaastaException("ExtraDockerArgInvalid", PaastaErrorKind.InvalidData,
                $"{instance.File}: extra_docker_args of {instance.Service}.{instance.Instance} must be a mapping of docker run options to values.")
            { File = instance.File, Line = instance.Line, Key = "extra_docker_args", Target = instance };
        foreach (var (key, value) in entries)
        {
            if (!Handlers.TryGetValue(key, out var handler))
                throw new PaastaException("ExtraDockerArgUnsupported", PaastaErrorKind.InvalidData,
                    $"{instance.File}: extra_docker_args '{key}' of {instance.Service}.{instance.Instance} is not an option Invoke-PaastaLocalRun can apply through the Docker API. " +
                    $"Supported: {string.Join(", ", Handlers.Keys.Order(StringComparer.Ordinal))}. Remove it, or run the command line of -DryRun with the docker CLI.")
                { File = instance.File, Line = instance.Line, Key = $"extra_docker_args.{key}", Target = key };
            var values = value is IEnumerable<object?> list ? list.ToList() : new List<object?> { value };
            foreach (var item in values)
            {
                var text = item is string str ? str : Yaml.PythonText.Str(item);
                Exception Bad(string expected) => new PaastaException("ExtraDockerArgInvalid", PaastaErrorKind.InvalidData,
                    $"{instance.File}: extra_docker_args '{key}' of {instance.Service}.{instance.Instance} is '{text}'; docker run --{key} takes {expected}.")
                { File = instance.File, Line = instance.Line, Key = $"extra_docker_args.{key}", Target = key };
                if (item is null or IEnumerable<KeyValuePair<string, object?>> or IEnumerable<object?>) throw Bad("a single value");
                handler(settings, text, Bad);
                arguments.Add($"--{key}={text}");
            }
        }
        return (settings, arguments);
    }

    /// <summary>Sets what the options ask for on the container to create (after Paasta's own settings, as they follow them on PaaSTA's command line).</summary>
    public static void Apply(ExtraDockerSettings s, CreateContainerParameters p)
    {
        var h = p.HostConfig ??= new HostConfig();
        if (s.ShmSize is { } shm) h.ShmSize = shm;
        if (s.MemorySwap is { } swap) h.MemorySwap = swap;
        if (s.MemoryReservation is { } reservation) h.MemoryReservation = reservation;
        if (s.MemorySwappiness is { } swappiness) h.MemorySwappiness = swappiness;
        if (s.PidsLimit is { } pids) h.PidsLimit = pids;
        if (s.CpuShares is { } shares) h.CPUShares = shares;
        if (s.OomScoreAdj is { } adj) h.OomScoreAdj = adj;
        if (s.OomKillDisable is { } oom) h.OomKillDisable = oom;
        if (s.Privileged is { } privileged) h.Privileged = privileged;
        if (s.ReadOnly is { } readOnly) h.ReadonlyRootfs = readOnly;
        if (s.CpusetCpus is { } cpus) h.CpusetCpus = cpus;
        if (s.CpusetMems is { } mems) h.CpusetMems = mems;
        if (s.IpcMode is { } ipc) h.IpcMode = ipc;
        if (s.PidMode is { } pid) h.PidMode = pid;
        if (s.Ulimits.Count > 0) h.Ulimits = s.Ulimits.Select(u => new Ulimit { Name = u.Name, Soft = u.Soft, Hard = u.Hard }).ToList();
        if (s.CapAdd.Count > 0) h.CapAdd = (h.CapAdd ?? new List<string>()).Concat(s.CapAdd).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (s.CapDrop.Count > 0) h.CapDrop = (h.CapDrop ?? new List<string>()).Concat(s.CapDrop).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (s.ExtraHosts.Count > 0) h.ExtraHosts = s.ExtraHosts.ToList();
        if (s.Dns.Count > 0) h.DNS = s.Dns.ToList();
        if (s.DnsSearch.Count > 0) h.DNSSearch = s.DnsSearch.ToList();
        if (s.DnsOptions.Count > 0) h.DNSOptions = s.DnsOptions.ToList();
        if (s.SecurityOpt.Count > 0) h.SecurityOpt = s.SecurityOpt.ToList();
        if (s.GroupAdd.Count > 0) h.GroupAdd = s.GroupAdd.ToList();
        if (s.Sysctls.Count > 0) h.Sysctls = new Dictionary<string, string>(s.Sysctls);
        if (s.Tmpfs.Count > 0) h.Tmpfs = new Dictionary<string, string>(s.Tmpfs);
        if (s.User is { } user) p.User = user;
        if (s.WorkingDir is { } dir) p.WorkingDir = dir;
        if (s.Hostname is { } host) p.Hostname = host;
        if (s.StopSignal is { } signal) p.StopSignal = signal;
        if (s.StopTimeoutSeconds is { } timeout) p.StopTimeout = TimeSpan.FromSeconds(timeout);
        if (s.Labels.Count > 0)
        {
            p.Labels ??= new Dictionary<string, string>();
            foreach (var (k, v) in s.Labels) p.Labels[k] = v;
        }
    }

    // docker's RAMInBytes: a number, then an optional binary unit (k, m, g, t, p; "i" and "b" allowed after it).
    [GeneratedRegex(@"^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$")]
    private static partial Regex SizePattern();

    private static long Size(string v, Func<string, Exception> bad)
    {
        var m = SizePattern().Match(v.Trim());
        if (!m.Success) throw bad("a size such as 64m or 1g");
        var number = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        var unit = m.Groups[2].Success ? char.ToLowerInvariant(m.Groups[2].Value[0]) : 'b';
        var factor = unit switch { 'k' => 1L << 10, 'm' => 1L << 20, 'g' => 1L << 30, 't' => 1L << 40, 'p' => 1L << 50, _ => 1L };
        return (long)(number * factor);
    }

    private static long Integer(string v, Func<string, Exception> bad, long min, long max) =>
        long.TryParse(v.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n : throw bad($"an integer from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}");

    // Go's strconv.ParseBool, which the docker CLI uses; YAML booleans arrive as Python's True/False.
    private static bool Bool(string v, Func<string, Exception> bad) => v.Trim() switch
    {
        "1" or "t" or "T" or "true" or "TRUE" or "True" => true,
        "0" or "f" or "F" or "false" or "FALSE" or "False" => false,
        _ => throw bad("true or false"),
    };

    private static string NonEmpty(string v, Func<string, Exception> bad) => v.Trim().Length > 0 ? v.Trim() : throw bad("a value");

    private static (string, string) Pair(string v, Func<string, Exception> bad, char separator)
    {
        var i = v.IndexOf(separator);
        return i > 0 ? (v[..i], v[(i + 1)..]) : throw bad($"NAME{separator}VALUE");
    }

    // --add-host takes HOST:IP (IPv6 addresses contain colons: split at the first one).
    private static string HostEntry(string v, Func<string, Exception> bad)
    {
        var i = v.IndexOf(':');
        if (i <= 0 || i == v.Length - 1 || !System.Net.IPAddress.TryParse(v[(i + 1)..], out _)) throw bad("HOST:IP");
        return v;
    }

    private static readonly HashSet<string> UlimitNames = new(StringComparer.Ordinal)
        { "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack" };

    private static DockerUlimit Ulimit(string v, Func<string, Exception> bad)
    {
        var (name, limits) = Pair(v, bad, '=');
        var parts = limits.Split(':');
        if (!UlimitNames.Contains(name) || parts.Length > 2) throw bad($"NAME=SOFT[:HARD] with NAME one of {string.Join(", ", UlimitNames)}");
        long Limit(string x) => long.TryParse(x, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && n >= -1 ? n : throw bad("NAME=SOFT[:HARD] with integer limits");
        var soft = Limit(parts[0]);
        var hard = parts.Length == 2 ? Limit(parts[1]) : soft;
        if (hard != -1 && (soft == -1 || soft > hard)) throw bad("a soft limit no higher than the hard one");
        return new DockerUlimit(name, soft, hard);
    }
}
