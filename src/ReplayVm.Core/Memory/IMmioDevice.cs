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
}
