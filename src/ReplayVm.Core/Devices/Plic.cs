using ReplayVm.Core.Memory;
using ReplayVm.Core.State;

namespace ReplayVm.Core.Devices;

/// <summary>
/// SiFive PLIC as on QEMU 7.2's virt (RISC-V PLIC specification 1.0.0): 96 sources (1..95 usable),
/// two contexts for hart 0 — 0 drives mip.MEIP, 1 drives mip.SEIP.
///
/// A source's pending bit follows what its device signals, exactly as QEMU 7.2's sifive_plic does
/// (<c>sifive_plic_irq_request</c>): each time a device drives its line (<see cref="SetLevel"/>,
/// QEMU's <c>qemu_set_irq</c>) the bit becomes that level — set by a call with the line high,
/// cleared by one with it low. A claim clears it; a completion only ends the claim and does not
/// re-pend a source whose line merely stays high: the source is pending again only when its
/// device next drives the line high. Devices drive their lines at the register accesses and
/// events where QEMU's models call <c>qemu_set_irq</c>, so a driver that never acknowledges a
/// level (the 16550's THRE event, say) is interrupted once per event, not in a storm.
/// </summary>
public sealed class Plic(Action interruptStateChanged) : IMmioDevice, IDeviceState
{
    public const int SourceCount = 96;
    public const int ContextCount = 2;
    public const int MachineContext = 0, SupervisorContext = 1;

    private const int WordsPerContext = (SourceCount + 31) / 32;
    /// <summary>QEMU's virt PLIC has 7 priority levels: priorities and thresholds hold 3 bits.</summary>
    private const uint MaxPriority = 7;

    private const ulong PendingBase = 0x1000, EnableBase = 0x2000, EnableStride = 0x80;
    private const ulong ContextBase = 0x20_0000, ContextStride = 0x1000;

    private readonly uint[] _priority = new uint[SourceCount];
    private readonly uint[,] _enable = new uint[ContextCount, WordsPerContext];
    private readonly uint[] _threshold = new uint[ContextCount];
    /// <summary>Claimed and not yet completed ("in flight" at the gateway).</summary>
    private readonly bool[] _claimed = new bool[SourceCount];
    /// <summary>Pending bits, as the devices last drove their lines (cleared by a claim); may be set while claimed.</summary>
    private readonly bool[] _pending = new bool[SourceCount];
    /// <summary>How many of <see cref="_pending"/> are set: the machine asks for the interrupt lines before
    /// every slice, and with nothing pending (nearly always) the answer needs no scan of the sources.</summary>
    private int _pendingCount;

    /// <summary>The line of interrupt source <paramref name="source"/> (1..95), for its device to drive.</summary>
    public Action<bool> Line(int source)
    {
        if (source is < 1 or >= SourceCount) throw new ArgumentOutOfRangeException(nameof(source));
        return level => SetLevel(source, level);
    }

    /// <summary>A device drives its line: the source's pending bit becomes <paramref name="level"/> (QEMU's sifive_plic_irq_request).</summary>
    public void SetLevel(int source, bool level)
    {
        if (source is < 1 or >= SourceCount) throw new ArgumentOutOfRangeException(nameof(source));
        if (_pending[source] == level) return;
        _pending[source] = level;
        _pendingCount += level ? 1 : -1;
        interruptStateChanged();
    }

    public void SaveState(BinaryWriter w)
    {
        foreach (uint p in _priority) w.Write(p);
        foreach (uint e in _enable) w.Write(e);
        foreach (uint t in _threshold) w.Write(t);
        foreach (bool c in _claimed) w.Write(c);
        foreach (bool p in _pending) w.Write(p);
    }

    public void LoadState(BinaryReader r)
    {
        for (int i = 0; i < SourceCount; i++) _priority[i] = r.ReadUInt32();
        for (int c = 0; c < ContextCount; c++)
            for (int word = 0; word < WordsPerContext; word++) _enable[c, word] = r.ReadUInt32();
        for (int c = 0; c < ContextCount; c++) _threshold[c] = r.ReadUInt32();
        for (int i = 0; i < SourceCount; i++) _claimed[i] = r.ReadBoolean();
        for (int i = 0; i < SourceCount; i++) _pending[i] = r.ReadBoolean();
        _pendingCount = _pending.Count(p => p);
    }

    /// <summary>Whether <paramref name="source"/> is pending and not claimed, so a claim could take it.</summary>
    public bool IsPending(int source) => source is > 0 and < SourceCount && _pending[source] && !_claimed[source];

    /// <summary>Whether context <paramref name="context"/>'s interrupt output (MEIP or SEIP) is high; changes nothing.</summary>
    public bool ContextInterrupt(int context) => BestPending(context) != 0;

    /// <summary>The pending, enabled source with the highest priority above the threshold; ties go to the lowest id; 0 if none.</summary>
    private int BestPending(int context)
    {
        if (_pendingCount == 0) return 0;
        int best = 0;
        uint bestPriority = _threshold[context];
        for (int source = 1; source < SourceCount; source++)
        {
            if (_priority[source] <= bestPriority || !IsEnabled(context, source) || !IsPending(source)) continue;
            best = source;
            bestPriority = _priority[source];
        }
        return best;
    }

    private bool IsEnabled(int context, int source) => ((_enable[context, source / 32] >> (source % 32)) & 1) != 0;

    public bool Read(ulong offset, int size, out ulong value)
    {
        value = 0;
        if (size == 8)
        {
            // Split as the bus of a 32-bit peripheral would; reads of claim words only this way.
            if (!Read(offset, 4, out ulong low) || !Read(offset + 4, 4, out ulong high)) return false;
            value = low | high << 32;
            return true;
        }
        if (size != 4 || (offset & 3) != 0) return false;
        value = ReadWord(offset);
        return true;
    }

    /// <summary>
    /// What a read returns, changing nothing: pending bits as the gateways would latch them now,
    /// and the claim register the source a claim would hand out, without claiming it.
    /// </summary>
    public bool Peek(ulong offset, int size, out ulong value)
    {
        value = 0;
        if (size == 8)
        {
            if (!Peek(offset, 4, out ulong low) || !Peek(offset + 4, 4, out ulong high)) return false;
            value = low | high << 32;
            return true;
        }
        if (size != 4 || (offset & 3) != 0) return false;
        value = PeekWord(offset);
        return true;
    }

    private uint PeekWord(ulong offset)
    {
        if (offset >= ContextBase)
        {
            ulong ctx = (offset - ContextBase) / ContextStride, register = (offset - ContextBase) % ContextStride;
            if (ctx < ContextCount && register == 4) return (uint)BestPending((int)ctx);
        }
        return ReadWord(offset);
    }

    private uint ReadWord(ulong offset)
    {
        if (offset < PendingBase)
        {
            ulong source = offset / 4;
            return source < SourceCount ? _priority[source] : 0;
        }
        if (offset < EnableBase)
        {
            // The raw pending bits, claimed sources included, as QEMU reads them.
            ulong word = (offset - PendingBase) / 4;
            if (word >= WordsPerContext) return 0;
            uint bits = 0;
            for (int bit = 0; bit < 32; bit++)
                if (_pending[word * 32 + (ulong)bit]) bits |= 1u << bit;
            return bits;
        }
        if (offset < ContextBase)
        {
            ulong context = (offset - EnableBase) / EnableStride, word = (offset - EnableBase) % EnableStride / 4;
            return context < ContextCount && word < WordsPerContext ? _enable[context, word] : 0;
        }
        ulong ctx = (offset - ContextBase) / ContextStride, register = (offset - ContextBase) % ContextStride;
        if (ctx >= ContextCount) return 0;
        if (register == 0) return _threshold[ctx];
        if (register == 4) return Claim((int)ctx);
        return 0;
    }

    /// <summary>Claim (PLIC spec 1.0.0 ch. 9): hands out the best source and stops it being pending until completed.</summary>
    private uint Claim(int context)
    {
        int source = BestPending(context);
        if (source != 0)
        {
            _claimed[source] = true;
            if (_pending[source]) _pendingCount--;
            _pending[source] = false;
            interruptStateChanged();
        }
        return (uint)source;
    }

    public bool Write(ulong offset, int size, ulong value)
    {
        if (size == 8) return Write(offset, 4, (uint)value) && Write(offset + 4, 4, value >> 32);
        if (size != 4 || (offset & 3) != 0) return false;
        WriteWord(offset, (uint)value);
        interruptStateChanged();
        return true;
    }

    private void WriteWord(ulong offset, uint value)
    {
        if (offset < PendingBase)
        {
            ulong source = offset / 4;
            if (source is > 0 and < SourceCount) _priority[source] = value & MaxPriority;
            return;
        }
        if (offset < EnableBase) return; // pending bits are read-only, as on QEMU 7.2
        if (offset < ContextBase)
        {
            ulong context = (offset - EnableBase) / EnableStride, word = (offset - EnableBase) % EnableStride / 4;
            if (context < ContextCount && word < WordsPerContext)
                _enable[context, word] = word == 0 ? value & ~1u : value; // source 0 does not exist
            return;
        }
        ulong ctx = (offset - ContextBase) / ContextStride, register = (offset - ContextBase) % ContextStride;
        if (ctx >= ContextCount) return;
        if (register == 0 && value <= MaxPriority) _threshold[ctx] = value;
        // Complete: as QEMU, any in-range id ends that source's claim.
        else if (register == 4 && value is > 0 and < SourceCount) _claimed[value] = false;
    }
}
