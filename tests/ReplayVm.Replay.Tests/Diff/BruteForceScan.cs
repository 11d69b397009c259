using ReplayVm.Core;

namespace ReplayVm.Replay.Tests.Diff;

/// <summary>
/// The slow, obvious way to find where two runs differ, to check the clever one against: two
/// replayers stepped one step at a time from step 0, comparing after every step — pc, mode,
/// counters, every x and f register, every CSR, the clock's idle time and tick offset, the CLINT's
/// mtimecmp, and the bytes of every RAM page either machine ever wrote.
/// </summary>
internal static class BruteForceScan
{
    /// <summary>The steps at which <paramref name="differ"/> changes its answer (step 0 first if it is true there), up to <paramref name="limit"/>.</summary>
    public static List<ulong> Transitions(TraceFile a, TraceFile b, ulong limit, Func<Machine, Machine, bool> differ)
    {
        var ra = new Replayer(a, _ => { });
        var rb = new Replayer(b, _ => { });
        var flips = new List<ulong>();
        bool was = false;
        for (ulong step = 0; step <= limit; step++)
        {
            if (step > 0)
            {
                Assert.Null(ra.RunTo(step));
                Assert.Null(rb.RunTo(step));
            }
            bool now = differ(ra.Machine, rb.Machine);
            if (now != was) flips.Add(step);
            was = now;
        }
        return flips;
    }

    /// <summary>Where whole states part: the odd-numbered entries of <see cref="Transitions"/> are where they join again.</summary>
    public static List<ulong> StateTransitions(TraceFile a, TraceFile b, ulong limit) => Transitions(a, b, limit, StatesDiffer);

    public static bool StatesDiffer(Machine a, Machine b)
    {
        var (x, y) = (a.Hart, b.Hart);
        if (x.Pc != y.Pc || x.Mode != y.Mode || x.Steps != y.Steps || x.ExceptionsTaken != y.ExceptionsTaken) return true;
        for (int i = 1; i < 32; i++)
            if (x.GetX(i) != y.GetX(i)) return true;
        for (int i = 0; i < 32; i++)
            if (x.GetF(i) != y.GetF(i)) return true;
        if (x.Clock.IdleNanoseconds != y.Clock.IdleNanoseconds || x.Clock.TickOffset != y.Clock.TickOffset) return true;
        if (a.Clint.Mtimecmp != b.Clint.Mtimecmp) return true;
        for (uint csr = 0; csr < 0x1000; csr++)
        {
            bool hasX = x.TryReadCsr(csr, out ulong vx), hasY = y.TryReadCsr(csr, out ulong vy);
            if (hasX != hasY || vx != vy) return true;
        }
        for (ulong page = 0; page < a.Ram.PageCount; page++)
            if ((a.Ram.EverWritten(page) || b.Ram.EverWritten(page)) && !a.Ram.Page(page).SequenceEqual(b.Ram.Page(page))) return true;
        return false;
    }
}
