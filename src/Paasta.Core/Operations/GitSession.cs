using System.Collections.Concurrent;
using Paasta.Config;
using Paasta.Git;

namespace Paasta.Operations;

/// <summary>A repository's refs as one call lists them, with the index of its PaaSTA tags (built on first use).</summary>
public sealed class RepositoryRefs
{
    private readonly Lazy<PaastaTagIndex> _tags;

    public RepositoryRefs(GitRefListing refs)
    {
        Refs = refs;
        _tags = new Lazy<PaastaTagIndex>(() => PaastaTagIndex.Build(refs));
    }

    public GitRefListing Refs { get; }
    public PaastaTagIndex Tags => _tags.Value;
}

/// <summary>
/// The git side of one cmdlet call (docs/ARCHITECTURE.md, "Operations"): one client with the call's credential,
/// each repository's refs listed once however many services, instances or pipeline records need them, and every
/// git step shown as progress, its tag writes (with their retries) as a nested bar. A session sees each repository
/// as it first listed it: tags it writes itself are not added, so an operation acts once per deploy group or control
/// branch and never needs them. Thread-safe.
/// </summary>
public sealed class GitSession
{
    private readonly ConcurrentDictionary<string, Lazy<Task<RepositoryRefs>>> _listings = new(StringComparer.Ordinal);
    private readonly TimeProvider? _clock;
    private readonly Func<int, TimeSpan>? _transientBackoff;

    /// <param name="options">The client's options (the -Credential, timeouts).</param>
    /// <param name="clock">The clock tag timestamps come from (tests).</param>
    /// <param name="transientBackoff">The pause before a network retry (tests); default PaaSTA's 5 s × attempt.</param>
    public GitSession(GitClientOptions? options = null, TimeProvider? clock = null, Func<int, TimeSpan>? transientBackoff = null)
    {
        Client = new GitRemoteClient(options);
        _clock = clock;
        _transientBackoff = transientBackoff;
    }

    private GitSession(GitRemoteClient client, TimeProvider? clock, Func<int, TimeSpan>? transientBackoff)
    {
        Client = client;
        _clock = clock;
        _transientBackoff = transientBackoff;
    }

    /// <summary>
    /// A session with the same client (credential, clock) and no listing yet: an operation that must see the tags it
    /// wrote itself (a rollback right after a deploy) lists the repository again through it.
    /// </summary>
    public GitSession Fresh() => new(Client, _clock, _transientBackoff);

    public GitRemoteClient Client { get; }

    /// <summary>How many listings this session made (one per repository).</summary>
    public int Listings => _listings.Count;

    /// <summary>The repository of a service: <paramref name="repository"/> (-Repository) when given, else git_url; relative paths resolve against the caller's location. Null for git_url: null.</summary>
    public static GitRepositoryLocation? Location(OperationContext context, ServiceConfig service, string? repository) =>
        GitRepositoryLocation.ForService(service, repository, context.CurrentDirectory);

    /// <summary>As <see cref="Location"/>, for operations that need a repository (GitRepositoryNotConfigured otherwise).</summary>
    public static GitRepositoryLocation RequireLocation(OperationContext context, ServiceConfig service, string? repository) =>
        GitRepositoryLocation.RequireForService(service, repository, context.CurrentDirectory);

    /// <summary>The refs of <paramref name="location"/>, listed once per session, as a progress step of <paramref name="activity"/>.</summary>
    public RepositoryRefs Refs(OperationContext context, GitRepositoryLocation location, string activity)
    {
        var listing = Listing(context, location, out var first);
        if (!first && listing.IsCompleted) return listing.GetAwaiter().GetResult();
        return Step(context, activity, $"Listing the refs of {location.Url}", -1, _ => listing.GetAwaiter().GetResult());
    }

    /// <summary>Starts listing <paramref name="location"/> (or joins the listing already made) without waiting, for work that overlaps it.</summary>
    public Task<RepositoryRefs> RefsAsync(OperationContext context, GitRepositoryLocation location) => Listing(context, location, out _);

    private Task<RepositoryRefs> Listing(OperationContext context, GitRepositoryLocation location, out bool first)
    {
        var created = false;
        var lazy = _listings.GetOrAdd(location.TransportUrl, _ =>
        {
            created = true;
            return new Lazy<Task<RepositoryRefs>>(() => Task.Run(() =>
            {
                context.Sink.Verbose($"Listing the refs of {location.Url}");
                var refs = Client.ListRefs(location, context.Cancellation);
                context.Sink.Verbose($"{refs.Count} refs in {location.Url}");
                return new RepositoryRefs(refs);
            }, context.Cancellation));
        });
        first = created;
        return lazy.Value;
    }

    /// <summary>
    /// Runs one git step under a progress record of <paramref name="activity"/>, completed whatever happens. The
    /// step gets a tag writer whose attempts (a tag name, a retry after a network failure) show as a nested bar.
    /// </summary>
    public T Step<T>(OperationContext context, string activity, string status, int percentComplete, Func<TagWriter, T> work)
    {
        var sink = context.Sink;
        var step = new OperationProgress(activity, status) { PercentComplete = percentComplete };
        var detail = new OperationProgress($"{activity} (git)", status) { ParentActivity = activity };
        var detailOpen = false;
        void Report(string message)
        {
            // Each attempt is its own short-lived record: complete the previous one so the next is shown, not throttled away.
            if (detailOpen) sink.Progress(detail.Complete());
            sink.Progress(detail with { Status = message, CurrentOperation = message });
            detailOpen = true;
        }
        var writer = _transientBackoff is null
            ? new TagWriter(Client, _clock) { Report = Report }
            : new TagWriter(Client, _clock) { Report = Report, TransientBackoff = _transientBackoff };
        sink.Progress(step);
        try { return work(writer); }
        finally
        {
            if (detailOpen) sink.Progress(detail.Complete());
            sink.Progress(step.Complete());
        }
    }
}
