using Paasta.Errors;

namespace Paasta.Git;

/// <summary>A tag Paasta created.</summary>
public sealed record WrittenTag(string RefName, string Sha, string Timestamp)
{
    public string TagName => PaastaTags.ShortName(RefName);
}

/// <summary>
/// Creates timestamped tags (<c>…-&lt;UTC ts&gt;-…</c>) so that concurrent writers all land theirs. Names
/// collide only when two writers tag the same thing in the same second; the loser waits for the next
/// second and tries again with the new timestamp. Network failures are retried like PaaSTA's
/// mark-for-deployment: 3 attempts, sleeping 5 s × attempt in between.
/// </summary>
public sealed class TagWriter
{
    private readonly GitRemoteClient _client;
    private readonly TimeProvider _clock;

    public TagWriter(GitRemoteClient client, TimeProvider? clock = null)
    {
        _client = client;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>How many fresh timestamps to try before giving up on a name that keeps being taken.</summary>
    public int MaxNameAttempts { get; init; } = 30;

    /// <summary>How far ahead of this machine's clock an <c>after</c> timestamp may be and still be waited for.</summary>
    public TimeSpan MaxFutureWait { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Attempts for network failures (docs/BEHAVIOUR.md §2.6: 3).</summary>
    public int MaxTransientAttempts { get; init; } = 3;

    /// <summary>Pause before network retry <c>n</c> (1-based); default 5 s × n.</summary>
    public Func<int, TimeSpan> TransientBackoff { get; init; } = n => TimeSpan.FromSeconds(5 * n);

    /// <summary>Told what each attempt is about to do, on the caller's thread (cmdlets turn it into progress).</summary>
    public Action<string>? Report { get; init; }

    /// <param name="refNameFor">Builds the ref name for a timestamp.</param>
    /// <param name="knownRefs">A recent listing; a name already in it is skipped without asking the remote.</param>
    /// <param name="after">
    /// The newest timestamp already used by the tags this one competes with (the group's last deploy, the
    /// instance's last start or stop). The new tag gets a later one, so "newest" stays unambiguous when two
    /// operations happen within one second. Ignored when it lies more than a few seconds in the future
    /// (another machine's clock): waiting for it could take arbitrarily long.
    /// </param>
    public WrittenTag Write(GitRepositoryLocation location, Func<string, string> refNameFor, string sha, bool force,
        GitRefListing? knownRefs = null, string? sourceRef = null, CancellationToken cancellation = default, string? after = null)
    {
        string? lastTimestamp = null;
        if (GitTimestamp.TryParse(after) is { } afterTime && afterTime <= _clock.GetUtcNow() + MaxFutureWait)
            lastTimestamp = after;
        var transientFailures = 0;
        for (var attempt = 0; attempt < MaxNameAttempts;)
        {
            cancellation.ThrowIfCancellationRequested();
            var now = _clock.GetUtcNow();
            var timestamp = GitTimestamp.ToTimestamp(now);
            if (lastTimestamp is not null && string.CompareOrdinal(timestamp, lastTimestamp) <= 0)
            {
                // Same second as the name that was taken: wait for the next one.
                var nextSecond = new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero).AddSeconds(1);
                Delay(nextSecond - now + TimeSpan.FromMilliseconds(5), cancellation);
                continue;
            }
            var refName = refNameFor(timestamp);
            TagNames.RequirePaastaTag(refName);
            attempt++;
            lastTimestamp = timestamp;
            if (knownRefs?.Contains(refName) == true) continue;
            RefCreation outcome;
            try
            {
                Report?.Invoke($"Writing {PaastaTags.ShortName(refName)} to {location.Url}{(attempt > 1 ? $" (name attempt {attempt})" : "")}");
                outcome = _client.CreateRef(location, refName, sha, force, knownRefs, sourceRef, cancellation);
            }
            catch (PaastaException e) when (IsTransient(e, location) && ++transientFailures < MaxTransientAttempts)
            {
                var backoff = TransientBackoff(transientFailures);
                Report?.Invoke($"{e.Message} Retrying in {backoff.TotalSeconds:0} s (attempt {transientFailures + 1} of {MaxTransientAttempts}).");
                Delay(backoff, cancellation);
                lastTimestamp = null;
                continue;
            }
            if (outcome == RefCreation.Created) return new WrittenTag(refName, sha.ToLowerInvariant(), timestamp);
        }
        throw new PaastaException("TagNameUnavailable", PaastaErrorKind.ResourceUnavailable,
            $"Could not find a free tag name on {location.Url} after {MaxNameAttempts} timestamps; every one was taken or locked.")
        { Target = location.Url };
    }

    private static bool IsTransient(PaastaException e, GitRepositoryLocation location) =>
        !location.IsLocal && e.ErrorId is "GitRemoteUnreachable" or "GitRemoteTimeout";

    private void Delay(TimeSpan delay, CancellationToken cancellation)
    {
        if (delay <= TimeSpan.Zero) return;
        try { Task.Delay(delay, _clock, cancellation).Wait(cancellation); }
        catch (AggregateException e) when (e.InnerException is OperationCanceledException oce) { throw oce; }
    }
}
