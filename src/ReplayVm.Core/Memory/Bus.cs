namespace ReplayVm.Core.Memory;

/// <summary>
/// The physical address space: RAM plus memory-mapped devices. The hart reaches RAM directly
/// (its fast path); everything else comes through here. A handful of regions, so a linear scan.
/// </summary>
public sealed class Bus
{
    private readonly record struct Region(ulong Base, ulong Size, IMmioDevice Device);

    private Region[] _regions = [];

    public Bus(MainMemory ram) => Ram = ram;

    public MainMemory Ram { get; }

    public void Map(ulong baseAddress, ulong size, IMmioDevice device)
    {
        foreach (var r in _regions)
            if (baseAddress < r.Base + r.Size && r.Base < baseAddress + size)
                throw new InvalidOperationException($"device at 0x{baseAddress:x} overlaps one at 0x{r.Base:x}");
        _regions = [.. _regions, new Region(baseAddress, size, device)];
    }

    public bool Read(ulong address, int size, out ulong value)
    {
        ulong offset = address - Ram.Base;
        if (offset < Ram.Size && (ulong)size <= Ram.Size - offset)
        {
            value = 0;
            var bytes = Ram.Bytes.AsSpan((int)offset, size);
            for (int i = size - 1; i >= 0; i--) value = value << 8 | bytes[i];
            return true;
        }
        foreach (var r in _regions)
            if (address - r.Base < r.Size && (ulong)size <= r.Size - (address - r.Base))
                return r.Device.Read(address - r.Base, size, out value);
        value = 0;
        return false;
    }

    public bool Write(ulong address, int size, ulong value)
    {
        ulong offset = address - Ram.Base;
        if (offset < Ram.Size && (ulong)size <= Ram.Size - offset)
        {
            Span<byte> bytes = stackalloc byte[8];
            for (int i = 0; i < size; i++) bytes[i] = (byte)(value >> (8 * i));
            Ram.Write(address, bytes[..size]);
            return true;
        }
        foreach (var r in _regions)
            if (address - r.Base < r.Size && (ulong)size <= r.Size - (address - r.Base))
                return r.Device.Write(address - r.Base, size, value);
        return false;
    }
}
