using ReplayVm.Core.Hart;

namespace ReplayVm.Replay.Timeline;

/// <summary>A retired instruction that wrote a register: when, where, what it was and what it wrote.</summary>
/// <param name="Step">The writing instruction's step: seeking there shows the state just before it ran.</param>
/// <param name="Encoding">The instruction's bits (a compressed one in the low half), or null if its pc could not be read.</param>
/// <param name="Value">The register's value right after the write.</param>
public sealed record RegisterWrite(HartRegister Register, ulong Step, ulong Pc, uint? Encoding, ulong Value);

/// <summary>
/// "When was this register last written": the register counterpart of <see cref="LastWriteBefore"/>,
/// on the hart's register-write watch (a write is an instruction that retires with the register as
/// its destination, whether or not the value changes; x0 is never written).
/// </summary>
public sealed partial class Timeline
{
    /// <summary>The step of the last instruction before the current position that wrote <paramref name="register"/>, or null. The position is unchanged afterwards.</summary>
    public ulong? LastRegisterWriteBefore(HartRegister register, CancellationToken cancel = default) =>
        FindLastRegisterWrite(register, cancel)?.Step;

    /// <summary>
    /// The last write to <paramref name="register"/> by an instruction before the current position
    /// (with its pc, encoding and the value written), or null if there was none, or if
    /// <paramref name="cancel"/> fired first. The position is unchanged afterwards.
    /// </summary>
    public RegisterWrite? FindLastRegisterWrite(HartRegister register, CancellationToken cancel = default)
    {
        var watch = WatchFor(register);
        if (watch is null) return null;
        var here = NewCheckpoint(isExplicit: false);
        ulong focus = _focus;
        try
        {
            return LastWatchHitBefore(watch, cancel) is { } hit ? Describe(hit) : null;
        }
        finally
        {
            Restore(here);
            _focus = focus;
        }
    }

    /// <summary>
    /// Reverse-continue with a watch on <paramref name="register"/>: goes back to just before the
    /// last instruction before the current position that wrote it (as any watchpoint stops going
    /// backwards), or to step 0 when there is none.
    /// </summary>
    public TimelineStop ReverseToRegisterWrite(HartRegister register, CancellationToken cancel = default, IProgress<double>? progress = null)
    {
        var watch = WatchFor(register) ?? throw new ArgumentException($"{register} can never be written", nameof(register));
        return ReverseWhere(watch, _ => true, cancel, progress);
    }

    /// <summary>Runs forward to just after the next instruction that writes <paramref name="register"/>, or to the end.</summary>
    public TimelineStop ContinueToRegisterWrite(HartRegister register, CancellationToken cancel = default, IProgress<double>? progress = null)
    {
        var watch = WatchFor(register) ?? throw new ArgumentException($"{register} can never be written", nameof(register));
        return ContinueWhere(watch, _ => true, cancel, progress);
    }

    /// <summary>
    /// The last hit of <paramref name="watch"/> by an instruction at a step before the current
    /// position, or null (none, or cancelled). Leaves the timeline right after the hit, or anywhere
    /// when there is none: callers restore their position.
    /// </summary>
    private DebugStop? LastWatchHitBefore(Watch watch, CancellationToken cancel)
    {
        ulong origin = Position;
        if (origin == 0) return null;
        // The instruction just before here first: one step, where a reverse scan replays a window.
        Seek(origin - 1, cancel);
        var justBefore = Advance(origin, watch, _ => true, checkHere: false, cancel, null);
        if (justBefore is { Kind: not TimelineStopKind.Cancelled, Hit: { } hit }) return hit;
        if (cancel.IsCancellationRequested || Position != origin) return null;
        var stop = ReverseWhere(watch, _ => true, cancel, null);
        if (stop is not { Kind: TimelineStopKind.Watchpoint, Hit: { } last }) return null;
        Seek(last.Step + 1, cancel); // reverse-continue stops before the write: step over it
        return last;
    }

    /// <summary>A watch on <paramref name="register"/> alone; null for x0, which no instruction writes.</summary>
    private static Watch? WatchFor(HartRegister register)
    {
        if (!register.IsValid) throw new ArgumentException($"not a register: {register}", nameof(register));
        var registers = RegisterWatch.Of(register);
        return registers.IsEmpty ? null : MakeWatch(null, null) with { Registers = registers };
    }

    /// <summary>The write <paramref name="hit"/> reports, read at the position right after it.</summary>
    private RegisterWrite Describe(DebugStop hit)
    {
        var hart = Machine.Hart;
        ulong value = hit.Register.File == RegisterFile.Integer ? hart.GetX(hit.Register.Index) : hart.GetF(hit.Register.Index);
        return new RegisterWrite(hit.Register, hit.Step, hit.Pc, EncodingAt(hit.Pc), value);
    }
}
