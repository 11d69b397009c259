using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ReplayVm.Core.Memory;

namespace ReplayVm.Core.Hart;

/// <summary>
/// Breakpoints at the interpreter's full speed. The interpreter's fast path never leaves a
/// virtual page without coming back to the top of its loop (straight-line code ends at the
/// decode page's always-empty last slot, jumps stay on the fast path only within their page), so
/// breakpoints are looked for only there: a 4096-bit filter over virtual page numbers tells at
/// one load whether the page may hold one. On a page that does, the interpreter runs from a
/// <em>shadow</em> of the page's decodes in which the breakpoint slots are left empty: the fast
/// path stops in front of each breakpoint (an empty slot sends it to the loop's top, where the
/// breakpoint is checked) and runs at full speed everywhere else, on that page too.
///
/// A shadow belongs to a virtual page and is a copy of one physical decode page (its
/// <see cref="BreakpointShadow.Source"/>): when the page's code changes (a new decode page) or
/// the page maps elsewhere, the shadow is rebuilt from the new source on the next visit. Slots
/// the source decodes later are copied in when the fetch path first meets them.
/// </summary>
public sealed unsafe partial class Hart
{
    private const int BreakpointFilterBits = 4096;

    /// <summary>Bit (vpn mod 4096) is set when a breakpoint lies on a virtual page with that number mod 4096.</summary>
    private readonly ulong[] _breakpointPageFilter = new ulong[BreakpointFilterBits / 64];
    /// <summary>The virtual pages holding breakpoints, with the slot indexes of their breakpoints.</summary>
    private readonly Dictionary<ulong, BreakpointShadow> _breakpointShadows = [];
    /// <summary>The last shadow used, looked up without the dictionary (a hot loop's page is visited again and again).</summary>
    private BreakpointShadow? _lastShadow;

    private sealed class BreakpointShadow(ulong virtualPage, int[] breakpointSlots)
    {
        public readonly ulong VirtualPage = virtualPage;
        public readonly int[] BreakpointSlots = breakpointSlots;
        /// <summary>The decode page this is a copy of; null until first used.</summary>
        public DecodedInstruction[]? Source;
        public readonly DecodedInstruction[] Slots = new DecodedInstruction[MainMemory.DecodePageLength];
    }

    /// <summary>Rebuilds the filter and the shadows' descriptions from <see cref="_breakpoints"/>.</summary>
    private void RebuildBreakpointPages()
    {
        Array.Clear(_breakpointPageFilter);
        _breakpointShadows.Clear();
        _lastShadow = null;
        if (_breakpoints is null) return;
        foreach (var page in _breakpoints.GroupBy(pc => pc >> 12))
        {
            ulong vpn = page.Key;
            _breakpointPageFilter[(vpn >> 6) & (BreakpointFilterBits / 64 - 1)] |= 1UL << (int)(vpn & 63);
            var slots = page.Select(pc => (int)(pc & PageMask) >> 1).Distinct().Order().ToArray();
            _breakpointShadows[vpn] = new BreakpointShadow(vpn, slots);
        }
    }

    /// <summary>Whether the virtual page of <paramref name="pc"/> may hold a breakpoint (false: it surely does not).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool BreakpointFilterHits(ulong pc)
    {
        ulong vpn = pc >> 12;
        return (_breakpointPageFilter[(int)(vpn >> 6) & (BreakpointFilterBits / 64 - 1)] & (1UL << (int)(vpn & 63))) != 0;
    }

    /// <summary>Decode pages were dropped, to be reused for other code: no shadow may take one for its
    /// source any longer (each is copied again from the page's new decode page at its next visit).</summary>
    private void ForgetBreakpointShadowSources()
    {
        foreach (var shadow in _breakpointShadows.Values) shadow.Source = null;
    }

    /// <summary>
    /// <paramref name="d"/>, fetched for <paramref name="pc"/> from the decode page <paramref name="source"/>
    /// (null for an uncached fetch), or its place in the shadow of pc's page when that page holds
    /// breakpoints. A breakpoint's own slot (the loop's top has just decided not to stop there: the
    /// run resumes from it) is executed from a copy in the uncached slot, whose empty neighbours send
    /// the next instruction back to the loop's top; its shadow slot stays empty.
    /// </summary>
    private ref DecodedInstruction BreakpointShadowSlot(ulong pc, DecodedInstruction[]? source, ref DecodedInstruction d)
    {
        if (source is null) return ref d; // uncached: its neighbours are empty anyway
        ulong vpn = pc >> 12;
        var shadow = _lastShadow;
        if (shadow is null || shadow.VirtualPage != vpn)
        {
            if (!_breakpointShadows.TryGetValue(vpn, out shadow)) return ref d; // the filter's false positive
            _lastShadow = shadow;
        }
        var slots = shadow.Slots;
        if (!ReferenceEquals(shadow.Source, source))
        {
            // New code on the page, or the page maps elsewhere: copy what is decoded so far.
            Array.Copy(source, slots, slots.Length);
            foreach (int b in shadow.BreakpointSlots) slots[b] = default;
            shadow.Source = source;
        }
        int slot = (int)(pc & PageMask) >> 1;
        if (Array.BinarySearch(shadow.BreakpointSlots, slot) >= 0)
        {
            ref DecodedInstruction uncached = ref MemoryMarshal.GetArrayDataReference(_uncachedSlot);
            uncached = d;
            return ref uncached;
        }
        ref DecodedInstruction s = ref slots[slot];
        if (s.Op == Opcode.NotDecoded) s = d; // decoded into the source since the copy
        return ref s;
    }
}
