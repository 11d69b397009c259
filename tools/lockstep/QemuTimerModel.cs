using ReplayVm.Core;
using ReplayVm.Core.Hart;

namespace ReplayVm.Lockstep;

/// <summary>
/// Where QEMU 7.2's CLINT timer fires, as opposed to ReplayVm's. On a write of mtimecmp QEMU arms
/// its timer at <c>now_ns + (mtimecmp - mtime) * 100</c> (riscv_aclint_mtimer_write_timecmp), where
/// mtime is <c>floor(now_ns / 100)</c>: it fires <c>now_ns mod 100</c> nanoseconds after mtime actually
/// reaches mtimecmp. ReplayVm fires at the tick boundary. While the hart polls, that moves the
/// interrupt by up to 99 instructions; across a WFI (QEMU <c>-icount sleep=off</c> jumps to the
/// deadline) it leaves QEMU's clock up to 99 ns ahead.
/// </summary>
public sealed class QemuTimerModel
{
    private ulong _lastCompare = ulong.MaxValue;

    /// <summary>QEMU's nanosecond deadline for the current mtimecmp, or null before any write.</summary>
    public ulong? Deadline { get; private set; }

    /// <summary>After each ReplayVm step: notice an mtimecmp write (the clocks agree up to here).</summary>
    public void Observe(Machine machine, ulong nanosecondsBeforeStep)
    {
        ulong compare = machine.Clint.Mtimecmp;
        if (compare == _lastCompare) return;
        _lastCompare = compare;
        ulong now = nanosecondsBeforeStep + 1;
        ulong ticks = now / GuestClock.NanosecondsPerTick + machine.Hart.Clock.TickOffset;
        Deadline = compare > ticks && compare - ticks < ulong.MaxValue / 200
            ? now + (compare - ticks) * GuestClock.NanosecondsPerTick
            : null;
    }

    /// <summary>How many nanoseconds QEMU's timer fires after mtime reaches mtimecmp (0 when unknown or none).</summary>
    public ulong Lateness(Machine machine)
    {
        if (Deadline is not { } deadline) return 0;
        ulong boundary = (machine.Clint.Mtimecmp - machine.Hart.Clock.TickOffset) * GuestClock.NanosecondsPerTick;
        return deadline > boundary ? deadline - boundary : 0;
    }

    /// <summary>After a WFI that skipped ReplayVm's clock to its own deadline: move it on to QEMU's.</summary>
    public bool FollowIdleSkip(Machine machine, ulong idleBefore)
    {
        var clock = machine.Hart.Clock;
        if (clock.IdleNanoseconds == idleBefore || Deadline is not { } deadline || clock.Nanoseconds >= deadline) return false;
        clock.Restore(clock.IdleNanoseconds + (deadline - clock.Nanoseconds), clock.TickOffset);
        return true;
    }
}
