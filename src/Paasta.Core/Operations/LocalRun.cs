using System.Globalization;
using Paasta.Config;
using Paasta.Deployments;
using Paasta.Docker;
using Paasta.Errors;
using Paasta.Git;
using Paasta.Tron;

namespace Paasta.Operations;

/// <summary>An -Env entry as the user gave it: a name and a value (a hashtable entry), or a NAME=value string (Name null).</summary>
public sealed record EnvArgument(string? Name, string Text);

/// <summary>Where the image of a local run comes from.</summary>
public enum LocalRunImageSource
{
    /// <summary>Built from the service's checkout (make cook-image with DOCKER_TAG).</summary>
    Build,
    /// <summary>What deployments.json says is deployed for the instance's deploy group (or an adhoc docker_url), pulled.</summary>
    Pull,
    /// <summary>The image built for a given commit, pulled from the registry (PaaSTA's --sha).</summary>
    Commit,
    /// <summary>An image already in the local engine, named by the user.</summary>
    Image,
}

/// <summary>What the user asked of Invoke-PaastaLocalRun, as bound from its parameters.</summary>
public sealed record LocalRunRequest
{
    public string? Service { get; init; }
    public string? Cluster { get; init; }
    /// <summary>Null or empty: the interactive adhoc instance.</summary>
    public string? Instance { get; init; }
    /// <summary>An instance from Get-PaastaInstance, instead of Service, Cluster and Instance.</summary>
    public InstanceConfig? InputObject { get; init; }
    public bool Build { get; init; }
    public bool Pull { get; init; }
    public string? Image { get; init; }
    public string? Commit { get; init; }
    /// <summary>The service's checkout (for -Build, and to resolve a short -Commit); relative to the caller's location; null: that location.</summary>
    public string? Path { get; init; }
    /// <summary>The date Tron's date variables of an action's command are filled in for; null: today.</summary>
    public DateTime? Date { get; init; }
    public IReadOnlyList<string>? Command { get; init; }
    /// <summary>-Interactive: true or false when given, null when not.</summary>
    public bool? Interactive { get; init; }
    public bool Detach { get; init; }
    public bool NoHealthcheck { get; init; }
    public bool HealthcheckOnly { get; init; }
    public bool DryRun { get; init; }
    public int? Port { get; init; }
    public IReadOnlyList<EnvArgument> Env { get; init; } = Array.Empty<EnvArgument>();
    /// <summary>-Volume: host:container[:ro|rw]; a relative host path is relative to the caller's location.</summary>
    public IReadOnlyList<string> Volumes { get; init; } = Array.Empty<string>();
    /// <summary>Whether the console is a terminal (an interactive run then gets a TTY).</summary>
    public bool ConsoleIsTerminal { get; init; }
}

/// <summary>Everything a local run will do, decided before anything runs.</summary>
public sealed record LocalRunDecision(InstanceConfig Instance, LocalRunImageSource Source, string Image, string? BuildPath, string? BuildCommit, LocalRunPlan Plan);

/// <summary>
/// paasta local-run (docs/BEHAVIOUR.md §9.3): which instance, which image (built, pulled as deployed, pulled for a
/// commit, or given), the container plan, then — each after a ShouldProcess — build or pull, and run with the
/// simulated healthcheck. Docker's build, pull and healthcheck progress and the container's output reach the
/// caller through the sink.
/// </summary>
public static class LocalRun
{
    /// <summary>The build contract's variable naming the image to build (docs/BEHAVIOUR.md §4.3).</summary>
    public const string DockerTagVariable = "DOCKER_TAG";

    /// <summary>Plans and runs; returns the plan with -DryRun, else the run's result, or null when the user declined a step.</summary>
    public static object? Invoke(OperationContext context, LocalRunRequest request, IContainerEngine engine, IInteractiveTerminal? terminal, LocalIdentity? identity = null)
    {
        var decision = Decide(context, request, identity ?? LocalIdentity.Current);
        if (decision is null) return null;
        foreach (var warning in decision.Plan.Warnings) context.Sink.Warning(warning);
        if (request.DryRun) return decision.Plan;
        return ExecuteAsync(context, decision, engine, terminal).GetAwaiter().GetResult();
    }

    /// <summary>
    /// The decisions of a local run, nothing run: null when the instance selection reported errors (they are on the
    /// sink). <paramref name="pickPort"/> and <paramref name="portIsFree"/> stand in for the host's ports in tests.
    /// </summary>
    public static LocalRunDecision? Decide(OperationContext context, LocalRunRequest request, LocalIdentity identity, Func<int>? pickPort = null, Func<int, bool>? portIsFree = null)
    {
        var source = ImageSource(request);
        if (request.Detach && (request.Interactive == true || request.HealthcheckOnly))
            throw new PaastaException("LocalRunModeConflict", PaastaErrorKind.InvalidArgument,
                "-Detach cannot be combined with -Interactive or -HealthcheckOnly.");
        if (request.Interactive == true && request.HealthcheckOnly)
            throw new PaastaException("LocalRunModeConflict", PaastaErrorKind.InvalidArgument,
                "-Interactive cannot be combined with -HealthcheckOnly.");
        var env = ParseEnv(request.Env);

        var instance = SelectInstance(context, request, out var interactiveInstance);
        if (instance is null) return null;
        context.Sink.Verbose($"Instance: {instance} from {instance.File}{(interactiveInstance && request.Interactive is null ? " (no -Instance: the interactive adhoc instance, run interactively)" : "")}.");

        // The image, and the deployment it stands for (PAASTA_DOCKER_IMAGE, PAASTA_GIT_SHA...).
        string image;
        string imageVariable;
        DeploymentBranch? branch = null;
        string? buildPath = null;
        string? buildCommit = null;
        switch (source)
        {
            case LocalRunImageSource.Build:
                buildPath = FullPath(context, request.Path);
                image = context.Settings.EnvironmentVariable(DockerTagVariable) is { Length: > 0 } tag ? tag
                    : $"paasta-local-run-{ImageNames.SafeTagPart(instance.Service)}-{ImageNames.SafeTagPart(identity.User)}";
                imageVariable = image;
                buildCommit = LocalCheckout.HeadSha(buildPath);
                if (TagSha(image) is { } tagged)
                    branch = new DeploymentBranch(image, tagged.Sha, tagged.ImageVersion, "start", null);
                else if (buildCommit is not null)
                {
                    // Not PaaSTA's (it leaves PAASTA_GIT_SHA out of builds): the checkout's commit is the best answer there is.
                    branch = new DeploymentBranch(image, buildCommit, null, "start", null);
                    context.Sink.Verbose($"{buildPath} is a git checkout at {buildCommit}: PAASTA_GIT_SHA is {buildCommit[..8]}.");
                }
                break;
            case LocalRunImageSource.Pull:
                var deployed = LoadBranch(context, instance, required: instance.DockerUrl is null);
                if (instance.DockerUrl is { } url)
                {
                    image = url;
                    context.Sink.Verbose($"docker_url of {instance} overrides deployments.json: {url}");
                }
                else image = $"{Registry(context, instance)}/{deployed!.DockerImage}";
                imageVariable = deployed?.DockerImage ?? image;
                // PAASTA_GIT_SHA names the commit of the image that runs: the one in its tag, whatever git_sha says.
                branch = (deployed ?? new DeploymentBranch("", "", null, "start", null)) with { GitSha = ImageNames.ParseGitSha(image).Sha };
                break;
            case LocalRunImageSource.Commit:
                var sha = LocalCheckout.ResolveCommit(request.Commit!, FullPath(context, request.Path));
                var dockerImage = DeploymentsGenerator.DockerImage(instance.Service, sha, null);
                image = $"{Registry(context, instance)}/{dockerImage}";
                imageVariable = dockerImage;
                branch = new DeploymentBranch(dockerImage, sha, null, "start", null);
                context.Sink.Verbose($"-Commit {request.Commit}: running {image}, not what deployments.json deploys.");
                break;
            default:
                image = request.Image!;
                imageVariable = image;
                if (TagSha(image) is { } named) branch = new DeploymentBranch(image, named.Sha, named.ImageVersion, "start", null);
                break;
        }

        if (request.Port is { } requested && !request.DryRun && !(portIsFree ?? PortPicker.IsFree)(requested))
            throw new PaastaException("PortInUse", PaastaErrorKind.ResourceUnavailable,
                $"Port {requested} is in use on this host; pick another -Port, or leave it out to get a free one.") { Target = requested };

        bool? interactive = request.Interactive ?? (interactiveInstance ? true : null);
        var options = new LocalRunOptions
        {
            Command = request.Command,
            Interactive = interactive,
            Tty = request.ConsoleIsTerminal,
            Detach = request.Detach,
            NoHealthcheck = request.NoHealthcheck,
            HealthcheckOnly = request.HealthcheckOnly,
            Port = request.Port,
            Env = env,
            Volumes = request.Volumes.Select(v => ResolveVolume(context, v)).ToList(),
            InstanceCommand = request.Command is null && interactive != true ? TronCommand(instance, request.Date) : null,
            SoaConfigsSha = InstanceTypes.IsLongRunning(instance.InstanceType) ? SoaMetadata.GitSha(instance.SoaDir, context.Sink.Warning) : "",
        };
        var plan = LocalRunPlanner.Plan(instance, branch, image, imageVariable, options, identity, pickPort);
        return new LocalRunDecision(instance, source, image, buildPath, buildCommit, plan);
    }

    /// <summary>Builds or pulls the image and runs the plan, each step after a ShouldProcess; null when one was declined.</summary>
    public static async Task<LocalRunResult?> ExecuteAsync(OperationContext context, LocalRunDecision decision, IContainerEngine engine, IInteractiveTerminal? terminal)
    {
        var (instance, source, image, buildPath, buildCommit, plan) = decision;
        var reporter = new SinkReporter(context.Sink);
        var cancellation = context.Cancellation;
        if (source == LocalRunImageSource.Build)
        {
            if (!context.Sink.ShouldProcess(image, $"Build the image from {buildPath} (make cook-image with DOCKER_TAG, or the Dockerfile)")) return null;
            context.Sink.Verbose($"Docker engine: {engine.Endpoint}");
            var built = await engine.BuildAsync(instance.Service, buildPath!, image, buildCommit, null, reporter, cancellation).ConfigureAwait(false);
            context.Sink.Verbose($"Built {built.Image} ({built.ImageId}) with {built.Method} in {built.Duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s.");
        }
        else if (source is LocalRunImageSource.Pull or LocalRunImageSource.Commit)
        {
            if (!context.Sink.ShouldProcess(image, "Pull the image")) return null;
            context.Sink.Verbose($"Docker engine: {engine.Endpoint}");
            await engine.PullAsync(image, reporter, cancellation).ConfigureAwait(false);
        }

        var target = $"{instance.Service}.{instance.Instance} on {instance.Cluster}";
        if (!context.Sink.ShouldProcess(target, $"Run a container from {image}{(plan.Command is null ? "" : $" with command {string.Join(' ', plan.Command.Select(LocalRunPlan.ShellQuote))}")}"))
            return null;
        if (source == LocalRunImageSource.Image) context.Sink.Verbose($"Docker engine: {engine.Endpoint}");
        context.Sink.Verbose(plan.CommandLineWithoutValues); // values only in -DryRun's plan, which the caller asked to see
        if (plan.Interactive && terminal is null)
            throw new PaastaException("LocalRunNeedsConsole", PaastaErrorKind.InvalidOperation,
                $"{target} runs interactively (it has no healthcheck, or -Interactive was given), and there is no console to attach; pass -Interactive:$false or -Detach.")
            { Target = target };
        var result = await engine.RunAsync(plan, plan.Interactive ? terminal : null, reporter, cancellation).ConfigureAwait(false);
        if (result.Healthcheck is { Healthy: false } health)
            context.Sink.Error(new PaastaException("HealthcheckFailed", PaastaErrorKind.ResourceUnavailable,
                $"{target} did not become healthy: {health.Message}. The container {(result.Removed ? "was removed" : "could not be removed")}.")
            { Target = result });
        return result;
    }

    /// <summary>
    /// -Env entries as variables, in order. A string without '=' is refused without showing it (a value pasted
    /// without its name is likely a secret); names must be ones a container can carry (EnvironmentNames).
    /// </summary>
    public static List<KeyValuePair<string, string>> ParseEnv(IReadOnlyList<EnvArgument> entries)
    {
        var env = new List<KeyValuePair<string, string>>(entries.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            var (name, text) = entries[i];
            var which = entries.Count == 1 ? "The -Env entry" : $"-Env entry {i + 1} of {entries.Count}";
            string value;
            if (name is null)
            {
                var eq = text.IndexOf('=');
                if (eq < 0)
                    throw new PaastaException("EnvInvalid", PaastaErrorKind.InvalidArgument,
                        $"{which} is not NAME=value: it has no '='. It is not shown here, in case it is a secret; write -Env NAME=value or -Env @{{ NAME = 'value' }}.");
                (name, value) = (text[..eq], text[(eq + 1)..]);
            }
            else value = text;
            // The reasons show a name only up to its first '=': after it there may be a value.
            if ((EnvironmentNames.NameProblem(name) ?? EnvironmentNames.ValueProblem(value)) is { } problem)
                throw new PaastaException("EnvInvalid", PaastaErrorKind.InvalidArgument, $"{which}: {problem}.");
            env.Add(new(name, value));
        }
        return env;
    }

    private static LocalRunImageSource ImageSource(LocalRunRequest request)
    {
        var sources = (request.Build ? 1 : 0) + (request.Pull ? 1 : 0) + (request.Image is null ? 0 : 1);
        if (sources > 1 || (request.Commit is not null && (request.Build || request.Image is not null)))
            throw new PaastaException("ImageSourceConflict", PaastaErrorKind.InvalidArgument,
                "Give one of -Build, -Pull (optionally with -Commit) and -Image: each names where the image comes from.") { Target = request.Image };
        return request.Commit is not null ? LocalRunImageSource.Commit
            : request.Pull ? LocalRunImageSource.Pull
            : request.Image is not null ? LocalRunImageSource.Image
            : LocalRunImageSource.Build;
    }

    /// <summary>The instance to run: the piped one, the named one (through the instance query), or the interactive one.</summary>
    private static InstanceConfig? SelectInstance(OperationContext context, LocalRunRequest request, out bool interactiveInstance)
    {
        interactiveInstance = false;
        if (request.InputObject is { } given) return given;
        var service = InstanceQuery.Service(context, request.Service ?? "");
        var cluster = Cluster(context, service, request.Cluster);
        if (string.IsNullOrEmpty(request.Instance))
        {
            interactiveInstance = true;
            return LocalRunInstances.Interactive(context.Reader, service, cluster);
        }
        var found = InstanceQuery.Instances(context, new InstanceSelection
        {
            Services = new[] { service.Name },
            Clusters = new[] { cluster },
            Instances = new[] { request.Instance },
        });
        var names = found.Select(i => i.Instance).Distinct(StringComparer.Ordinal).ToList();
        if (names.Count > 1)
            throw new PaastaException("LocalRunInstanceAmbiguous", PaastaErrorKind.InvalidArgument,
                $"'{request.Instance}' matches {names.Count} instances of {service.Name} on {cluster} ({string.Join(", ", names)}); a local run runs one. Name it exactly.")
            { Target = request.Instance };
        return LocalRunInstances.Preferred(found);
    }

    /// <summary>-Cluster, else the Cluster setting, else the service's only cluster.</summary>
    private static string Cluster(OperationContext context, ServiceConfig service, string? cluster)
    {
        if (!string.IsNullOrWhiteSpace(cluster)) return cluster;
        if (context.Settings.Cluster is { Length: > 0 } configured)
        {
            context.Sink.Verbose($"Cluster {configured} (from $env:PAASTA_CLUSTER or Set-PaastaConfiguration -Cluster).");
            return configured;
        }
        if (service.Clusters.Count == 1) return service.Clusters[0];
        throw new PaastaException("ClusterRequired", PaastaErrorKind.InvalidArgument,
            service.Clusters.Count == 0
                ? $"{service.Name} has no instance files, so there is no cluster to take its settings from; pass -Cluster."
                : $"{service.Name} runs on several clusters ({string.Join(", ", service.Clusters)}); pass -Cluster, or set a default with Set-PaastaConfiguration -Cluster.")
        { Target = service.Name };
    }

    /// <summary>The service whose image an instance runs: a Tron action's own service: key, else the instance's service.</summary>
    private static string ImageService(InstanceConfig instance) =>
        instance.InstanceType == InstanceTypes.Tron && instance.Config.TryGetValue("service", out var s) && s is string name && name.Length > 0
            ? name : instance.Service;

    /// <summary>The registry of the instance's image (one rule: OperationContext.RegistryFor; RegistryNotConfigured).</summary>
    private static string Registry(OperationContext context, InstanceConfig instance)
    {
        if (instance.InstanceType != InstanceTypes.Tron) return context.RequireRegistryFor(instance);
        // Tron actions are not merged with service.yaml: the registry is their image service's.
        return context.RequireRegistryFor(InstanceQuery.Service(context, ImageService(instance)));
    }

    /// <summary>What deployments.json says the instance runs; NoDeploymentForInstance when required and there is none.</summary>
    private static DeploymentBranch? LoadBranch(OperationContext context, InstanceConfig instance, bool required)
    {
        var service = ImageService(instance);
        SoaConfigReader.ValidateServiceName(service);
        var path = DeploymentsFileStore.PathFor(Path.Combine(instance.SoaDir, service));
        if (!required && !File.Exists(path)) return null;
        var document = DeploymentsFileStore.Load(path, service);
        var branch = DeploymentBranches.For(instance, document);
        if (branch is null && required)
            throw new PaastaException("NoDeploymentForInstance", PaastaErrorKind.ObjectNotFound,
                $"deployments.json has no image for {instance} (deploy group {instance.DeployGroup ?? "none"}): nothing is marked for deployment there. " +
                $"Deployed groups: {(document.Deployments.Count == 0 ? "none" : string.Join(", ", document.Deployments.Keys))}. " +
                "Mark a commit for deployment (Publish-PaastaDeployment, then New-PaastaDeployments), or use -Build, -Commit or -Image.")
            { Target = instance.ToString(), File = path };
        if (branch is not null) context.Sink.Verbose($"deployments.json: {instance.DeployGroup} runs {branch.DockerImage} (git sha {branch.GitSha}).");
        return branch;
    }

    /// <summary>A Tron action's command with Tron's date variables filled in for the run date; null for other instances.</summary>
    private static IReadOnlyList<string>? TronCommand(InstanceConfig instance, DateTime? date)
    {
        if (instance.InstanceType != InstanceTypes.Tron || instance.Cmd is not string command) return null;
        // PaaSTA renders for --date at midnight (default today), in local time.
        var runTime = DateTime.SpecifyKind((date ?? DateTime.Now).Date, DateTimeKind.Unspecified);
        var rendered = TronCommandContext.Render(command, runTime, TimeZoneInfo.Local, reason =>
        {
            var source = instance.SourceOf("command");
            return new PaastaException("TronCommandInvalid", PaastaErrorKind.InvalidData,
                $"{source?.File ?? instance.File}:{source?.Line ?? instance.Line}: the command of {instance.Service}.{instance.Instance} cannot be filled in as Tron would: {reason}. Run another command with -Command.")
            { File = source?.File ?? instance.File, Line = source?.Line ?? instance.Line, Key = "command", Target = instance.ToString() };
        });
        return new[] { "sh", "-c", rendered };
    }

    private static (string Sha, string? ImageVersion)? TagSha(string image) =>
        image.Contains(":paasta-", StringComparison.Ordinal) ? ImageNames.ParseGitSha(image) : null;

    private static string FullPath(OperationContext context, string? path) => Path.GetFullPath(path ?? context.CurrentDirectory, context.CurrentDirectory);

    /// <summary>-Volume with a relative host path made absolute (relative to the caller's location).</summary>
    private static string ResolveVolume(OperationContext context, string spec)
    {
        var parts = spec.Split(':');
        if (parts.Length is 2 or 3 && parts[0].Length > 0 && !parts[0].StartsWith('/'))
            parts[0] = Path.GetFullPath(parts[0], context.CurrentDirectory);
        return LocalRunPlanner.ValidateVolume(string.Join(':', parts));
    }
}
