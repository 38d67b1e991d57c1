using System.Globalization;
using System.Text;

namespace Paasta.Docker;

/// <summary>How a local run checks the container's health (docs/BEHAVIOUR.md §9.3 step 10): http, https, tcp or cmd.</summary>
public sealed record HealthcheckSpec(
    string Mode,
    string Target,
    double GracePeriodSeconds,
    double IntervalSeconds,
    double TimeoutSeconds,
    long MaxConsecutiveFailures)
{
    /// <summary>The same check against another host port (when Docker had to choose the port).</summary>
    public HealthcheckSpec ForPort(int port) => Mode switch
    {
        "tcp" => this with { Target = $"tcp://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}" },
        "http" or "https" => this with { Target = new UriBuilder(Target) { Port = port }.Uri.ToString() },
        _ => this,
    };

    public override string ToString() => $"{Mode} {Target}";
}

/// <summary>
/// Everything a local run of an instance will do, decided before anything runs: the image, the PaaSTA
/// environment, limits, ports, volumes and the command, plus the equivalent <c>docker run</c> command line.
/// </summary>
public sealed class LocalRunPlan
{
    public required string Service { get; init; }
    public required string Instance { get; init; }
    public required string Cluster { get; init; }
    public required string InstanceType { get; init; }
    public required string Image { get; init; }
    public required string ContainerName { get; init; }
    /// <summary>Variables in the order PaaSTA builds them: the injected set, the instance's env, the local-run set, then -Env.</summary>
    public required IReadOnlyList<KeyValuePair<string, string>> Environment { get; init; }
    /// <summary>The container command; null runs the image's own CMD.</summary>
    public IReadOnlyList<string>? Command { get; init; }
    public long MemoryBytes { get; init; }
    public long MemorySwapBytes { get; init; }
    public long CpuPeriod { get; init; }
    public long CpuQuota { get; init; }
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> CapAdd { get; init; } = Array.Empty<string>();
    public IReadOnlyList<string> CapDrop { get; init; } = Array.Empty<string>();
    /// <summary>extra_docker_args as docker run options, in the command line.</summary>
    public IReadOnlyList<string> ExtraDockerArgs { get; init; } = Array.Empty<string>();
    /// <summary>extra_docker_args as the container settings they are applied as.</summary>
    public ExtraDockerSettings ExtraDocker { get; init; } = new();
    /// <summary>bridge, host or none (the instance's net).</summary>
    public string NetworkMode { get; init; } = "bridge";
    public string? Hostname { get; init; }
    public long ContainerPort { get; init; }
    /// <summary>The host port the container port is published on; null when it is not published.</summary>
    public int? HostPort { get; init; }
    /// <summary>Whether the host port was asked for (-Port) rather than picked.</summary>
    public bool HostPortRequested { get; init; }
    /// <summary>Bind mounts as <c>host:container:mode</c>.</summary>
    public IReadOnlyList<string> Volumes { get; init; } = Array.Empty<string>();
    public bool Interactive { get; init; }
    public bool Tty { get; init; }
    public bool Detach { get; init; }
    /// <summary>-HealthcheckOnly: check, then stop and remove the container.</summary>
    public bool HealthcheckOnly { get; init; }
    public HealthcheckSpec? Healthcheck { get; init; }
    /// <summary>Things the plan could not honour, said once before the run.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = Array.Empty<string>();

    /// <summary>The port clients use: the published host port, or the container port itself with net: host.</summary>
    public int? ReachablePort => HostPort ?? (NetworkMode == "host" ? (int)ContainerPort : null);

    /// <summary>http://127.0.0.1:PORT/ when the service is reachable from the host.</summary>
    public string? Url => ReachablePort is { } p ? $"http{(Healthcheck?.Mode == "https" ? "s" : "")}://127.0.0.1:{p}/" : null;

    /// <summary>
    /// The arguments of the equivalent <c>docker run</c>, in PaaSTA's order (docs/BEHAVIOUR.md §9.3 step 11), with each variable's
    /// value (<c>--env=NAME=VALUE</c>) so the line runs as it is. What -DryRun shows; not for logs.
    /// </summary>
    public IReadOnlyList<string> DockerArguments => Arguments(withValues: true);

    /// <summary>The same with variables by name only (<c>--env NAME</c>, as PaaSTA runs docker): nothing -Env passed leaks into logs.</summary>
    public IReadOnlyList<string> DockerArgumentsWithoutValues => Arguments(withValues: false);

    private List<string> Arguments(bool withValues)
    {
        string Mib(long bytes) => (bytes / (1024 * 1024)).ToString(CultureInfo.InvariantCulture) + "m";
        var a = new List<string> { "run" };
        foreach (var (k, v) in Environment)
        {
            if (withValues) a.Add($"--env={k}={v}");
            else a.AddRange(new[] { "--env", k });
        }
        a.Add($"--memory={Mib(MemoryBytes)}");
        a.Add($"--memory-swap={Mib(MemorySwapBytes)}");
        a.Add($"--cpu-period={CpuPeriod.ToString(CultureInfo.InvariantCulture)}");
        a.Add($"--cpu-quota={CpuQuota.ToString(CultureInfo.InvariantCulture)}");
        foreach (var (k, v) in Labels) a.Add($"--label={k}={v}");
        a.AddRange(ExtraDockerArgs);
        a.Add("--init=true");
        foreach (var c in CapAdd) a.Add($"--cap-add={c}");
        foreach (var c in CapDrop) a.Add($"--cap-drop={c}");
        if (NetworkMode == "host") a.Add("--net=host");
        else if (NetworkMode != "bridge") a.Add($"--net={NetworkMode}");
        if (HostPort is { } hp) a.Add($"--publish={hp.ToString(CultureInfo.InvariantCulture)}:{ContainerPort.ToString(CultureInfo.InvariantCulture)}");
        if (Hostname is not null) a.Add($"--hostname={Hostname}");
        a.Add($"--name={ContainerName}");
        foreach (var v in Volumes) a.Add($"--volume={v}");
        // Foreground runs end with the container removed; a detached one is left running.
        if (Detach) a.Add("--detach=true");
        else
        {
            if (Interactive) a.Add("--interactive=true");
            if (Interactive && Tty) a.Add("--tty=true");
            a.Add("--rm");
        }
        a.Add(Image);
        if (Command is not null) a.AddRange(Command);
        return a;
    }

    /// <summary>The equivalent command line, quoted for a POSIX shell, values included (see <see cref="DockerArguments"/>).</summary>
    public string CommandLine => "docker " + string.Join(' ', DockerArguments.Select(ShellQuote));

    /// <summary>The command line with variables by name only: safe to log; the values come from the environment docker is run with.</summary>
    public string CommandLineWithoutValues => "docker " + string.Join(' ', DockerArgumentsWithoutValues.Select(ShellQuote));

    public override string ToString() => CommandLineWithoutValues;

    /// <summary>Single-quotes a word for sh when it holds anything but safe characters.</summary>
    public static string ShellQuote(string word)
    {
        if (word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "@%+=:,./_-".Contains(c))) return word;
        var sb = new StringBuilder("'");
        foreach (var c in word)
        {
            if (c == '\'') sb.Append("'\\''");
            else sb.Append(c);
        }
        return sb.Append('\'').ToString();
    }
}
