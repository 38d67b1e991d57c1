namespace Paasta.Docker;

/// <summary>
/// What local runs, image builds and pushes need from a container engine: the operations call this, the real
/// one is <see cref="DockerContainerEngine"/>, and engine tests pass a stand-in that records the calls.
/// </summary>
public interface IContainerEngine
{
    /// <summary>Where the engine is (for messages).</summary>
    string Endpoint { get; }

    /// <summary>make cook-image with DOCKER_TAG, or the Dockerfile (docs/BEHAVIOUR.md §9.12).</summary>
    Task<ImageBuildResult> BuildAsync(string service, string directory, string tag, string? commit, string? imageVersion, IRunReporter reporter, CancellationToken cancellationToken);

    Task PullAsync(string image, IRunReporter reporter, CancellationToken cancellationToken);

    /// <summary>Whether the registry has the image's tag: true, false, or null when it will not say.</summary>
    Task<bool?> ManifestExistsAsync(string image, IRunReporter reporter, CancellationToken cancellationToken);

    /// <summary>Whether the engine has the image (tagging it from one of <paramref name="siblings"/> when only that exists).</summary>
    Task<bool> EnsureLocalAsync(string image, IReadOnlyList<string> siblings, IRunReporter reporter, CancellationToken cancellationToken);

    /// <summary>Pushes the image; returns the digest the registry reported.</summary>
    Task<string?> PushAsync(string image, IRunReporter reporter, CancellationToken cancellationToken);

    /// <summary>Runs a planned container to its end (or, detached, until healthy) and removes it unless it is to stay.</summary>
    Task<LocalRunResult> RunAsync(LocalRunPlan plan, IInteractiveTerminal? terminal, IRunReporter reporter, CancellationToken cancellationToken);
}

/// <summary>The local Docker engine, through its API.</summary>
public sealed class DockerContainerEngine : IContainerEngine
{
    private readonly DockerEngine _engine;

    public DockerContainerEngine(DockerEngine engine) => _engine = engine;

    /// <summary>-DockerHost, else $DOCKER_HOST, else the default socket.</summary>
    public static DockerContainerEngine Connect(string? endpoint, Func<string, string?>? environment = null) => new(DockerEngine.Connect(endpoint, environment));

    public string Endpoint => _engine.Endpoint;

    public Task<ImageBuildResult> BuildAsync(string service, string directory, string tag, string? commit, string? imageVersion, IRunReporter reporter, CancellationToken cancellationToken) =>
        new ImageBuilder(_engine, reporter).BuildAsync(service, directory, tag, commit, cancellationToken, imageVersion);

    public Task PullAsync(string image, IRunReporter reporter, CancellationToken cancellationToken) =>
        new ImageRegistry(_engine, reporter).PullAsync(image, cancellationToken);

    public Task<bool?> ManifestExistsAsync(string image, IRunReporter reporter, CancellationToken cancellationToken) =>
        new ImageRegistry(_engine, reporter).ManifestExistsAsync(image, cancellationToken);

    public Task<bool> EnsureLocalAsync(string image, IReadOnlyList<string> siblings, IRunReporter reporter, CancellationToken cancellationToken) =>
        new ImageRegistry(_engine, reporter).EnsureLocalAsync(image, siblings, cancellationToken);

    public Task<string?> PushAsync(string image, IRunReporter reporter, CancellationToken cancellationToken) =>
        new ImageRegistry(_engine, reporter).PushAsync(image, cancellationToken);

    public Task<LocalRunResult> RunAsync(LocalRunPlan plan, IInteractiveTerminal? terminal, IRunReporter reporter, CancellationToken cancellationToken) =>
        new LocalRunner(_engine, reporter).RunAsync(plan, terminal, cancellationToken);
}
