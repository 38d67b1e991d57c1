using System.Diagnostics;
using System.Globalization;
using System.Net.Http;
using System.Net.Sockets;
using Docker.DotNet.Models;
using Paasta.Errors;

namespace Paasta.Docker;

/// <summary>The outcome of a simulated healthcheck (docs/BEHAVIOUR.md §9.3 step 14).</summary>
public sealed record HealthcheckResult
{
    public required string Mode { get; init; }
    public required string Target { get; init; }
    public bool Healthy { get; init; }
    /// <summary>Checks run, grace-period ones included.</summary>
    public int Attempts { get; init; }
    /// <summary>Failures after the grace period (the ones that count towards healthcheck_max_consecutive_failures).</summary>
    public int CountedFailures { get; init; }
    public TimeSpan Duration { get; init; }
    /// <summary>What the last check said (HTTP status, connection error, command output), or why checking stopped.</summary>
    public string Message { get; init; } = "";
    /// <summary>True when the container exited before it became healthy.</summary>
    public bool ContainerExited { get; init; }

    public override string ToString() => $"{(Healthy ? "healthy" : "unhealthy")}: {Mode} {Target} ({Message})";
}

/// <summary>One check: whether it passed and what it said.</summary>
public readonly record struct HealthcheckAttempt(bool Success, string Message);

/// <summary>Where the loop is, for Write-Progress.</summary>
public sealed record HealthcheckProgress(int Attempt, int CountedFailures, long MaxFailures, bool InGracePeriod, TimeSpan Elapsed, double GracePeriodSeconds, string Message);

/// <summary>
/// PaaSTA's simulated healthcheck: check; success ends it; failures inside the grace period are ignored,
/// later ones are counted until healthcheck_max_consecutive_failures; a container that exits fails it;
/// wait healthcheck_interval_seconds between checks. Time and checks are passed in, so the loop is testable.
/// </summary>
public static class HealthcheckLoop
{
    public static async Task<HealthcheckResult> RunAsync(
        HealthcheckSpec spec,
        Func<CancellationToken, Task<HealthcheckAttempt>> check,
        Func<bool> containerExited,
        Action<HealthcheckProgress>? progress,
        CancellationToken cancellationToken,
        Func<TimeSpan>? elapsed = null,
        Func<TimeSpan, CancellationToken, Task>? delay = null)
    {
        var clock = Stopwatch.StartNew();
        elapsed ??= () => clock.Elapsed;
        delay ??= Task.Delay;
        var attempts = 0;
        var counted = 0;
        var message = "not checked yet";
        var max = Math.Max(1, spec.MaxConsecutiveFailures);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (containerExited())
                return Result(false, "the container exited before it became healthy", exited: true);
            attempts++;
            var attempt = await check(cancellationToken).ConfigureAwait(false);
            message = attempt.Message;
            if (attempt.Success) return Result(true, message);
            var now = elapsed();
            var inGrace = now.TotalSeconds < spec.GracePeriodSeconds;
            if (!inGrace)
            {
                counted++;
                if (counted >= max) return Result(false, $"{message} ({counted} failures after the {Seconds(spec.GracePeriodSeconds)} s grace period)");
            }
            progress?.Invoke(new HealthcheckProgress(attempts, counted, max, inGrace, now, spec.GracePeriodSeconds, message));
            await delay(TimeSpan.FromSeconds(Math.Max(0, spec.IntervalSeconds)), cancellationToken).ConfigureAwait(false);
        }

        HealthcheckResult Result(bool healthy, string text, bool exited = false) => new()
        {
            Mode = spec.Mode,
            Target = spec.Target,
            Healthy = healthy,
            Attempts = attempts,
            CountedFailures = counted,
            Duration = elapsed(),
            Message = text,
            ContainerExited = exited,
        };
    }

    private static string Seconds(double s) => s.ToString("0.###", CultureInfo.InvariantCulture);
}

/// <summary>The three kinds of check local-run simulates.</summary>
public static class HealthcheckProbes
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        PooledConnectionLifetime = TimeSpan.FromSeconds(30),
        SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
    })
    { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>Healthy iff 200 ≤ status &lt; 400 and the content-type header holds no comma (PaaSTA's rule).</summary>
    public static async Task<HealthcheckAttempt> HttpAsync(string url, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            using var response = await Http.GetAsync(url, HttpCompletionOption.ResponseContentRead, cts.Token).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            var contentType = response.Content.Headers.TryGetValues("Content-Type", out var ct) ? string.Join(",", ct) : "";
            var body = await response.Content.ReadAsStringAsync(cts.Token).ConfigureAwait(false);
            var snippet = body.Trim().ReplaceLineEndings(" ");
            if (snippet.Length > 80) snippet = snippet[..80] + "...";
            var ok = code is >= 200 and < 400 && !contentType.Contains(',');
            return new(ok, $"HTTP {code} from {url}{(snippet.Length > 0 ? $": {snippet}" : "")}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new(false, $"{url} did not answer within {timeout.TotalSeconds:0.###} s");
        }
        catch (HttpRequestException e)
        {
            return new(false, $"{url}: {e.InnerException?.Message ?? e.Message}");
        }
    }

    public static async Task<HealthcheckAttempt> TcpAsync(string host, int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(host, port, cts.Token).ConfigureAwait(false);
            return new(true, $"connected to {host}:{port}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new(false, $"{host}:{port} did not accept a connection within {timeout.TotalSeconds:0.###} s");
        }
        catch (SocketException e)
        {
            return new(false, $"{host}:{port}: {e.Message}");
        }
    }

    /// <summary>Runs <c>/bin/sh -c command</c> inside the container; healthy iff it exits 0 in time.</summary>
    public static async Task<HealthcheckAttempt> CommandAsync(DockerEngine engine, string containerId, string command, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            var exec = await engine.Call("create the healthcheck command", c => c.Exec.ExecCreateContainerAsync(containerId,
                new ContainerExecCreateParameters { Cmd = new[] { "/bin/sh", "-c", command }, AttachStdout = true, AttachStderr = true }, cts.Token), containerId).ConfigureAwait(false);
            using var stream = await engine.Call("run the healthcheck command", c => c.Exec.StartAndAttachContainerExecAsync(exec.ID, false, cts.Token), containerId).ConfigureAwait(false);
            var (stdout, stderr) = await stream.ReadOutputToEndAsync(cts.Token).ConfigureAwait(false);
            var inspect = await engine.Call("read the healthcheck command's exit code", c => c.Exec.InspectContainerExecAsync(exec.ID, cts.Token), containerId).ConfigureAwait(false);
            var output = (stdout + stderr).Trim().ReplaceLineEndings(" ");
            if (output.Length > 120) output = output[..120] + "...";
            return new(inspect.ExitCode == 0, $"'{command}' exited {inspect.ExitCode}{(output.Length > 0 ? $": {output}" : "")}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new(false, $"'{command}' did not finish within {timeout.TotalSeconds:0.###} s");
        }
        catch (PaastaException e) when (e.ErrorId is "DockerConflict" or "DockerContainerNotFound")
        {
            return new(false, e.Message);
        }
    }
}
