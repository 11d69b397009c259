using ReplayVm.Core.Hart;

namespace ReplayVm.Replay.Timeline;

/// <summary>A retired store that wrote watched memory: when, where, what it was and the address it stored to.</summary>
/// <param name="Step">The storing instruction's step: seeking there shows the state just before it ran.</param>
/// <param name="Address">The first byte the store wrote (it may start before the range asked about).</param>
/// <param name="Encoding">The instruction's bits (a compressed one in the low half), or null if its pc could not be read.</param>
public sealed record MemoryWrite(ulong Address, ulong Step, ulong Pc, uint? Encoding);

public sealed partial class Timeline
{
    /// <summary>
    /// <see cref="LastWriteBefore"/> with the store's pc, encoding and address: the last write by an
    /// instruction before the current position to any byte of [<paramref name="address"/>,
    /// +<paramref name="length"/>), or null if none (or cancelled). The position is unchanged afterwards.
    /// </summary>
    public MemoryWrite? FindLastMemoryWrite(ulong address, ulong length, CancellationToken cancel = default)
    {
        if (length == 0) return null;
        var here = NewCheckpoint(isExplicit: false);
        ulong focus = _focus;
        try
        {
            var watch = MakeWatch(null, [new WatchRange(address, length, OnRead: false, OnWrite: true)]);
            return LastWatchHitBefore(watch, cancel) is { } hit ? new MemoryWrite(hit.Address, hit.Step, hit.Pc, EncodingAt(hit.Pc)) : null;
        }
        finally
        {
            Restore(here);
            _focus = focus;
        }
    }

    /// <summary>
    /// The bits of the instruction at <paramref name="pc"/> as the hart translates it now, or null if
    /// unmapped. Called right after the instruction ran, not at its step: an interrupt taken as that
    /// step began (a trap vector's first instruction) is not yet taken at the step's position, so the
    /// mode and address space there may not be the instruction's. Only an instruction that writes
    /// satp itself changes them under it.
    /// </summary>
    private uint? EncodingAt(ulong pc)
    {
        var hart = Machine.Hart;
        Span<byte> bytes = stackalloc byte[4];
        if (!VirtualMemoryView.Read(hart, pc, bytes[..2])) return null;
        uint low = (uint)(bytes[0] | bytes[1] << 8);
        if ((low & 3) != 3) return low; // a compressed instruction (unprivileged spec 1.5)
        return VirtualMemoryView.Read(hart, pc + 2, bytes[2..]) ? low | (uint)(bytes[2] | bytes[3] << 8) << 16 : null;
    }
}
