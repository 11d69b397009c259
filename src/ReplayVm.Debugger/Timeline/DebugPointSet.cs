using ReplayVm.Core.Hart;
using ReplayVm.Debugger.Gdb;

namespace ReplayVm.Debugger.Timeline;

/// <summary>
/// The breakpoints and watchpoints a client has inserted, as a multiset (gdb may insert the same
/// point twice and then removes it twice), turned into what a timeline run watches for.
/// </summary>
public sealed class DebugPointSet
{
    private readonly List<(BreakpointType Type, ulong Address, ulong Length)> _points = [];

    public bool IsEmpty => _points.Count == 0;

    /// <summary>Adds a point; false for a watchpoint of no bytes or one that wraps past the top of the address space.</summary>
    public bool Insert(BreakpointType type, ulong address, ulong length)
    {
        if (IsWatch(type) && (length == 0 || address + length < address)) return false;
        _points.Add((type, address, length));
        return true;
    }

    public bool Remove(BreakpointType type, ulong address, ulong length) => _points.Remove((type, address, length));

    /// <summary>Pcs of the software and hardware breakpoints (gdb's kind, 2 or 4, does not matter: we stop on the pc).</summary>
    public IReadOnlyCollection<ulong> Breakpoints =>
        _points.Where(p => !IsWatch(p.Type)).Select(p => p.Address).ToHashSet();

    /// <summary>The watched ranges: Z2 on writes, Z3 on reads, Z4 on both.</summary>
    public IReadOnlyList<WatchRange> Watches =>
        _points.Where(p => IsWatch(p.Type))
            .Select(p => new WatchRange(p.Address, p.Length,
                OnRead: p.Type is BreakpointType.ReadWatch or BreakpointType.AccessWatch,
                OnWrite: p.Type is BreakpointType.WriteWatch or BreakpointType.AccessWatch))
            .Distinct().ToList();

    /// <summary>
    /// What gdb should be told about a hit of <paramref name="range"/> by <paramref name="access"/>: the kind of
    /// the point the user set (an access watch reports as awatch even when a write triggered it).
    /// </summary>
    public static WatchKind KindOf(WatchRange range, AccessType access) =>
        range.OnRead && range.OnWrite ? WatchKind.Access : access == AccessType.Load ? WatchKind.Read : WatchKind.Write;

    private static bool IsWatch(BreakpointType type) => type >= BreakpointType.WriteWatch;
}
