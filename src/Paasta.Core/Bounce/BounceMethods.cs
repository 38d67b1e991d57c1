using Paasta.Errors;

namespace Paasta.Bounce;

/// <summary>What a bounce method decides from one observation (docs/BEHAVIOUR.md §6.2).</summary>
/// <param name="CreateNew">Whether the new version's controller may exist now.</param>
/// <param name="Drain">The old copies to take out of traffic now (a subset of the non-draining old copies given).</param>
/// <param name="Reason">One sentence for -Verbose: why these copies, why now.</param>
public sealed record BounceDecision(bool CreateNew, IReadOnlyList<string> Drain, string Reason);

/// <summary>
/// The four bounce methods as pure functions of what a pass observes: the instance count wanted, the healthy
/// (ready) new copies, and the old copies not yet draining, best first. Old copies already draining are not
/// part of the decision: they are on their way out whatever the method says.
/// </summary>
public static class BounceMethods
{
    public static readonly IReadOnlyList<string> Names = new[] { "crossover", "brutal", "downthenup", "upthendown" };

    /// <param name="method">crossover, brutal, downthenup or upthendown.</param>
    /// <param name="instances">Copies of the new version wanted (0 when stopping).</param>
    /// <param name="marginFactor">bounce_margin_factor, 0 &lt; f ≤ 1 (crossover only).</param>
    /// <param name="happyNew">Ready copies of the new version.</param>
    /// <param name="oldLiveCount">Old copies still present, draining or not (downthenup waits for none).</param>
    /// <param name="oldNotDraining">Old copies not yet draining, best first: the last ones are drained first.</param>
    public static BounceDecision Decide(string method, int instances, double marginFactor, int happyNew, int oldLiveCount, IReadOnlyList<string> oldNotDraining)
    {
        switch (method)
        {
            case "brutal":
                return new(true, oldNotDraining.ToList(), "brutal: every old copy goes at once, without waiting for new ones");
            case "downthenup":
                return new(oldLiveCount == 0, oldNotDraining.ToList(),
                    oldLiveCount == 0 ? "downthenup: no old copy left, the new version starts" : $"downthenup: {oldLiveCount} old copy(ies) must be gone before the new version starts");
            case "upthendown":
                return happyNew >= instances
                    ? new(true, oldNotDraining.ToList(), $"upthendown: all {instances} new copies are ready, every old copy goes")
                    : new(true, Array.Empty<string>(), $"upthendown: {happyNew} of {instances} new copies ready; old copies stay until all are");
            case "crossover":
            {
                var floor = (int)Math.Ceiling(instances * marginFactor - 1e-9);
                var keep = Math.Max(floor - happyNew, 0);
                var drain = oldNotDraining.Skip(keep).ToList();
                return new(true, drain,
                    $"crossover: {happyNew} new ready, at least {floor} copies (ceil({instances} x {marginFactor})) must stay ready, so {Math.Min(keep, oldNotDraining.Count)} old stay and {drain.Count} go");
            }
            default:
                throw new PaastaException("BounceMethodUnknown", PaastaErrorKind.InvalidArgument,
                    $"bounce_method '{method}' is not one of {string.Join(", ", Names)}.") { Target = method };
        }
    }
}
