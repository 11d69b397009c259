using ReplayVm.Core.Board;

namespace ReplayVm.Core.Hart;

/// <summary>
/// Guest time, derived only from the hart's step count: one step is one nanosecond (the rate QEMU
/// uses with <c>-icount shift=0</c>), and the 10 MHz timebase (mtime, the time CSR) ticks every
/// 100 steps. WFI may skip ahead to the next timer event by adding idle nanoseconds — also a pure
/// function of the guest's state, so replays skip identically.
/// </summary>
public sealed class GuestClock(Hart hart)
{
    public const ulong NanosecondsPerTick = 1_000_000_000 / MemoryMap.TimebaseHz;

    /// <summary>Nanoseconds skipped by WFI.</summary>
    public ulong IdleNanoseconds { get; private set; }

    /// <summary>Added to the tick count when the guest writes mtime.</summary>
    private ulong _tickOffset;

    public ulong Nanoseconds => hart.Steps + IdleNanoseconds;

    public ulong Ticks => Nanoseconds / NanosecondsPerTick + _tickOffset;

    public void SetTicks(ulong ticks) => _tickOffset = ticks - Nanoseconds / NanosecondsPerTick;

    /// <summary>The step count at which <see cref="Ticks"/> first reaches <paramref name="tick"/>
    /// (now, if it already has; <see cref="ulong.MaxValue"/> if never within range).</summary>
    public ulong StepWhenTicksReach(ulong tick)
    {
        ulong now = Ticks;
        if (tick <= now) return hart.Steps;
        ulong ticksAhead = tick - now;
        if (ticksAhead > ulong.MaxValue / NanosecondsPerTick / 2) return ulong.MaxValue;
        // Nanoseconds into the current tick already elapsed count towards the first tick ahead.
        ulong ns = ticksAhead * NanosecondsPerTick - Nanoseconds % NanosecondsPerTick;
        ulong step = hart.Steps + ns;
        return step < hart.Steps ? ulong.MaxValue : step;
    }

    /// <summary>Advances guest time without executing: WFI waiting for a timer at step <paramref name="step"/>.</summary>
    public void SkipIdleUntilStep(ulong step)
    {
        if (step > hart.Steps && step != ulong.MaxValue) IdleNanoseconds += step - hart.Steps;
    }

    public void Restore(ulong idleNanoseconds, ulong tickOffset)
    {
        IdleNanoseconds = idleNanoseconds;
        _tickOffset = tickOffset;
    }

    public ulong TickOffset => _tickOffset;
}
