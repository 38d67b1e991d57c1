namespace Paasta.Operations;

/// <summary>
/// Time as the operations that wait see it (Start-PaastaJob -Wait, drain calls): how long since a start, and a
/// pause. Tests pass a clock whose pauses advance a counter, so a wait loop is exercised without waiting.
/// </summary>
public class WaitClock
{
    public static WaitClock Real { get; } = new();

    /// <summary>A reading to measure from.</summary>
    public virtual long Start() => System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>The time passed since <paramref name="start"/> (a value of <see cref="Start"/>).</summary>
    public virtual TimeSpan Since(long start) => System.Diagnostics.Stopwatch.GetElapsedTime(start);

    public virtual Task Delay(TimeSpan delay, CancellationToken cancellation) => Task.Delay(delay, cancellation);
}
