using FsCheck;
using FsCheck.Fluent;
using ReplayVm.Core;
using ReplayVm.Core.State;

namespace ReplayVm.Replay.Tests;

/// <summary>FsCheck generators for events and headers.</summary>
internal static class TraceGen
{
    public static Gen<ulong> UInt64 =>
        Gen.OneOf(
            Gen.Choose(0, 1000).Select(i => (ulong)i),
            from hi in Gen.Choose(int.MinValue, int.MaxValue)
            from lo in Gen.Choose(int.MinValue, int.MaxValue)
            select (ulong)(uint)hi << 32 | (uint)lo,
            Gen.Elements(0UL, ulong.MaxValue, 1UL << 63, 127UL, 128UL));

    public static Gen<byte[]> Bytes(int min, int max) =>
        from n in Gen.Choose(min, max)
        from bytes in Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), n)
        select bytes;

    public static Gen<StateHash> Hash => from h in UInt64 from l in UInt64 select new StateHash(h, l);

    /// <summary>
    /// One event payload, placed at <paramref name="step"/>. State hashes only where the format
    /// allows one (<paramref name="hashAllowed"/>): on a multiple of the interval, after the last.
    /// </summary>
    public static Gen<TraceEvent> EventAt(ulong step, bool hashAllowed) => hashAllowed
        ? Gen.OneOf(NonHashAt(step), Hash.Select(h => (TraceEvent)new StateHashEvent(step, h)))
        : NonHashAt(step);

    private static Gen<TraceEvent> NonHashAt(ulong step) => Gen.OneOf(
        Bytes(1, 40).Select(b => (TraceEvent)new ConsoleInputEvent(step, b)),
        UInt64.Select(t => (TraceEvent)new WallClockEvent(step, t)),
        Bytes(1, 40).Select(b => (TraceEvent)new EntropyEvent(step, b)),
        from index in Gen.Choose(0, 7)
        from size in UInt64
        from sha in Bytes(32, 32)
        select (TraceEvent)new DiskHashEvent(step, (uint)index, size, sha));

    public static Gen<TraceEvent> EndAt(ulong step) =>
        from reason in Gen.Elements(StopReason.GuestExit, StopReason.InstructionLimit, StopReason.TrapLoop, StopReason.HostRequest)
        from exit in Gen.Choose(int.MinValue, int.MaxValue)
        from hash in Hash
        from detail in Gen.Elements<string?>(null, "", "trap loop at pc 0x80000000", "ünïcødé")
        select (TraceEvent)new EndEvent(step, reason, exit, hash, detail);

    /// <summary>Events in step order, optionally closed by an end record.</summary>
    public static Gen<List<TraceEvent>> Events =>
        from deltas in Gen.ListOf(Gen.OneOf(Gen.Choose(0, 5), Gen.Choose(0, 100_000)))
        from withEnd in Gen.Elements(true, false)
        from events in Sequence(deltas, withEnd)
        select events;

    private static Gen<List<TraceEvent>> Sequence(IReadOnlyList<int> deltas, bool withEnd)
    {
        Gen<List<TraceEvent>> gen = Gen.Constant(new List<TraceEvent>());
        ulong step = 0;
        for (int i = 0; i < deltas.Count; i++)
        {
            step += (ulong)deltas[i];
            ulong at = step;
            // Header intervals are larger than any generated run, so step 0 is the one hash point (see Header).
            bool hashAllowed = i == 0 && at == 0;
            gen = from list in gen from e in EventAt(at, hashAllowed) select Append(list, e);
        }
        if (withEnd)
        {
            ulong at = step + 17;
            gen = from list in gen from e in EndAt(at) select Append(list, e);
        }
        return gen;
    }

    private static List<TraceEvent> Append(List<TraceEvent> list, TraceEvent e) => [.. list, e];

    public static Gen<TraceHeader> Header =>
        from ramMiB in Gen.Choose(1, 4096)
        from board in Gen.Elements(BoardKind.Virt, BoardKind.Spike)
        from bootargs in Gen.Elements<string?>(null, "", "console=ttyS0 earlycon")
        from image in Bytes(0, 3000)
        from role in Gen.Elements(ImageRole.Elf, ImageRole.Raw, ImageRole.Bios)
        from address in UInt64
        from interval in Gen.Choose(1 << 30, int.MaxValue)
        select new TraceHeader(
            new MachineSetup(new MachineConfig { RamSize = (ulong)ramMiB << 20, Board = board, Bootargs = bootargs },
                [new GuestImage(role, "guest.bin", address, image), new GuestImage(ImageRole.Kernel, "kernel", 0x8020_0000, [1, 2, 3, 3, 3, 3, 3, 3])]),
            (ulong)interval, "tests");
}
