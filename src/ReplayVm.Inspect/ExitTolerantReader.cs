using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Microsoft.Diagnostics.Runtime;

namespace ReplayVm.Inspect;

/// <summary>
/// ClrMD's live-process reader throws when the process has gone, and it throws inside the
/// runtime's data-access callbacks, where an exception cannot be caught: the inspector itself
/// would abort. This wrapper turns such a read into "no bytes" and remembers it, so the inspection
/// fails in managed code and says the process exited.
/// </summary>
internal sealed class ExitTolerantReader(IDataReader inner) : IDataReader
{
    /// <summary>Set once a read failed because the target could not be read any more.</summary>
    public bool TargetLost { get; private set; }

    public string DisplayName => inner.DisplayName;
    public bool IsThreadSafe => inner.IsThreadSafe;
    public OSPlatform TargetPlatform => inner.TargetPlatform;
    public Architecture Architecture => inner.Architecture;
    public int ProcessId => inner.ProcessId;
    public int PointerSize => inner.PointerSize;

    public IEnumerable<ModuleInfo> EnumerateModules() => Guard(() => inner.EnumerateModules().ToList(), []);

    public bool GetThreadContext(uint threadID, uint contextFlags, Span<byte> context)
    {
        try
        {
            return inner.GetThreadContext(threadID, contextFlags, context);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            TargetLost = true;
            return false;
        }
    }

    public void FlushCachedData() => inner.FlushCachedData();

    public int Read(ulong address, Span<byte> buffer)
    {
        try
        {
            return inner.Read(address, buffer);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            TargetLost = true;
            return 0;
        }
    }

    public bool Read<T>(ulong address, out T value) where T : unmanaged
    {
        Span<byte> bytes = stackalloc byte[Marshal.SizeOf<T>()];
        if (Read(address, bytes) == bytes.Length)
        {
            value = MemoryMarshal.Read<T>(bytes);
            return true;
        }
        value = default;
        return false;
    }

    public T Read<T>(ulong address) where T : unmanaged => Read(address, out T value) ? value : default;

    public bool ReadPointer(ulong address, out ulong value)
    {
        bool ok = Read(address, out ulong pointer);
        value = pointer;
        return ok;
    }

    public ulong ReadPointer(ulong address) => ReadPointer(address, out ulong value) ? value : 0;

    private T Guard<T>(Func<T> read, T fallback)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            TargetLost = true;
            return fallback;
        }
    }
}
