using System.Diagnostics;
using System.Globalization;
using System.Runtime;

namespace Paasta.Operations;

/// <summary>One stretch of a call: how long it took, and what the runtime did meanwhile (process-wide counts).</summary>
public sealed record PhaseTiming(string Name, TimeSpan Elapsed, long JitMethods, TimeSpan JitTime, int AssembliesLoaded)
{
    /// <summary>Processor time of the whole process meanwhile (every thread): unlike wall time, it hardly grows with other processes' load.</summary>
    public TimeSpan ProcessorTime { get; init; }
}

/// <summary>
/// Where one call's time goes, written with -Debug at its end (and read by tools/benchmark): wall time per phase,
/// with the methods the JIT compiled and the assemblies loaded during it. A new process pays for those on its first
/// call and a warm session does not, so they tell start-up cost from work. Marks may come from any thread; the
/// runtime's counts are process-wide, so work running beside the call is counted too.
/// </summary>
public sealed class PhaseTimings
{
    private readonly object _gate = new();
    private readonly List<PhaseTiming> _phases = new();
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private TimeSpan _lastAt;
    private long _lastJitMethods = JitInfo.GetCompiledMethodCount();
    private TimeSpan _lastJitTime = JitInfo.GetCompilationTime();
    private int _lastAssemblies = AppDomain.CurrentDomain.GetAssemblies().Length;
    private TimeSpan _lastProcessor = ProcessorTime();

    private static TimeSpan ProcessorTime()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    public IReadOnlyList<PhaseTiming> Phases
    {
        get { lock (_gate) return _phases.ToList(); }
    }

    /// <summary>Ends the current phase under <paramref name="name"/>; the next one starts now.</summary>
    public void Mark(string name)
    {
        var methods = JitInfo.GetCompiledMethodCount();
        var jitTime = JitInfo.GetCompilationTime();
        var assemblies = AppDomain.CurrentDomain.GetAssemblies().Length;
        var processor = ProcessorTime();
        lock (_gate)
        {
            var at = _watch.Elapsed;
            _phases.Add(new PhaseTiming(name, at - _lastAt, methods - _lastJitMethods, jitTime - _lastJitTime, assemblies - _lastAssemblies) { ProcessorTime = processor - _lastProcessor });
            (_lastAt, _lastJitMethods, _lastJitTime, _lastAssemblies, _lastProcessor) = (at, methods, jitTime, assemblies, processor);
        }
    }

    /// <summary>"Timings: read soa-configs 92 ms (CPU 80 ms; JIT 139 methods, 31 ms; 3 assemblies), …; total 640 ms (CPU 500 ms)", or null before any mark.</summary>
    public string? Summary()
    {
        var phases = Phases;
        if (phases.Count == 0) return null;
        var parts = phases.Select(p => string.Create(CultureInfo.InvariantCulture,
            $"{p.Name} {p.Elapsed.TotalMilliseconds:0} ms (CPU {p.ProcessorTime.TotalMilliseconds:0} ms; JIT {p.JitMethods} methods, {p.JitTime.TotalMilliseconds:0} ms; {p.AssembliesLoaded} assemblies)"));
        var total = TimeSpan.FromTicks(phases.Sum(p => p.Elapsed.Ticks));
        var processor = TimeSpan.FromTicks(phases.Sum(p => p.ProcessorTime.Ticks));
        return string.Create(CultureInfo.InvariantCulture, $"Timings: {string.Join(", ", parts)}; total {total.TotalMilliseconds:0} ms (CPU {processor.TotalMilliseconds:0} ms)");
    }
}
