using System.Runtime.ExceptionServices;
using ReplayVm.Core.Hart;
using ReplayVm.Core.Memory;

namespace ReplayVm.Replay.Diff;

/// <summary>
/// Two replays driven side by side. Between comparisons each side remembers its RAM write epoch,
/// so a comparison reads only the registers, the CSRs and the pages either side wrote since the
/// previous one — correct because the two states were equal then, so any page that differs now
/// was written since by at least one of them.
/// </summary>
internal sealed class LockstepPair
{
    /// <summary>Below this distance two threads cost more than they save.</summary>
    private const ulong ParallelThreshold = 1_000_000;

    private readonly ulong[] _writtenA, _writtenB, _written;
    /// <summary>For <see cref="TrackDifferences"/>: the pages whose bytes differ, exact for every page neither side wrote since the last comparison.</summary>
    private readonly ulong[] _differing;
    private int _differingCount;
    private HartSnapshot _beforeA = new(), _beforeB = new(), _afterA = new(), _afterB = new();

    public LockstepPair(LockstepSide a, LockstepSide b)
    {
        A = a;
        B = b;
        int words = (a.PageCount + 63) / 64;
        _writtenA = new ulong[words];
        _writtenB = new ulong[words];
        _written = new ulong[words];
        _differing = new ulong[words];
    }

    public LockstepSide A { get; }
    public LockstepSide B { get; }
    public ulong Steps => A.Steps;

    /// <summary>Runs both to <paramref name="step"/>, on two threads when the distance is long (the machines share nothing).</summary>
    public void RunTo(ulong step)
    {
        if (step - Math.Min(step, A.Steps) < ParallelThreshold)
        {
            A.RunTo(step);
            B.RunTo(step);
            return;
        }
        try
        {
            Parallel.Invoke(() => A.RunTo(step), () => B.RunTo(step));
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
    }

    /// <summary>Compares everything, RAM included byte for byte; the baseline for later cheap comparisons.</summary>
    public bool FullyEqual()
    {
        bool equal = CaptureAndCompareHarts() && MemoryComparison.AllEqual(A.Machine.Ram, B.Machine.Ram);
        if (equal) Accept();
        return equal;
    }

    /// <summary>Compares registers, CSRs and the pages written since the previous comparison (which found them equal).</summary>
    public bool StillEqual()
    {
        CollectWrittenPages();
        bool equal = CaptureAndCompareHarts() && MemoryComparison.PagesEqual(A.Machine.Ram, B.Machine.Ram, _written);
        if (equal) Accept();
        return equal;
    }

    /// <summary>
    /// Single-steps both to at most <paramref name="limit"/>, comparing after every step; returns
    /// the divergence at the first step that leaves them different, or null. The states must be
    /// equal on entry (after <see cref="FullyEqual"/> or <see cref="StillEqual"/> said so).
    /// </summary>
    public StateDivergence? StepUntilDifferent(ulong limit, InputLog logA, InputLog logB)
    {
        while (Steps < limit)
        {
            ulong next = Steps + 1;
            A.RunTo(next);
            B.RunTo(next);
            CollectWrittenPages();
            bool equal = CaptureAndCompareHarts() && MemoryComparison.PagesEqual(A.Machine.Ram, B.Machine.Ram, _written);
            if (!equal) return Describe(logA, logB);
            Accept();
        }
        return null;
    }

    /// <summary>How the two states differ right now, with no "before" values (for a look at an arbitrary step); null when equal.</summary>
    public StateDivergence? DifferencesNow(InputLog logA, InputLog logB)
    {
        bool equal = CaptureAndCompareHarts() && MemoryComparison.AllEqual(A.Machine.Ram, B.Machine.Ram);
        return equal ? null : Describe(logA, logB, haveBefore: false);
    }

    /// <summary>The divergence as it stands now: <c>_before*</c> hold the (equal) states one step back, <c>_after*</c> the current ones.</summary>
    public StateDivergence Describe(InputLog logA, InputLog logB, bool haveBefore = true)
    {
        var (ma, mb) = (A.Machine, B.Machine);
        HartSnapshot? beforeA = haveBefore ? _beforeA : null, beforeB = haveBefore ? _beforeB : null;
        var x = new List<ValueDifference>();
        var f = new List<ValueDifference>();
        var csrs = new List<ValueDifference>();
        for (uint i = 1; i < 32; i++)
            if (_afterA.X[i] != _afterB.X[i]) x.Add(new(i, beforeA?.X[i], _afterA.X[i], beforeB?.X[i], _afterB.X[i]));
        for (uint i = 0; i < 32; i++)
            if (_afterA.F[i] != _afterB.F[i]) f.Add(new(i, beforeA?.F[i], _afterA.F[i], beforeB?.F[i], _afterB.F[i]));
        for (uint csr = 0; csr < HartSnapshot.CsrCount; csr++)
            if (_afterA.CsrOrNull(csr) != _afterB.CsrOrNull(csr))
                csrs.Add(new(csr, beforeA?.CsrOrNull(csr), _afterA.CsrOrNull(csr), beforeB?.CsrOrNull(csr), _afterB.CsrOrNull(csr)));

        var other = new List<NamedDifference>();
        void Other(string name, ulong va, ulong vb)
        {
            if (va != vb) other.Add(new(name, va, vb));
        }
        Other("steps", _afterA.Steps, _afterB.Steps);
        Other("exceptions taken", _afterA.ExceptionsTaken, _afterB.ExceptionsTaken);
        Other("pc", _afterA.Pc, _afterB.Pc);
        Other("privilege mode", (ulong)_afterA.Mode, (ulong)_afterB.Mode);
        Other("guest clock idle ns", _afterA.IdleNanoseconds, _afterB.IdleNanoseconds);
        Other("guest clock tick offset", _afterA.TickOffset, _afterB.TickOffset);
        Other("CLINT mtimecmp", _afterA.Mtimecmp, _afterB.Mtimecmp);

        var memory = MemoryComparison.Ranges(ma.Ram, mb.Ram, haveBefore ? MemoryBefore : (_, _) => null);

        // The instruction that ran as the divergent step is the one at the common pc one step back.
        ulong pc = beforeA?.Pc ?? _afterA.Pc;
        var mode = beforeA?.Mode ?? _afterA.Mode;
        ulong satp = beforeA?.CsrOrNull(0x180) ?? 0;
        ulong step = _afterA.Steps;
        return new StateDivergence(step, pc, mode, ReadInstruction(pc, mode, satp),
            new MachinePosition(_afterA.Pc, _afterA.Mode, A.ConsoleBytes, A.ConsoleTail()),
            new MachinePosition(_afterB.Pc, _afterB.Mode, B.ConsoleBytes, B.ConsoleTail()),
            x, f, csrs, other, memory, logA.Near(step), logB.Near(step));
    }

    /// <summary>
    /// The bytes of a range before the divergent step, which both sides shared: a side that did not
    /// write the range's pages in that step still holds them. When both wrote there, they are unknown.
    /// </summary>
    private byte[]? MemoryBefore(long offset, int length)
    {
        long first = offset >> MainMemory.PageShift, last = (offset + length - 1) >> MainMemory.PageShift;
        bool Untouched(ulong[] written)
        {
            for (long page = first; page <= last; page++)
                if ((written[page >> 6] >> (int)(page & 63) & 1) != 0) return false;
            return true;
        }
        if (Untouched(_writtenB)) return B.Machine.Ram.Read(B.Machine.Ram.Base + (ulong)offset, length).ToArray();
        if (Untouched(_writtenA)) return A.Machine.Ram.Read(A.Machine.Ram.Base + (ulong)offset, length).ToArray();
        return null;
    }

    /// <summary>
    /// The raw bits at <paramref name="pc"/> for the CLI to disassemble, read through the translation
    /// the instruction was fetched with (<see cref="VirtualMemoryView"/>: no side effects). That is the
    /// hart's current one unless the step itself changed the mode or satp; then only an untranslated
    /// fetch (M-mode, or satp.MODE = Bare) can still be read back.
    /// </summary>
    private uint? ReadInstruction(ulong pc, PrivilegeLevel mode, ulong satp)
    {
        var hart = A.Machine.Hart;
        bool sameTranslation = mode == hart.Mode && satp == hart.ReadCsr(0x180);
        if (!sameTranslation && mode != PrivilegeLevel.Machine && satp >> 60 != 0) return null;
        Span<byte> bits = stackalloc byte[4];
        bool Read(Span<byte> into) => sameTranslation ? VirtualMemoryView.Read(hart, pc, into) : hart.DebugRead(pc, into);
        if (Read(bits)) return BitConverter.ToUInt32(bits);
        // The last halfword of mapped memory can still hold a compressed instruction.
        if (Read(bits[..2])) return BitConverter.ToUInt16(bits);
        return null;
    }

    // ---- tracking differences both ways (TimelinePair): the states may part and join again ----

    /// <summary>
    /// Compares both states in full (every page either RAM ever wrote) and keeps the set of
    /// differing pages as the baseline for <see cref="UpdateDifferences"/>. True when they differ.
    /// </summary>
    public bool TrackDifferences()
    {
        Array.Clear(_differing);
        _differingCount = 0;
        var (ra, rb) = (A.Machine.Ram, B.Machine.Ram);
        for (ulong page = 0; page < ra.PageCount; page++)
            if ((ra.EverWritten(page) || rb.EverWritten(page)) && !ra.Page(page).SequenceEqual(rb.Page(page))) SetDiffering((int)page, true);
        A.MarkCompared();
        B.MarkCompared();
        return DiffersNow();
    }

    /// <summary>
    /// Re-compares only the pages either side wrote since the last comparison (a page neither wrote
    /// holds what it held then, so its verdict stands), then the harts. True when the states differ.
    /// Unlike <see cref="StillEqual"/> it works from different states too: it sees them join again.
    /// </summary>
    public bool UpdateDifferences()
    {
        CollectWrittenPages();
        var (ra, rb) = (A.Machine.Ram, B.Machine.Ram);
        for (int word = 0; word < _written.Length; word++)
        {
            ulong bits = _written[word];
            while (bits != 0)
            {
                int page = word * 64 + System.Numerics.BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                SetDiffering(page, !ra.Page((ulong)page).SequenceEqual(rb.Page((ulong)page)));
            }
        }
        A.MarkCompared();
        B.MarkCompared();
        return DiffersNow();
    }

    /// <summary>
    /// True when some page that differed at the last comparison has been written by neither side
    /// since: it still differs, and so did the states at every step in between.
    /// </summary>
    public bool UntouchedPageStillDiffers()
    {
        if (_differingCount == 0) return false;
        CollectWrittenPages();
        for (int word = 0; word < _differing.Length; word++)
            if ((_differing[word] & ~_written[word]) != 0) return true;
        return false;
    }

    /// <summary>Number of pages whose bytes differ as of the last comparison.</summary>
    public int DifferingPages => _differingCount;

    private void SetDiffering(int page, bool differs)
    {
        ref ulong word = ref _differing[page >> 6];
        ulong bit = 1UL << (page & 63);
        bool was = (word & bit) != 0;
        if (was == differs) return;
        word ^= bit;
        _differingCount += differs ? 1 : -1;
    }

    /// <summary>Differing pages, else the harts: pc, mode and x registers first (cheap), then everything hashed.</summary>
    private bool DiffersNow()
    {
        if (_differingCount > 0) return true;
        var (ha, hb) = (A.Machine.Hart, B.Machine.Hart);
        if (ha.Pc != hb.Pc || ha.Mode != hb.Mode) return true;
        for (int i = 1; i < 32; i++)
            if (ha.GetX(i) != hb.GetX(i)) return true;
        return !CaptureAndCompareHarts();
    }

    private bool CaptureAndCompareHarts()
    {
        _afterA.Capture(A.Machine);
        _afterB.Capture(B.Machine);
        return _afterA.SameAs(_afterB);
    }

    private void CollectWrittenPages()
    {
        Array.Clear(_writtenA);
        Array.Clear(_writtenB);
        A.AddWrittenPages(_writtenA);
        B.AddWrittenPages(_writtenB);
        for (int i = 0; i < _written.Length; i++) _written[i] = _writtenA[i] | _writtenB[i];
    }

    /// <summary>The states just compared equal: they become the baseline for the next comparison and the "before" of a divergence.</summary>
    private void Accept()
    {
        A.MarkCompared();
        B.MarkCompared();
        (_beforeA, _afterA) = (_afterA, _beforeA);
        (_beforeB, _afterB) = (_afterB, _beforeB);
    }
}
