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

    /// <summary>Whether [<paramref name="address"/>, +<paramref name="size"/>) lies wholly in RAM or in one
    /// device's region: where an access of that size could be made. No device is touched.</summary>
    public bool Maps(ulong address, int size)
    {
        ulong offset = address - Ram.Base;
        if (offset < Ram.Size && (ulong)size <= Ram.Size - offset) return true;
        foreach (var r in _regions)
            if (address - r.Base < r.Size && (ulong)size <= r.Size - (address - r.Base))
                return true;
        return false;
    }

    public bool Read(ulong address, int size, out ulong value)
    {
        ulong offset = address - Ram.Base;
        if (offset < Ram.Size && (ulong)size <= Ram.Size - offset)
        {
            value = 0;
            var bytes = Ram.Read(address, size);
            for (int i = size - 1; i >= 0; i--) value = value << 8 | bytes[i];
            return true;
        }
        foreach (var r in _regions)
            if (address - r.Base < r.Size && (ulong)size <= r.Size - (address - r.Base))
                return r.Device.Read(address - r.Base, size, out value);
        value = 0;
        return false;
    }

    /// <summary>
    /// What <see cref="Read"/> would return, without side effects anywhere (RAM as is, devices
    /// through <see cref="IMmioDevice.Peek"/>).
    /// </summary>
    public bool Peek(ulong address, int size, out ulong value)
    {
        ulong offset = address - Ram.Base;
        if (offset < Ram.Size && (ulong)size <= Ram.Size - offset) return Read(address, size, out value);
        if (FindRegion(address, size) is { } r) return r.Device.Peek(address - r.Base, size, out value);
        value = 0;
        return false;
    }

    /// <summary>
    /// A debugger's read of physical memory: copies <paramref name="destination"/>.Length bytes from
    /// <paramref name="address"/> without changing anything (see <see cref="IMmioDevice.Peek"/>); false if
    /// any byte is unmapped or its device rejects every width. A read of exactly 1, 2, 4 or 8
    /// naturally aligned bytes is one access of that width, as a guest load would be; anything
    /// else is split at each device into accesses of its register width.
    /// </summary>
    public bool Peek(ulong address, Span<byte> destination)
    {
        int length = destination.Length;
        if (length is 1 or 2 or 4 or 8 && (address & (ulong)(length - 1)) == 0
            && FindRegion(address, length) is not null && Peek(address, length, out ulong whole))
        {
            for (int i = 0; i < length; i++) destination[i] = (byte)(whole >> (8 * i));
            return true;
        }
        int at = 0;
        while (at < length)
        {
            ulong a = address + (ulong)at;
            ulong ramOffset = a - Ram.Base;
            if (ramOffset < Ram.Size)
            {
                int run = (int)Math.Min((ulong)(length - at), Ram.Size - ramOffset);
                Ram.Read(a, run).CopyTo(destination[at..]);
                at += run;
                continue;
            }
            if (FindRegion(a, 1) is not { } r) return false;
            int width = r.Device.RegisterWidth;
            ulong start = a & ~(ulong)(width - 1);
            int taken;
            if (start >= r.Base && start - r.Base <= r.Size - (ulong)width && r.Device.Peek(start - r.Base, width, out ulong word))
            {
                int skip = (int)(a - start);
                taken = Math.Min(width - skip, length - at);
                for (int i = 0; i < taken; i++) destination[at + i] = (byte)(word >> (8 * (skip + i)));
            }
            else if (r.Device.Peek(a - r.Base, 1, out ulong b))
            {
                destination[at] = (byte)b;
                taken = 1;
            }
            else return false;
            at += taken;
        }
        return true;
    }

    private Region? FindRegion(ulong address, int size)
    {
        foreach (var r in _regions)
            if (address - r.Base < r.Size && (ulong)size <= r.Size - (address - r.Base))
                return r;
        return null;
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
