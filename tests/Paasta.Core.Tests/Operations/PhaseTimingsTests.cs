using System.Text.RegularExpressions;
using Paasta.Operations;
using Xunit;

namespace Paasta.Tests.Operations;

public sealed class PhaseTimingsTests : IDisposable
{
    private readonly TempSoaDir _soa = new();
    private readonly RecordingSink _sink = new();

    public PhaseTimingsTests()
    {
        _soa.Service("alpha");
        _soa.Write("alpha/kubernetes-prod.yaml", "main: {}\n");
    }

    public void Dispose() => _soa.Dispose();

    private IEnumerable<string> DebugLines => _sink.Messages.Where(m => m.Level == MessageLevel.Debug).Select(m => m.Text);

    [Fact]
    public void Each_mark_ends_a_phase_that_starts_where_the_previous_one_ended()
    {
        // A phase measured from the start instead would include the 300 ms sleep; only a stall as long would pass it.
        var timings = new PhaseTimings();
        Thread.Sleep(300);
        timings.Mark("first");
        timings.Mark("second");
        Assert.Equal(new[] { "first", "second" }, timings.Phases.Select(p => p.Name));
        Assert.True(timings.Phases[0].Elapsed >= TimeSpan.FromMilliseconds(290), $"{timings.Phases[0].Elapsed}");
        Assert.True(timings.Phases[1].Elapsed < TimeSpan.FromMilliseconds(290), $"{timings.Phases[1].Elapsed}");
    }

    [Fact]
    public void The_summary_names_every_phase_with_its_runtime_counts_and_the_total()
    {
        var timings = new PhaseTimings();
        Assert.Null(timings.Summary());
        timings.Mark("read soa-configs");
        timings.Mark("read the cluster and plan");
        var summary = timings.Summary()!;
        Assert.Matches(new Regex(@"^Timings: read soa-configs \d+ ms \(CPU \d+ ms; JIT \d+ methods, \d+ ms; \d+ assemblies\), read the cluster and plan \d+ ms \(CPU \d+ ms; JIT \d+ methods, \d+ ms; \d+ assemblies\); total \d+ ms \(CPU \d+ ms\)$"), summary);
    }

    [Fact]
    public void A_call_that_marked_phases_writes_its_timings_as_one_debug_message_when_it_ends()
    {
        using (var context = _sink.Context(_soa.Root))
            Assert.Single(InstanceQuery.Instances(context, new InstanceSelection { Services = new[] { "alpha" } }));
        var line = Assert.Single(DebugLines, l => l.StartsWith("Timings: ", StringComparison.Ordinal));
        Assert.Contains("read soa-configs ", line);
        Assert.Contains("until the call ends ", line);
    }

    [Fact]
    public void A_call_that_marked_nothing_writes_no_timings()
    {
        using (_sink.Context(_soa.Root)) { }
        Assert.DoesNotContain(DebugLines, l => l.StartsWith("Timings: ", StringComparison.Ordinal));
    }

    [Fact]
    public void A_child_context_adds_its_phases_to_the_callers_timings_and_writes_none_of_its_own()
    {
        using (var context = _sink.Context(_soa.Root))
        {
            var (found, errors) = ErrorCollectingSink.Collect(context, c => InstanceQuery.Instances(c, new InstanceSelection { Services = new[] { "alpha" } }));
            Assert.Single(found);
            Assert.Empty(errors);
            Assert.DoesNotContain(DebugLines, l => l.StartsWith("Timings: ", StringComparison.Ordinal));
            Assert.Equal(new[] { "read soa-configs" }, context.Timings.Phases.Select(p => p.Name));
        }
        Assert.Single(DebugLines, l => l.StartsWith("Timings: read soa-configs ", StringComparison.Ordinal));
    }
}
