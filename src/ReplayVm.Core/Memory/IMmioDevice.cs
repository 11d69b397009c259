namespace ReplayVm.Core.Memory;

/// <summary>
/// A memory-mapped device. It sees offsets from wherever the board placed it, never absolute
/// addresses, so one device type can sit at any base. <paramref name="size"/> is 1, 2, 4 or 8.
/// </summary>
public interface IMmioDevice
{
    /// <summary>Reads a value; returns false for an access the device rejects (the hart raises an access fault).</summary>
    bool Read(ulong offset, int size, out ulong value);

    /// <summary>Writes a value; returns false for an access the device rejects.</summary>
    bool Write(ulong offset, int size, ulong value);

    /// <summary>
    /// What <see cref="Read"/> would return (value and acceptance) without changing any state of
    /// the device, the machine or its input: a debugger's or inspector's view. History must not
    /// depend on whether anyone looked, so a register whose read has a side effect (a FIFO pop, a
    /// PLIC claim, an IIR read that clears the THRE event) answers what the read would give and
    /// leaves the effect undone. A register whose value would have to be fetched from outside the
    /// machine (the RTC's wall clock) answers zero.
    /// </summary>
    bool Peek(ulong offset, int size, out ulong value);

    /// <summary>
    /// The width of the device's registers in bytes (1, 2, 4 or 8): a debugger reading a range that
    /// is not one naturally aligned access of 1, 2, 4 or 8 bytes reads it in accesses of this width,
    /// as a driver would.
    /// </summary>
    int RegisterWidth => 4;
}
