using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Core;
using ReplayVm.Replay.Diff;

namespace ReplayVm.Replay.Tests.Diff;

public class TraceDiffProperties
{
    private const ulong QuitAfter = 300;

    /// <summary>
    /// For a random step and a random pair of typed bytes (equal ones included, and 't' and 'q',
    /// which make the guest read the clock or exit), the diff's step is the first step at which a
    /// brute-force comparison of the complete states, single-stepping both replays from reset, finds
    /// them different; equal bytes give identical traces.
    /// </summary>
    [Property(MaxTest = 12)]
    public Property ReportedStepIsTheTrueFirstDifferingStep() =>
        Prop.ForAll(Gen.Choose(20, 1_500).ToArbitrary(), Keys.ToArbitrary(), Gen.Elements(1UL, 7UL, 100UL).ToArbitrary(),
            (step, keys, chunk) =>
            {
                var a = DiffFixtures.Record(keys.A, (ulong)step, QuitAfter, interval: 500, setup: DiffFixtures.SmallEcho);
                var b = DiffFixtures.Record(keys.B, (ulong)step, QuitAfter, interval: 500, setup: DiffFixtures.SmallEcho, clock: s => s * 5);
                ulong? truth = BruteForce.FirstDifferingStep(a, b);

                // Chunked comparison only sees differences that last to a chunk end; a value that differs for a
                // single step right after the differing input (a clock read into a register that is overwritten
                // next) is found by the exact window that starts at the input difference, as TraceDiff documents.
                // So the chunked cases keep a short window for that, and the chunks do the rest.
                var result = TraceDiff.Compare(a, b, new TraceDiffOptions { FirstWindowSteps = chunk == 1 ? 4096UL : 16UL, ChunkSteps = chunk });

                if (truth is { } n)
                {
                    Assert.Equal(TraceDiffOutcome.StateDiffers, result.Outcome);
                    Assert.Equal(n, result.Step);
                }
                else
                {
                    Assert.Equal(keys.A, keys.B);
                    Assert.NotEqual(TraceDiffOutcome.StateDiffers, result.Outcome);
                }
            });

    /// <summary>Mostly different bytes, sometimes equal; 't' (clock read) and 'q' (exit) often.</summary>
    private static Gen<(byte A, byte B)> Keys =>
        from a in Gen.OneOf(Gen.Elements((byte)'t', (byte)'q', (byte)'a'), Gen.Choose(0, 255).Select(i => (byte)i))
        from b in Gen.Frequency((1, Gen.Constant(a)), (4, Gen.Choose(0, 255).Select(i => (byte)i)))
        select (a, b);
}

/// <summary>
/// The reference the diff is checked against: both traces replayed one step at a time from reset,
/// comparing everything the state hash covers — counters, pc, mode, every register, every CSR
/// number, timer state and all of RAM byte for byte — after every step. Slow, and obviously right.
/// </summary>
internal static class BruteForce
{
    public static ulong? FirstDifferingStep(TraceFile a, TraceFile b)
    {
        ulong limit = Math.Min(a.End?.Step ?? a.LastStep, b.End?.Step ?? b.LastStep);
        var ra = new Replayer(a, _ => { });
        var rb = new Replayer(b, _ => { });
        while (true)
        {
            if (!Same(ra.Machine, rb.Machine)) return ra.Steps;
            if (ra.Steps >= limit) return null;
            Assert.Null(ra.RunTo(ra.Steps + 1));
            Assert.Null(rb.RunTo(rb.Steps + 1));
        }
    }

    private static bool Same(Machine a, Machine b)
    {
        var (x, y) = (a.Hart, b.Hart);
        if (x.Steps != y.Steps || x.ExceptionsTaken != y.ExceptionsTaken || x.Pc != y.Pc || x.Mode != y.Mode) return false;
        for (int i = 0; i < 32; i++)
            if (x.GetX(i) != y.GetX(i) || x.GetF(i) != y.GetF(i)) return false;
        for (uint csr = 0; csr < 0x1000; csr++)
            if (x.TryReadCsr(csr, out ulong u) != y.TryReadCsr(csr, out ulong v) || u != v) return false;
        if (x.Clock.IdleNanoseconds != y.Clock.IdleNanoseconds || x.Clock.TickOffset != y.Clock.TickOffset || a.Clint.Mtimecmp != b.Clint.Mtimecmp)
            return false;
        return a.Ram.Read(a.Ram.Base, (int)a.Ram.Size).SequenceEqual(b.Ram.Read(b.Ram.Base, (int)b.Ram.Size));
    }
}
