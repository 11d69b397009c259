using System.Runtime.CompilerServices;
using ReplayVm.Core.Memory;

namespace ReplayVm.Core.Hart;

public sealed unsafe partial class Hart
{
    // Loads and stores: RAM directly through the array, everything else through the bus. Misaligned
    // accesses succeed, as on QEMU (the spec lets an implementation handle them in hardware, 2.6).
    // A failed access raises the exception and returns false; the caller then leaves rd and pc alone.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Load8(ulong address, out byte value)
    {
        ulong offset = address - _ramBase;
        if (offset < _ramSize)
        {
            value = _ramPointer[offset];
            return true;
        }
        bool ok = LoadSlow(address, 1, out ulong v);
        value = (byte)v;
        return ok;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Load16(ulong address, out ushort value)
    {
        ulong offset = address - _ramBase;
        if (offset < _ramSize - 1)
        {
            value = Unsafe.ReadUnaligned<ushort>(_ramPointer + offset);
            return true;
        }
        bool ok = LoadSlow(address, 2, out ulong v);
        value = (ushort)v;
        return ok;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Load32(ulong address, out uint value)
    {
        ulong offset = address - _ramBase;
        if (offset < _ramSize - 3)
        {
            value = Unsafe.ReadUnaligned<uint>(_ramPointer + offset);
            return true;
        }
        bool ok = LoadSlow(address, 4, out ulong v);
        value = (uint)v;
        return ok;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Load64(ulong address, out ulong value)
    {
        ulong offset = address - _ramBase;
        if (offset < _ramSize - 7)
        {
            value = Unsafe.ReadUnaligned<ulong>(_ramPointer + offset);
            return true;
        }
        return LoadSlow(address, 8, out value);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool LoadSlow(ulong address, int size, out ulong value)
    {
        if (_bus.Read(address, size, out value)) return true;
        RaiseException(ExceptionCause.LoadAccessFault, address);
        return false;
    }

    /// <summary>A store into a page with cached decodes drops them (self-modifying code, loaders).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void NoteCodeWrite(ulong offset, int size)
    {
        if (_decodedPages[offset >> MainMemory.PageShift] is not null || _decodedPages[(offset + (ulong)size - 1) >> MainMemory.PageShift] is not null)
        {
            _ram.InvalidateCode(offset);
            _ram.InvalidateCode(offset + (ulong)size - 1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Store8(ulong address, byte value)
    {
        ulong offset = address - _ramBase;
        if (offset < _ramSize)
        {
            _ramPointer[offset] = value;
            NoteCodeWrite(offset, 1);
            return true;
        }
        return StoreSlow(address, 1, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Store16(ulong address, ushort value)
    {
        ulong offset = address - _ramBase;
        if (offset < _ramSize - 1)
        {
            Unsafe.WriteUnaligned(_ramPointer + offset, value);
            NoteCodeWrite(offset, 2);
            return true;
        }
        return StoreSlow(address, 2, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Store32(ulong address, uint value)
    {
        ulong offset = address - _ramBase;
        if (offset < _ramSize - 3)
        {
            Unsafe.WriteUnaligned(_ramPointer + offset, value);
            NoteCodeWrite(offset, 4);
            return true;
        }
        return StoreSlow(address, 4, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Store64(ulong address, ulong value)
    {
        ulong offset = address - _ramBase;
        if (offset < _ramSize - 7)
        {
            Unsafe.WriteUnaligned(_ramPointer + offset, value);
            NoteCodeWrite(offset, 8);
            return true;
        }
        return StoreSlow(address, 8, value);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool StoreSlow(ulong address, int size, ulong value)
    {
        if (_bus.Write(address, size, value)) return true;
        RaiseException(ExceptionCause.StoreAccessFault, address);
        return false;
    }

    /// <summary>Reads guest physical memory for a debugger or tool, without side effects on RAM; false if unmapped.</summary>
    public bool DebugRead(ulong address, Span<byte> destination)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            if (!_bus.Read(address + (ulong)i, 1, out ulong b)) return false;
            destination[i] = (byte)b;
        }
        return true;
    }
}
