using System.Collections.Concurrent;
using Paasta.Docker;

namespace Paasta.Tests.Operations;

/// <summary>A container engine that records what operations ask of it and answers as told; nothing runs.</summary>
public sealed class FakeContainerEngine : IContainerEngine
{
    public ConcurrentQueue<string> Calls { get; } = new();
    /// <summary>Images the registry has (for ManifestExistsAsync).</summary>
    public HashSet<string> InRegistry { get; } = new(StringComparer.Ordinal);
    /// <summary>Images the engine has (for EnsureLocalAsync).</summary>
    public HashSet<string> Local { get; } = new(StringComparer.Ordinal);
    /// <summary>The healthcheck verdict RunAsync reports when the plan has a healthcheck.</summary>
    public bool Healthy { get; set; } = true;
    public LocalRunPlan? LastPlan { get; private set; }
    public IInteractiveTerminal? LastTerminal { get; private set; }

    public string Endpoint => "unix:///fake/docker.sock";

    public Task<ImageBuildResult> BuildAsync(string service, string directory, string tag, string? commit, string? imageVersion, IRunReporter reporter, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"build {tag} from {directory}");
        reporter.Progress(new RunProgress(3, $"make cook-image ({tag})", "running"));
        reporter.Output("Step 1/1 : FROM scratch", false);
        reporter.Progress(new RunProgress(3, $"make cook-image ({tag})", "done", 100, Completed: true));
        Local.Add(tag);
        return Task.FromResult(new ImageBuildResult { Service = service, Image = tag, ImageId = "sha256:0123", Method = "make cook-image", Path = directory, Commit = commit, ImageVersion = imageVersion });
    }

    public Task PullAsync(string image, IRunReporter reporter, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"pull {image}");
        reporter.Progress(new RunProgress(4, $"Pulling {image}", "1 of 2 layer(s) done", 50));
        reporter.Progress(new RunProgress(4, $"Pulling {image}", "done", 100, Completed: true));
        Local.Add(image);
        return Task.CompletedTask;
    }

    public Task<bool?> ManifestExistsAsync(string image, IRunReporter reporter, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"manifest {image}");
        return Task.FromResult<bool?>(InRegistry.Contains(image));
    }

    public Task<bool> EnsureLocalAsync(string image, IReadOnlyList<string> siblings, IRunReporter reporter, CancellationToken cancellationToken) =>
        Task.FromResult(Local.Contains(image) || siblings.Any(Local.Contains));

    public Task<string?> PushAsync(string image, IRunReporter reporter, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"push {image}");
        InRegistry.Add(image);
        return Task.FromResult<string?>("sha256:" + new string('a', 64));
    }

    public Task<LocalRunResult> RunAsync(LocalRunPlan plan, IInteractiveTerminal? terminal, IRunReporter reporter, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"run {plan.Image}");
        LastPlan = plan;
        LastTerminal = terminal;
        var health = plan.Healthcheck is { } h ? new HealthcheckResult { Mode = h.Mode, Target = h.Target, Healthy = Healthy, Message = Healthy ? "HTTP 200" : "HTTP 404" } : null;
        return Task.FromResult(new LocalRunResult
        {
            Service = plan.Service, Instance = plan.Instance, Cluster = plan.Cluster, Image = plan.Image,
            ContainerId = "c0ffee", ContainerName = plan.ContainerName, Healthcheck = health, ExitCode = 0, Removed = true,
        });
    }
}
