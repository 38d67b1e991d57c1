using System.Collections;
using System.Management.Automation;
using Paasta.Config;
using Paasta.Deployments;
using Paasta.Docker;
using Paasta.Git;
using Paasta.Errors;
using Paasta.Settings;

namespace Paasta.Commands;

/// <summary>
/// <para type="synopsis">Runs a PaaSTA instance in the local Docker engine (paasta local-run), with the image and environment it has in production.</para>
/// <para type="description">Runs a long-running (kubernetes-, eks-CLUSTER.yaml) or adhoc (adhoc-CLUSTER.yaml) instance in a container of the local Docker engine, through its API. Without -Instance it runs the interactive adhoc instance: `interactive` of adhoc-CLUSTER.yaml if there is one, with cpus 4, mem 10240 and disk 1024 where nothing sets them, interactively with a shell.
///
/// The image comes from one of: -Build (the default; builds the service's checkout at -Path with `make cook-image` and DOCKER_TAG, or its Dockerfile), -Pull (the image deployments.json says is deployed for the instance's deploy group, pulled from the service's registry), or -Image.
///
/// The container gets PaaSTA's injected environment (PAASTA_SERVICE, PAASTA_INSTANCE, PAASTA_CLUSTER, PAASTA_DEPLOY_GROUP, PAASTA_DOCKER_IMAGE, PAASTA_GIT_SHA, PAASTA_RESOURCE_*, PAASTA_PORT ...), the instance's env, local-run's own variables (HOST, PAASTA_HOST, PAASTA_LAUNCHED_BY), then -Env. Memory is limited to mem MiB (swap mem+64), CPU to (cpus + cpu_burst_add) periods of cfs_period_us; extra_volumes are mounted; net is honoured; PaaSTA's labels and dropped capabilities apply; --init is used. extra_docker_args are applied as the container settings docker run would give them (shm-size, ulimit, cap-add, cap-drop, privileged, add-host, dns, dns-search, dns-option, memory-swap, memory-reservation, memory-swappiness, pids-limit, cpu-shares, cpuset-cpus, cpuset-mems, oom-kill-disable, oom-score-adj, sysctl, tmpfs, security-opt, group-add, read-only, ipc, pid, user, workdir, hostname, label, stop-signal, stop-timeout; a list value repeats the option); any other option is refused (ExtraDockerArgUnsupported) rather than dropped.
///
/// When the instance has an http, https or tcp healthcheck the container port is published on a free host port (PaaSTA's stable choice for the service and user when free) and the healthcheck is simulated with the instance's grace period, interval, timeout and failure limit, with progress. Unhealthy containers are stopped and removed, and a HealthcheckFailed error is written.
///
/// Output is streamed to the console (and to the information stream, tagged Stdout or Stderr) until the container exits; Ctrl+C stops and removes it. -Detach leaves a healthy container running and returns at once; -HealthcheckOnly checks and removes; -Interactive binds the console to the container (a TTY when the console is a terminal; else stdin is passed through). -DryRun returns the plan, with the equivalent docker run command line, and runs nothing; that command line is the only place variables' values appear: -Verbose and the result's CommandLine name them only (--env NAME, as PaaSTA runs docker), so secrets passed with -Env stay out of logs.
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

    /// <summary>The instance (long-running or adhoc). Omitted: the interactive adhoc instance, run interactively.</summary>
    [Parameter(Position = 2, ParameterSetName = ByNameSet, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(InstanceCompleter))]
    public string? Instance { get; set; }

    /// <summary>An instance from Get-PaastaInstance.</summary>
    [Parameter(Mandatory = true, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
    public InstanceConfig? InputObject { get; set; }

    /// <summary>Build the image from the service's checkout (-Path) with make cook-image (or its Dockerfile). The default when neither -Pull nor -Image is given.</summary>
    [Parameter]
    public SwitchParameter Build { get; set; }

    /// <summary>Run the image deployments.json says is deployed for the instance's deploy group, pulled from the registry.</summary>
    [Parameter]
    public SwitchParameter Pull { get; set; }

    /// <summary>Run this image (it must be in the local engine).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Image { get; set; }

    /// <summary>With -Build: the service's checkout (Makefile, Dockerfile). Defaults to the current directory.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>With -Pull: the registry. Defaults to service.yaml docker_registry, then Set-PaastaConfiguration -DockerRegistry.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Registry { get; set; }

    /// <summary>The command instead of the instance's cmd: one string runs with sh -c, several words run as they are.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Command { get; set; }

    /// <summary>More environment variables (a hashtable, or NAME=value strings); they override everything else.</summary>
    [Parameter]
    public object? Env { get; set; }

    /// <summary>More bind mounts: /host/path:/container/path[:ro|rw].</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Volume { get; set; }

    /// <summary>The host port to publish the container port on (must be free). Defaults to a free port. With net: host or none nothing is published, and a warning says -Port is ignored.</summary>
    [Parameter]
    [ValidateRange(1, 65535)]
    public int Port { get; set; }

    /// <summary>Bind the console to the container: a TTY when the console is a terminal (Ctrl+C goes to the container), else stdin is passed through.</summary>
    [Parameter]
    public SwitchParameter Interactive { get; set; }

    /// <summary>Start the container, wait for its healthcheck, and return, leaving it running.</summary>
    [Parameter]
    public SwitchParameter Detach { get; set; }

    /// <summary>Return the plan (environment, limits, docker run command line) and run nothing.</summary>
    [Parameter]
    public SwitchParameter DryRun { get; set; }

    /// <summary>Do not simulate the healthcheck.</summary>
    [Parameter]
    public SwitchParameter NoHealthcheck { get; set; }

    /// <summary>Run the healthcheck, then stop and remove the container.</summary>
    [Parameter]
    public SwitchParameter HealthcheckOnly { get; set; }

    protected override void Process()
    {
        try { Run(); }
        catch (PaastaException e) { WriteError(e); }
    }

    private void Run()
    {
        var sources = (Build ? 1 : 0) + (Pull ? 1 : 0) + (Image is null ? 0 : 1);
        if (sources > 1)
            throw new PaastaException("ImageSourceConflict", PaastaErrorKind.InvalidArgument,
                "Give one of -Build, -Pull and -Image: each names where the image comes from.") { Target = Image };
        if (Detach && (Interactive || HealthcheckOnly))
            throw new PaastaException("LocalRunModeConflict", PaastaErrorKind.InvalidArgument,
                "-Detach cannot be combined with -Interactive or -HealthcheckOnly.");
        if (Interactive && HealthcheckOnly)
            throw new PaastaException("LocalRunModeConflict", PaastaErrorKind.InvalidArgument,
                "-Interactive cannot be combined with -HealthcheckOnly.");

        // The instance.
        SoaConfigReader reader;
        ServiceConfig service;
        InstanceConfig instance;
        var settings = Operation.Settings;
        if (InputObject is { } given)
        {
            reader = Reader(given.SoaDir);
            service = reader.LoadService(given.Service);
            instance = given;
            if (instance.InstanceType == InstanceTypes.Tron)
                throw new PaastaException("LocalRunUnsupportedInstance", PaastaErrorKind.InvalidOperation,
                    $"{instance} is a Tron action; Invoke-PaastaLocalRun runs long-running and adhoc instances. Run its command with -Command in an adhoc instance instead.")
                { Target = instance.ToString() };
        }
        else
        {
            reader = Reader(ResolveSoaDir(SoaDir));
            var name = Service.TrimEnd('/');
            service = reader.LoadService(name);
            var cluster = LocalRunInstances.ResolveCluster(service, Cluster, settings);
            instance = LocalRunInstances.Resolve(reader, service, cluster, Instance);
        }
        var interactive = Interactive.IsPresent || (InputObject is null && string.IsNullOrEmpty(Instance));
        WriteVerbose($"Instance: {instance} from {instance.File}{(interactive && !Interactive ? " (no -Instance: the interactive adhoc instance, run interactively)" : "")}.");

        // The image and the deployment it stands for.
        var source = Pull ? "pull" : Image is not null ? "image" : "build";
        string image;
        string imageVariable;
        DeploymentBranch? branch = null;
        string? buildPath = null;
        switch (source)
        {
            case "build":
                buildPath = GetUnresolvedProviderPathFromPSPath(Path ?? SessionState.Path.CurrentFileSystemLocation.ProviderPath);
                image = Environment.GetEnvironmentVariable("DOCKER_TAG") is { Length: > 0 } tag ? tag
                    : $"paasta-local-run-{ImageNames.SafeTagPart(instance.Service)}-{ImageNames.SafeTagPart(UserName)}";
                imageVariable = image;
                if (LocalCheckout.HeadSha(buildPath) is { } head)
                {
                    branch = new DeploymentBranch(image, head, null, "start", null);
                    WriteVerbose($"{buildPath} is a git checkout at {head}: PAASTA_GIT_SHA is {head[..8]}.");
                }
                break;
            case "pull":
                branch = LoadBranch(service, instance, required: instance.DockerUrl is null);
                if (instance.DockerUrl is { } url)
                {
                    image = url;
                    WriteVerbose($"docker_url of {instance} overrides deployments.json: {url}");
                }
                else image = $"{ImageNames.ResolveRegistry(Registry, service, settings)}/{branch!.DockerImage}";
                imageVariable = branch?.DockerImage ?? image;
                break;
            default:
                image = Image!;
                imageVariable = image;
                if (image.Contains(":paasta-", StringComparison.Ordinal))
                {
                    var (sha, iv) = ImageNames.ParseGitSha(image);
                    branch = new DeploymentBranch(image, sha, iv, "start", null);
                }
                break;
        }

        var options = new LocalRunOptions
        {
            Command = Command,
            Interactive = interactive,
            Tty = interactive && new ConsoleTerminal().IsTerminal,
            Detach = Detach,
            NoHealthcheck = NoHealthcheck,
            HealthcheckOnly = HealthcheckOnly,
            Port = MyInvocation.BoundParameters.ContainsKey(nameof(Port)) ? Port : null,
            Env = ParseEnv(Env),
            Volumes = (Volume ?? Array.Empty<string>()).Select(ResolveVolume).ToList(),
        };
        if (options.Port is { } requested && !DryRun && !PortPicker.IsFree(requested))
            throw new PaastaException("PortInUse", PaastaErrorKind.ResourceUnavailable,
                $"Port {requested} is in use on this host; pick another -Port, or leave it out to get a free one.") { Target = requested };

        var plan = LocalRunPlanner.Plan(instance, branch, image, imageVariable, options, LocalIdentity.Current);
        foreach (var w in plan.Warnings) WriteWarning(w);
        if (DryRun)
        {
            WriteObject(plan);
            return;
        }

        // Side effects: build or pull, then run.
        if (source == "build")
        {
            if (!ShouldProcess(image, $"Build the image from {buildPath} (make cook-image with DOCKER_TAG, or the Dockerfile)")) return;
            var built = RunEngine((reporter, ct) => new ImageBuilder(Docker, reporter).BuildAsync(instance.Service, buildPath!, image, branch?.GitSha, ct));
            WriteVerbose($"Built {built.Image} ({built.ImageId}) with {built.Method} in {built.Duration.TotalSeconds:0.0} s.");
        }
        else if (source == "pull")
        {
            if (!ShouldProcess(image, "Pull the image")) return;
            RunEngine(async (reporter, ct) =>
            {
                await new ImageRegistry(Docker, reporter).PullAsync(image, ct).ConfigureAwait(false);
                return true;
            });
        }

        var target = $"{instance.Service}.{instance.Instance} on {instance.Cluster}";
        if (!ShouldProcess(target, $"Run a container from {image}{(plan.Command is null ? "" : $" with command {string.Join(' ', plan.Command.Select(LocalRunPlan.ShellQuote))}")}"))
            return;
        WriteVerbose(plan.CommandLineWithoutValues); // values only in -DryRun's plan, which the caller asked to see
        var terminal = interactive ? new ConsoleTerminal() : null;
        var result = RunEngine((reporter, ct) => new LocalRunner(Docker, reporter).RunAsync(plan, terminal, ct));
        if (result.Healthcheck is { Healthy: false } health)
        {
            WriteError(new ErrorRecord(
                new PaastaException("HealthcheckFailed", PaastaErrorKind.ResourceUnavailable,
                    $"{target} did not become healthy: {health.Message}. The container {(result.Removed ? "was removed" : "could not be removed")}."),
                "HealthcheckFailed", ErrorCategory.ResourceUnavailable, result));
        }
        WriteObject(result);
    }

    private DeploymentBranch? LoadBranch(ServiceConfig service, InstanceConfig instance, bool required)
    {
        var path = DeploymentsFileStore.PathFor(service.Directory);
        if (!required && !File.Exists(path)) return null;
        var document = DeploymentsFileStore.Load(path, service.Name);
        var branch = DeploymentBranches.For(instance, document);
        if (branch is null && required)
            throw new PaastaException("NoDeploymentForInstance", PaastaErrorKind.ObjectNotFound,
                $"deployments.json has no image for {instance} (deploy group {instance.DeployGroup ?? "none"}): nothing is marked for deployment there. " +
                $"Deployed groups: {(document.Deployments.Count == 0 ? "none" : string.Join(", ", document.Deployments.Keys))}. " +
                "Mark a commit for deployment (Publish-PaastaDeployment, then New-PaastaDeployments), or use -Build or -Image.")
            { Target = instance.ToString(), File = path };
        if (branch is not null) WriteVerbose($"deployments.json: {instance.DeployGroup} runs {branch.DockerImage} (git sha {branch.GitSha}).");
        return branch;
    }

    private string ResolveVolume(string spec)
    {
        var parts = spec.Split(':');
        if (parts.Length is 2 or 3 && !parts[0].StartsWith('/'))
            parts[0] = GetUnresolvedProviderPathFromPSPath(parts[0]);
        return LocalRunPlanner.ValidateVolume(string.Join(':', parts));
    }

    /// <summary>-Env as a hashtable (ordered when it is an [ordered] one) or NAME=value strings.</summary>
    internal static List<KeyValuePair<string, string>> ParseEnv(object? value)
    {
        var env = new List<KeyValuePair<string, string>>();
        switch (value is PSObject pso ? pso.BaseObject : value)
        {
            case null:
                break;
            case IDictionary dictionary:
                foreach (DictionaryEntry e in dictionary)
                    env.Add(new(Text(e.Key), Text(e.Value)));
                break;
            case string s:
                env.Add(Pair(s));
                break;
            case IEnumerable items:
                foreach (var item in items) env.Add(Pair(Text(item)));
                break;
            default:
                throw new PaastaException("EnvInvalid", PaastaErrorKind.InvalidArgument,
                    "-Env takes a hashtable (@{ NAME = 'value' }) or NAME=value strings.");
        }
        foreach (var (k, _) in env)
            if (k.Length == 0 || k.Contains('='))
                throw new PaastaException("EnvInvalid", PaastaErrorKind.InvalidArgument, $"'{k}' is not an environment variable name.") { Target = k };
        return env;

        static string Text(object? o) => (o is PSObject p ? p.BaseObject : o) is { } x ? LanguagePrimitives.ConvertTo<string>(x) : "";
        static KeyValuePair<string, string> Pair(string s)
        {
            var eq = s.IndexOf('=');
            if (eq <= 0)
                throw new PaastaException("EnvInvalid", PaastaErrorKind.InvalidArgument, $"'{s}' is not NAME=value.") { Target = s };
            return new(s[..eq], s[(eq + 1)..]);
        }
    }
}
