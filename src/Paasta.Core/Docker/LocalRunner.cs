using System.Diagnostics;
using System.Globalization;
using Docker.DotNet;
using Docker.DotNet.Models;
using Paasta.Errors;

namespace Paasta.Docker;

/// <summary>What a local run did: the container, where it listened, its health and how it ended.</summary>
public sealed class LocalRunResult
{
    public required string Service { get; init; }
    public required string Instance { get; init; }
    public required string Cluster { get; init; }
    public required string Image { get; init; }
    public required string ContainerId { get; init; }
    public required string ContainerName { get; init; }
    /// <summary>The host port the container port was published on (null when not published).</summary>
    public int? HostPort { get; init; }
    public string? Url { get; init; }
    public HealthcheckResult? Healthcheck { get; init; }
    /// <summary>The healthcheck's verdict; null when there was none.</summary>
    public bool? Healthy => Healthcheck?.Healthy;
    /// <summary>The container's exit code; null when it was left running (-Detach).</summary>
    public long? ExitCode { get; init; }
    public bool OomKilled { get; init; }
    /// <summary>True when the container was left running (-Detach and healthy).</summary>
    public bool Running { get; init; }
    public bool Removed { get; init; }
    public TimeSpan Duration { get; init; }
    /// <summary>The equivalent docker run command, variables by name only (--env NAME): values, -Env's secrets included, stay out of it.</summary>
    public string CommandLine { get; init; } = "";

    public string ShortId => ContainerId.Length > 12 ? ContainerId[..12] : ContainerId;

    public override string ToString() => $"{Service}.{Instance} in {ShortId}: {(Running ? "running" : $"exit {ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "?"}")}";
}

/// <summary>
/// Runs a <see cref="LocalRunPlan"/> in the Docker engine (docs/BEHAVIOUR.md §9.3 steps 13-16): creates and starts the
/// container, streams its output, simulates the healthcheck, waits for the end, and removes the container
/// on every way out (exit, unhealthy, Ctrl+C) unless it was asked to stay (-Detach).
/// </summary>
public sealed class LocalRunner
{
    private const int StopGraceSeconds = 5;
    private readonly DockerEngine _engine;
    private readonly IRunReporter _reporter;

    public LocalRunner(DockerEngine engine, IRunReporter reporter)
    {
        _engine = engine;
        _reporter = reporter;
    }

    public async Task<LocalRunResult> RunAsync(LocalRunPlan plan, IInteractiveTerminal? terminal, CancellationToken cancellationToken)
    {
        if (plan.Interactive && terminal is null)
            throw new ArgumentException("An interactive run needs a terminal.", nameof(terminal));
        if (plan.HealthcheckOnly && plan.Healthcheck is null)
            throw new PaastaException("HealthcheckNotDefined", PaastaErrorKind.InvalidOperation,
                $"{plan.Service}.{plan.Instance} on {plan.Cluster} has no healthcheck (no healthcheck_mode, and no mesh registration that implies one); nothing to check.")
            { Target = $"{plan.Service}.{plan.Instance}" };
        var clock = Stopwatch.StartNew();
        var attach = !plan.Detach;
        string? id = null;
        var keep = false;
        var running = false;
        MultiplexedStream? stream = null;
        using var pumps = new CancellationTokenSource();
        var tasks = new List<Task>();
        IDisposable? terminalMode = null;
        try
        {
            // Create (and attach before start, so no output is lost); a picked port that was taken meanwhile is
            // handed to Docker to choose.
            var hostPort = plan.HostPort;
            (id, stream) = await CreateAsync(plan, hostPort?.ToString(CultureInfo.InvariantCulture), attach, cancellationToken).ConfigureAwait(false);
            try
            {
                await _engine.Call("start the container", c => c.Containers.StartContainerAsync(id, new ContainerStartParameters(), cancellationToken), id).ConfigureAwait(false);
            }
            catch (PaastaException e) when (hostPort is not null && !plan.HostPortRequested && IsPortTaken(e))
            {
                _reporter.Verbose($"Port {hostPort} was taken after it was picked; letting Docker choose one.");
                stream?.Dispose();
                await RemoveAsync(id, running: false).ConfigureAwait(false);
                (id, stream) = await CreateAsync(plan, "", attach, cancellationToken).ConfigureAwait(false);
                await _engine.Call("start the container", c => c.Containers.StartContainerAsync(id, new ContainerStartParameters(), cancellationToken), id).ConfigureAwait(false);
                var inspect = await _engine.Call("inspect the container", c => c.Containers.InspectContainerAsync(id, cancellationToken), id).ConfigureAwait(false);
                hostPort = inspect.NetworkSettings?.Ports is { } ports && ports.TryGetValue($"{plan.ContainerPort}/tcp", out var bindings) && bindings?.FirstOrDefault() is { } b
                    && int.TryParse(b.HostPort, NumberStyles.None, CultureInfo.InvariantCulture, out var actual) ? actual : null;
            }
            running = true;
            _reporter.Verbose($"Started container {Short(id)} ({plan.ContainerName}) from {plan.Image}.");
            var port = hostPort ?? (plan.NetworkMode == "host" ? (int?)plan.ContainerPort : null);
            var url = port is { } p2 ? $"http{(plan.Healthcheck?.Mode == "https" ? "s" : "")}://127.0.0.1:{p2.ToString(CultureInfo.InvariantCulture)}/" : null;
            if (url is not null) _reporter.Verbose($"{plan.Service}.{plan.Instance} port {plan.ContainerPort} is published on {url}");

            var wait = _engine.Call("wait for the container", c => c.Containers.WaitContainerAsync(id, pumps.Token), id);
            _ = wait.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);

            if (plan.Interactive) terminalMode = terminal!.Enter();
            if (stream is not null)
            {
                if (plan.Tty) tasks.Add(PumpRawAsync(stream, terminal!, pumps.Token));
                else tasks.Add(PumpLinesAsync(stream, pumps.Token));
                if (plan.Interactive)
                {
                    tasks.Add(PumpInputAsync(stream, terminal!, pumps.Token));
                    if (plan.Tty) tasks.Add(ResizeAsync(id, terminal!, pumps.Token));
                }
            }

            HealthcheckResult? health = null;
            if (plan.Healthcheck is { } spec && !plan.Interactive)
            {
                var actualSpec = port is { } hp && spec.Mode is "http" or "https" or "tcp" ? spec.ForPort(hp) : spec;
                health = await HealthcheckAsync(plan, actualSpec, id, wait, cancellationToken).ConfigureAwait(false);
                if (health.Healthy)
                    _reporter.Status($"{plan.Service}.{plan.Instance} is healthy: {health.Message} (after {health.Attempts} check(s), {health.Duration.TotalSeconds:0.0} s).");
                var done = !health.Healthy || plan.HealthcheckOnly;
                if (done)
                {
                    if (plan.Detach && !health.Healthy) await ShowLogsAsync(id).ConfigureAwait(false);
                    var exit = await StopAsync(id, wait).ConfigureAwait(false);
                    running = false;
                    await DrainAsync(tasks, pumps).ConfigureAwait(false);
                    var removed = await RemoveAsync(id, running: false).ConfigureAwait(false);
                    var checkedId = id;
                    id = null;
                    return Result(plan, exit, false, removed, health, hostPort, url, clock, checkedId);
                }
            }

            if (plan.Detach)
            {
                keep = true;
                return Result(plan, null, true, false, health, hostPort, url, clock, id);
            }

            if (health is not null)
                _reporter.Status($"{plan.Service}.{plan.Instance} is running in {Short(id)}; its output follows. Ctrl+C stops and removes it.");
            var status = await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
            running = false;
            await DrainAsync(tasks, pumps).ConfigureAwait(false);
            var oom = false;
            if (status.StatusCode == 137)
            {
                var state = await _engine.Call("inspect the container", c => c.Containers.InspectContainerAsync(id, CancellationToken.None), id).ConfigureAwait(false);
                oom = state.State?.OOMKilled == true;
                if (oom)
                    _reporter.Warning($"{plan.Service}.{plan.Instance} was killed for running out of memory (mem: {plan.MemoryBytes / (1024 * 1024)} MiB). Raise mem in its soa-configs, or find the leak.");
            }
            var gone = await RemoveAsync(id, running: false).ConfigureAwait(false);
            var finishedId = id;
            id = null;
            return Result(plan, status.StatusCode, false, gone, health, hostPort, url, clock, finishedId, oom);
        }
        finally
        {
            terminalMode?.Dispose();
            pumps.Cancel();
            if (id is not null && !keep) await RemoveAsync(id, running).ConfigureAwait(false);
            stream?.Dispose();
        }
    }

    private async Task<(string Id, MultiplexedStream? Stream)> CreateAsync(LocalRunPlan plan, string? hostPort, bool attach, CancellationToken cancellationToken)
    {
        var portKey = $"{plan.ContainerPort.ToString(CultureInfo.InvariantCulture)}/tcp";
        var parameters = new CreateContainerParameters
        {
            Name = plan.ContainerName,
            Image = plan.Image,
            Hostname = plan.Hostname,
            Env = plan.Environment.Select(e => $"{e.Key}={e.Value}").ToList(),
            Cmd = plan.Command?.ToList(),
            Labels = plan.Labels.ToDictionary(l => l.Key, l => l.Value),
            Tty = plan.Tty,
            OpenStdin = plan.Interactive,
            StdinOnce = plan.Interactive,
            AttachStdin = plan.Interactive,
            AttachStdout = attach,
            AttachStderr = attach,
            ExposedPorts = hostPort is null ? null : new Dictionary<string, EmptyStruct> { [portKey] = default },
            HostConfig = new HostConfig
            {
                Memory = plan.MemoryBytes,
                MemorySwap = plan.MemorySwapBytes,
                CPUPeriod = plan.CpuPeriod,
                CPUQuota = plan.CpuQuota,
                Init = true,
                CapAdd = plan.CapAdd.ToList(),
                CapDrop = plan.CapDrop.ToList(),
                NetworkMode = plan.NetworkMode,
                Binds = plan.Volumes.Count == 0 ? null : plan.Volumes.ToList(),
                PortBindings = hostPort is null ? null : new Dictionary<string, IList<PortBinding>>
                {
                    [portKey] = new List<PortBinding> { new() { HostPort = hostPort } },
                },
            },
        };
        ExtraDockerArgs.Apply(plan.ExtraDocker, parameters);
        CreateContainerResponse created;
        try
        {
            created = await _engine.Call("create the container", c => c.Containers.CreateContainerAsync(parameters, cancellationToken), plan.Image).ConfigureAwait(false);
        }
        catch (PaastaException e) when (e.ErrorId == "DockerImageNotFound")
        {
            throw new PaastaException("DockerImageNotFound", PaastaErrorKind.ObjectNotFound,
                $"The image {plan.Image} is not in the local Docker engine. Build it (-Build), pull it (-Pull), or pass an image that exists (-Image).", e)
            { Target = plan.Image };
        }
        foreach (var w in created.Warnings ?? Array.Empty<string>()) _reporter.Verbose($"Docker: {w}");
        if (!attach) return (created.ID, null);
        try
        {
            var stream = await _engine.Call("attach to the container", c => c.Containers.AttachContainerAsync(created.ID, plan.Tty,
                new ContainerAttachParameters { Stream = true, Stdin = plan.Interactive, Stdout = true, Stderr = true }, cancellationToken), created.ID).ConfigureAwait(false);
            return (created.ID, stream);
        }
        catch
        {
            await RemoveAsync(created.ID, running: false).ConfigureAwait(false);
            throw;
        }
    }

    private static bool IsPortTaken(PaastaException e) =>
        e.Message.Contains("port is already allocated", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase);

    private async Task<HealthcheckResult> HealthcheckAsync(LocalRunPlan plan, HealthcheckSpec spec, string id, Task<ContainerWaitResponse> wait, CancellationToken cancellationToken)
    {
        var activity = $"Healthcheck of {plan.Service}.{plan.Instance}";
        var timeout = TimeSpan.FromSeconds(Math.Max(0.1, spec.TimeoutSeconds));
        Func<CancellationToken, Task<HealthcheckAttempt>> check = spec.Mode switch
        {
            "http" or "https" => ct => HealthcheckProbes.HttpAsync(spec.Target, timeout, ct),
            "tcp" => ct =>
            {
                var u = new Uri(spec.Target);
                return HealthcheckProbes.TcpAsync(u.Host, u.Port, timeout, ct);
            },
            _ => ct => HealthcheckProbes.CommandAsync(_engine, id, spec.Target, timeout, ct),
        };
        _reporter.Verbose($"Healthcheck: {spec.Mode} {spec.Target}, grace period {spec.GracePeriodSeconds} s, every {spec.IntervalSeconds} s, timeout {spec.TimeoutSeconds} s, at most {spec.MaxConsecutiveFailures} failures after the grace period.");
        _reporter.Progress(new RunProgress(2, activity, $"{spec.Mode} {spec.Target}", 0));
        try
        {
            return await HealthcheckLoop.RunAsync(spec, check, () => wait.IsCompleted, p =>
            {
                var status = p.InGracePeriod
                    ? $"check {p.Attempt} failed inside the {p.GracePeriodSeconds:0.#} s grace period ({p.Elapsed.TotalSeconds:0.0} s): {p.Message}"
                    : $"failure {p.CountedFailures} of {p.MaxFailures}: {p.Message}";
                var percent = p.InGracePeriod && p.GracePeriodSeconds > 0
                    ? (int)Math.Min(50, 50 * p.Elapsed.TotalSeconds / p.GracePeriodSeconds)
                    : 50 + (int)(50.0 * p.CountedFailures / Math.Max(1, p.MaxFailures));
                _reporter.Verbose($"Healthcheck {status}");
                _reporter.Progress(new RunProgress(2, activity, status, Math.Clamp(percent, 0, 100)));
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _reporter.Progress(new RunProgress(2, activity, "done", 100, Completed: true));
        }
    }

    /// <summary>Stops a running container (SIGTERM, then SIGKILL after a short grace) and returns its exit code.</summary>
    private async Task<long?> StopAsync(string id, Task<ContainerWaitResponse> wait)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(StopGraceSeconds + 25));
        try
        {
            if (!wait.IsCompleted)
                await _engine.Client.Containers.StopContainerAsync(id, new ContainerStopParameters { WaitBeforeKillSeconds = StopGraceSeconds }, cts.Token).ConfigureAwait(false);
            var status = await wait.WaitAsync(cts.Token).ConfigureAwait(false);
            return status.StatusCode;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _reporter.Verbose($"Stopping {Short(id)}: {e.Message}");
            return null;
        }
    }

    /// <summary>Removes the container (stopping it first when it runs); never throws, says how to clean up by hand instead.</summary>
    private async Task<bool> RemoveAsync(string id, bool running)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(StopGraceSeconds + 25));
        try
        {
            if (running)
            {
                try { await _engine.Client.Containers.StopContainerAsync(id, new ContainerStopParameters { WaitBeforeKillSeconds = StopGraceSeconds }, cts.Token).ConfigureAwait(false); }
                catch (DockerApiException) { }
            }
            await _engine.Client.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true }, cts.Token).ConfigureAwait(false);
            _reporter.Verbose($"Removed container {Short(id)}.");
            return true;
        }
        catch (DockerContainerNotFoundException) { return true; }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _reporter.Warning($"Could not remove container {Short(id)} ({e.Message}); remove it with: docker rm -f {Short(id)}");
            return false;
        }
    }

    private async Task ShowLogsAsync(string id)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            using var logs = await _engine.Client.Containers.GetContainerLogsAsync(id, false,
                new ContainerLogsParameters { ShowStdout = true, ShowStderr = true, Tail = "50" }, cts.Token).ConfigureAwait(false);
            await CopyLinesAsync(logs, cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _reporter.Verbose($"Could not read the container's output: {e.Message}");
        }
    }

    private Task PumpLinesAsync(MultiplexedStream stream, CancellationToken cancellationToken) =>
        Task.Run(() => CopyLinesAsync(stream, cancellationToken), CancellationToken.None);

    private async Task CopyLinesAsync(MultiplexedStream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[81920];
        var stdout = new LineSplitter(l => _reporter.Output(l, false));
        var stderr = new LineSplitter(l => _reporter.Output(l, true));
        try
        {
            while (true)
            {
                var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, cancellationToken).ConfigureAwait(false);
                if (read.EOF || read.Count == 0 && read.EOF) break;
                (read.Target == MultiplexedStream.TargetStream.StandardError ? stderr : stdout).Append(buffer, read.Count);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException) { }
        finally
        {
            stdout.Flush();
            stderr.Flush();
        }
    }

    private static Task PumpRawAsync(MultiplexedStream stream, IInteractiveTerminal terminal, CancellationToken cancellationToken) => Task.Run(async () =>
    {
        var buffer = new byte[16384];
        try
        {
            while (true)
            {
                var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, cancellationToken).ConfigureAwait(false);
                if (read.EOF) break;
                terminal.Write(buffer.AsSpan(0, read.Count));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException) { }
    }, CancellationToken.None);

    private static Task PumpInputAsync(MultiplexedStream stream, IInteractiveTerminal terminal, CancellationToken cancellationToken) => Task.Run(async () =>
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var n = await terminal.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (n == 0) break;
                await stream.WriteAsync(buffer, 0, n, cancellationToken).ConfigureAwait(false);
            }
            stream.CloseWrite();
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or NotSupportedException) { }
    }, CancellationToken.None);

    private Task ResizeAsync(string id, IInteractiveTerminal terminal, CancellationToken cancellationToken) => Task.Run(async () =>
    {
        (int, int)? last = null;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (terminal.Size is { } size && size != last)
                {
                    last = size;
                    await _engine.Client.Containers.ResizeContainerTtyAsync(id,
                        new ContainerResizeParameters { Width = size.Width, Height = size.Height }, cancellationToken).ConfigureAwait(false);
                }
                await Task.Delay(250, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException) { }
    }, CancellationToken.None);

    /// <summary>Lets the output pumps finish what the container wrote (bounded), then stops the rest.</summary>
    private static async Task DrainAsync(List<Task> tasks, CancellationTokenSource pumps)
    {
        if (tasks.Count == 0) return;
        var output = tasks[0];
        await Task.WhenAny(output, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
        pumps.Cancel();
        await Task.WhenAny(Task.WhenAll(tasks), Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
    }

    private static LocalRunResult Result(LocalRunPlan plan, long? exit, bool running, bool removed, HealthcheckResult? health,
        int? hostPort, string? url, Stopwatch clock, string containerId, bool oom = false) => new()
    {
        Service = plan.Service,
        Instance = plan.Instance,
        Cluster = plan.Cluster,
        Image = plan.Image,
        ContainerId = containerId,
        ContainerName = plan.ContainerName,
        HostPort = hostPort,
        Url = url,
        Healthcheck = health,
        ExitCode = exit,
        OomKilled = oom,
        Running = running,
        Removed = removed,
        Duration = clock.Elapsed,
        CommandLine = plan.CommandLineWithoutValues,
    };

    private static string Short(string id) => id.Length > 12 ? id[..12] : id;
}
