using System.Collections;
using System.Management.Automation;
using Paasta.Config;
using Paasta.Docker;
using Paasta.Errors;
using Paasta.Operations;
using Paasta.Settings;

namespace Paasta.Commands;

/// <summary>
/// <para type="synopsis">Runs a PaaSTA instance in the local Docker engine (paasta local-run), with the image and environment it has in production.</para>
/// <para type="description">Runs a long-running (kubernetes-, eks-CLUSTER.yaml), adhoc (adhoc-CLUSTER.yaml) or Tron (tron-CLUSTER.yaml, -Instance JOB.ACTION) instance in a container of the local Docker engine, through its API. A name in several files is taken as PaaSTA does: adhoc, then kubernetes, eks, tron. Without -Instance it runs the interactive adhoc instance: `interactive` of adhoc-CLUSTER.yaml if there is one, with cpus 4, mem 10240 and disk 1024 where nothing sets them, interactively with a shell.
///
/// The image comes from one of: -Build (the default; builds the service's checkout at -Path with `make cook-image` and DOCKER_TAG, or its Dockerfile), -Pull (the image deployments.json says is deployed for the instance's deploy group, or an adhoc instance's docker_url, pulled from the service's registry), -Commit (the image built for that commit, REGISTRY/services-SERVICE:paasta-SHA, pulled from the registry whatever deployments.json says: PaaSTA's --sha), or -Image.
///
/// The container gets PaaSTA's injected environment (PAASTA_SERVICE, PAASTA_INSTANCE, PAASTA_CLUSTER, PAASTA_DEPLOY_GROUP, PAASTA_DOCKER_IMAGE, PAASTA_GIT_SHA — the commit in the tag of the image that runs —, PAASTA_RESOURCE_*, PAASTA_PORT, and for kubernetes and eks instances PAASTA_SOA_CONFIGS_SHA from the soa dir's .metadata.json, empty when unknown), the instance's env, local-run's own variables (HOST, PAASTA_HOST, PAASTA_LAUNCHED_BY), then -Env. An env name from soa-configs that a container cannot carry ('=', a line break or another control character) is refused (EnvNameInvalid) naming its file and line. Memory is limited to mem MiB (swap mem+64), CPU to (cpus + cpu_burst_add) periods of cfs_period_us; extra_volumes are mounted (de-duplicated and sorted as PaaSTA does: the later of two entries for the same paths wins, /b/ and /b are one path), after -Volume; net is honoured; PaaSTA's labels and dropped capabilities apply; --init is used. extra_docker_args are applied as the container settings docker run would give them (shm-size, ulimit, cap-add, cap-drop, privileged, add-host, dns, dns-search, dns-option, memory-swap, memory-reservation, memory-swappiness, pids-limit, cpu-shares, cpuset-cpus, cpuset-mems, oom-kill-disable, oom-score-adj, sysctl, tmpfs, security-opt, group-add, read-only, ipc, pid, user, workdir, hostname, label, stop-signal, stop-timeout; a list value repeats the option); any other option is refused (ExtraDockerArgUnsupported) rather than dropped.
///
/// When the instance has an http, https or tcp healthcheck the container port is published on a free host port (PaaSTA's stable choice for the service and user when free) and the healthcheck is simulated with the instance's grace period, interval, timeout and failure limit, with progress. Unhealthy containers are stopped and removed, and a HealthcheckFailed error is written. An instance without a healthcheck (a worker, an adhoc command, a Tron action) runs interactively with its own command and publishes no port, as PaaSTA runs it; -Interactive:$false or -Detach runs it without the console. A Tron action's command gets Tron's date variables ({shortdate}, {ymd-1}, {unixtime}...) filled in for -Date (default today), as Tron fills them when the run starts; any other {variable} is refused (TronCommandInvalid).
///
/// Output is streamed to the console (and to the information stream, tagged Stdout or Stderr) until the container exits; Ctrl+C stops and removes it. -Detach leaves a healthy container running and returns at once; -HealthcheckOnly checks and removes; -Interactive binds the console to the container with a shell (a TTY when the console is a terminal; else stdin is passed through). -DryRun returns the plan, with the equivalent docker run command line, and runs nothing; that command line is the only place variables' values appear: -Verbose and the result's CommandLine name them only (--env NAME, as PaaSTA runs docker), so secrets passed with -Env stay out of logs, and an -Env value given without NAME= is refused without being echoed.
///
/// Emits a Paasta.Docker.LocalRunResult (container id, image, host port and URL, healthcheck result, exit code), or a Paasta.Docker.LocalRunPlan with -DryRun.</para>
/// </summary>
/// <example>
///   <code>Invoke-PaastaLocalRun -Service hello -Cluster local -Instance main -Path ./hello -Detach</code>
///   <para>Builds hello from its checkout with make cook-image, starts hello.main as on the local cluster, waits until its /status healthcheck passes and leaves it running; the result's Url is where it answers.</para>
/// </example>
/// <example>
///   <code>Invoke-PaastaLocalRun -Service hello -Cluster local -Instance greet -Pull -Command 'env | sort'</code>
///   <para>Pulls the image deployed for hello's greet adhoc instance and prints the environment the container gets; the result's ExitCode is the command's.</para>
/// </example>
/// <example>
///   <code>Invoke-PaastaLocalRun -Service hello -Cluster local -Instance main -Image hello-dev -DryRun | Select-Object -ExpandProperty CommandLine</code>
///   <para>Shows the docker run command equivalent to running hello.main from the hello-dev image, without running anything.</para>
/// </example>
/// <example>
///   <code>Invoke-PaastaLocalRun -Service hello -Cluster local -Instance nightly_report.collect -Commit 0123456789abcdef0123456789abcdef01234567 -Date 2024-01-31</code>
///   <para>Runs the collect action of the nightly_report Tron job in the image built for that commit, pulled from the registry, with its date variables filled in for 31 January 2024.</para>
/// </example>
/// <example>
///   <code>Get-PaastaInstance -Service hello -Cluster local -Instance main | Invoke-PaastaLocalRun -Image hello-dev -HealthcheckOnly</code>
///   <para>Checks that hello.main becomes healthy in the hello-dev image, then removes the container.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Invoke, "PaastaLocalRun", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(LocalRunResult))]
[OutputType(typeof(LocalRunPlan))]
public sealed class InvokePaastaLocalRun : DockerCmdlet
{
    private const string ByNameSet = "ByName";
    private const string InputObjectSet = "InputObject";

    /// <summary>The service.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByNameSet, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    [Alias("Name")]
    public string Service { get; set; } = "";

    /// <summary>The cluster whose settings the instance runs with. Defaults to Set-PaastaConfiguration -Cluster ($env:PAASTA_CLUSTER), else the service's only cluster.</summary>
    [Parameter(Position = 1, ParameterSetName = ByNameSet, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ClusterCompleter))]
    public string? Cluster { get; set; }

    /// <summary>The instance (long-running, adhoc, or a Tron action as JOB.ACTION). Omitted: the interactive adhoc instance, run interactively.</summary>
    [Parameter(Position = 2, ParameterSetName = ByNameSet, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(InstanceCompleter))]
    public string? Instance { get; set; }

    /// <summary>An instance from Get-PaastaInstance.</summary>
    [Parameter(Mandatory = true, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
    public InstanceConfig? InputObject { get; set; }

    /// <summary>Build the image from the service's checkout (-Path) with make cook-image (or its Dockerfile). The default when neither -Pull, -Commit nor -Image is given.</summary>
    [Parameter]
    public SwitchParameter Build { get; set; }

    /// <summary>Run the image deployments.json says is deployed for the instance's deploy group, pulled from the registry.</summary>
    [Parameter]
    public SwitchParameter Pull { get; set; }

    /// <summary>Run the image built for this commit, pulled from the registry (a full sha; a short sha, branch or HEAD is resolved in -Path's checkout), instead of what deployments.json deploys.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Commit { get; set; }

    /// <summary>Run this image (it must be in the local engine).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Image { get; set; }

    /// <summary>The service's checkout (Makefile, Dockerfile) for -Build, and where a short -Commit is resolved. Defaults to the current directory.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>The registry for -Pull and -Commit. Defaults to service.yaml docker_registry, then $env:PAASTA_DOCKER_REGISTRY, then Set-PaastaConfiguration -DockerRegistry.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Registry { get; set; }

    /// <summary>The date a Tron action's date variables ({shortdate}, {ymd}...) are filled in for (at midnight). Defaults to today.</summary>
    [Parameter]
    public DateTime? Date { get; set; }

    /// <summary>The command instead of the instance's cmd: one string runs with sh -c, several words run as they are.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Command { get; set; }

    /// <summary>More environment variables (a hashtable, or NAME=value strings); they override everything else.</summary>
    [Parameter]
    public object? Env { get; set; }

    /// <summary>More bind mounts: /host/path:/container/path[:ro|rw] (a relative host path is relative to the current location).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Volume { get; set; }

    /// <summary>The host port to publish the container port on (must be free). Defaults to a free port. Ignored, with a warning, where nothing is published (net: host or none, no healthcheck).</summary>
    [Parameter]
    [ValidateRange(1, 65535)]
    public int Port { get; set; }

    /// <summary>Bind the console to the container with a shell (or -Command): a TTY when the console is a terminal (Ctrl+C goes to the container), else stdin is passed through. -Interactive:$false runs an instance without a healthcheck unattached.</summary>
    [Parameter]
    public SwitchParameter Interactive { get; set; }

    /// <summary>Start the container, wait for its healthcheck, and return, leaving it running.</summary>
    [Parameter]
    public SwitchParameter Detach { get; set; }

    /// <summary>Return the plan (environment, limits, docker run command line) and run nothing.</summary>
    [Parameter]
    public SwitchParameter DryRun { get; set; }

    /// <summary>Do not simulate the healthcheck (and publish the port only when -Port is given).</summary>
    [Parameter]
    public SwitchParameter NoHealthcheck { get; set; }

    /// <summary>Run the healthcheck, then stop and remove the container.</summary>
    [Parameter]
    public SwitchParameter HealthcheckOnly { get; set; }

    protected override PaastaSettings GivenSettings() => base.GivenSettings() with { DockerRegistry = Registry };

    protected override void Process()
    {
        IReadOnlyList<EnvArgument> env;
        try { env = EnvArguments(Env); }
        catch (PaastaException e)
        {
            WriteError(e);
            return;
        }
        var terminal = new ConsoleTerminal();
        var request = new LocalRunRequest
        {
            Service = InputObject is null ? Service : null,
            Cluster = Cluster,
            Instance = Instance,
            InputObject = InputObject,
            Build = Build,
            Pull = Pull,
            Image = Image,
            Commit = Commit,
            Path = ProviderPath(Path),
            Date = Date,
            Command = Command,
            Interactive = MyInvocation.BoundParameters.ContainsKey(nameof(Interactive)) ? Interactive.IsPresent : null,
            Detach = Detach,
            NoHealthcheck = NoHealthcheck,
            HealthcheckOnly = HealthcheckOnly,
            DryRun = DryRun,
            Port = MyInvocation.BoundParameters.ContainsKey(nameof(Port)) ? Port : null,
            Env = env,
            Volumes = (Volume ?? Array.Empty<string>()).Select(VolumeHostPath).ToList(),
            ConsoleIsTerminal = terminal.IsTerminal,
        };
        var result = RunOrWriteError(op => LocalRun.Invoke(op, request, Engine(), terminal));
        if (result is not null) WriteObject(result);
    }

    /// <summary>A -Volume's host part as a file-system path (PowerShell paths such as ~ or a PSDrive resolved).</summary>
    private string VolumeHostPath(string spec)
    {
        var parts = spec.Split(':');
        if (parts.Length is 2 or 3 && parts[0].Length > 0 && !parts[0].StartsWith('/'))
            parts[0] = GetUnresolvedProviderPathFromPSPath(parts[0]);
        return string.Join(':', parts);
    }

    /// <summary>-Env as bound: a hashtable (ordered when it is an [ordered] one) or NAME=value strings; the operation checks them.</summary>
    internal static IReadOnlyList<EnvArgument> EnvArguments(object? value)
    {
        var entries = new List<EnvArgument>();
        switch (value is PSObject pso ? pso.BaseObject : value)
        {
            case null:
                break;
            case IDictionary dictionary:
                foreach (DictionaryEntry e in dictionary) entries.Add(new(Text(e.Key), Text(e.Value)));
                break;
            case string s:
                entries.Add(new(null, s));
                break;
            case IEnumerable items:
                foreach (var item in items) entries.Add(new(null, Text(item)));
                break;
            default:
                throw new PaastaException("EnvInvalid", PaastaErrorKind.InvalidArgument,
                    "-Env takes a hashtable (@{ NAME = 'value' }) or NAME=value strings.");
        }
        return entries;

        static string Text(object? o) => (o is PSObject p ? p.BaseObject : o) is { } x ? LanguagePrimitives.ConvertTo<string>(x) : "";
    }
}
