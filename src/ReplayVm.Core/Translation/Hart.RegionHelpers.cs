using System.Runtime.CompilerServices;
using ReplayVm.Core.Translation;

namespace ReplayVm.Core.Hart;

/// <summary>What translated regions call (see <see cref="RegionCompiler"/>).</summary>
public sealed unsafe partial class Hart
{
    // What a region's A, F/D and CSR instructions call: the interpreter's own executors, wrapped so
    // that the region's IL stays small (the JIT's time to compile a region is the translator's main
    // cost). Each gets the instruction's pc, its block's first step and the block's shape, puts pc
    // and steps where the interpreter has them during the instruction, runs it, and tells the
    // region what to do next. (A load or store that misses its inline fast path calls nothing: the
    // region leaves before it and the interpreter runs it, see RegionCompiler.EmitLoad.)
    /// <summary>Done: the region goes on.</summary>
    internal const int RegionContinue = 0;
    /// <summary>Done, but the slice ended in it (a CSR write; an atomic's store into code, MMIO, a
    /// watchpoint) and the rest of the block does not fit: pc and steps are set after the
    /// instruction; the region leaves.</summary>
    internal const int RegionLeave = 1;
    /// <summary>It trapped: steps count the trap, pc is the trap vector; the region leaves.</summary>
    internal const int RegionTrapped = 2;

    /// <summary>Packs instruction <paramref name="index"/> of a block of <paramref name="count"/> and its length.</summary>
    internal static int RegionShape(int index, int count, int length) => index | count << 8 | length << 16;

    // Optimized at once: tiered compilation would run it instrumented for the first part of a
    // run, and regions reach it millions of times.
    private const MethodImplOptions RegionHelper = MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization;

    /// <summary>An F or D instruction; the region has written its registers back and reloads rd after.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private int RegionFloat(DecodedInstruction* d, ulong pc, ulong steps, int shape)
    {
        EnterRegionHelper(pc, steps, shape);
        return ExecuteFloat(ref *d) ? AfterRegionHelper(pc, steps, shape) : TrappedInRegion();
    }

    /// <summary>An A instruction; the region has written its registers back and reloads rd after.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private int RegionAtomic(DecodedInstruction* d, ulong pc, ulong steps, int shape)
    {
        EnterRegionHelper(pc, steps, shape);
        return ExecuteAtomic(ref *d) ? AfterRegionHelper(pc, steps, shape) : TrappedInRegion();
    }

    /// <summary>A CSR instruction (a write ends the slice, so the region leaves after it); the region has
    /// written its registers back and reloads rd after.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private int RegionCsr(DecodedInstruction* d, ulong pc, ulong steps, int shape)
    {
        EnterRegionHelper(pc, steps, shape);
        return ExecuteCsr(ref *d) ? AfterRegionHelper(pc, steps, shape) : TrappedInRegion();
    }

    /// <summary>Pc and steps as the interpreter has them during the instruction (a trap reads them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EnterRegionHelper(ulong pc, ulong steps, int shape)
    {
        Pc = pc;
        Steps = steps + (ulong)(shape & 0xFF);
    }

    /// <summary>After the instruction completed: the region goes on unless the slice ended in it and the
    /// rest of the block no longer fits, as the interpreter stops right after such an instruction.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int AfterRegionHelper(ulong pc, ulong steps, int shape)
    {
        if (steps + (ulong)((shape >> 8) & 0xFF) <= SliceEnd) return RegionContinue;
        Pc = pc + (ulong)(shape >> 16);
        Steps = steps + (ulong)(shape & 0xFF) + 1;
        return RegionLeave;
    }

    /// <summary>The instruction trapped: the trap counts as its step, as in the interpreter (pc is the trap vector).</summary>
    private int TrappedInRegion()
    {
        Steps++;
        return RegionTrapped;
    }

    /// <summary>What <see cref="RegionExit"/>'s index is when it is no exit link: a transfer to a pc
    /// the region has no link for, an indirect jump, or a leave after a helper set pc and steps.</summary>
    internal const int RegionUnlinkedExit = -1, RegionJumpExit = -2, RegionLeaveExit = -3;

    /// <summary>
    /// A region's exit that did not chain inline, after it has written its registers back: sets pc
    /// and steps (unless a helper set them, <see cref="RegionLeaveExit"/>) and returns the region to
    /// run next when it is known without a lookup — the one linked to exit <paramref name="index"/>
    /// while that link is valid (else the link is left in <see cref="_missedLink"/> for the
    /// dispatcher to fill), or for an indirect jump the one the jump cache holds for
    /// <paramref name="pc"/>; else null.
    /// </summary>
    [MethodImpl(RegionHelper)]
    private TranslatedRegion? RegionExit(ExitLink[] links, int index, ulong pc, ulong steps)
    {
        if (index == RegionLeaveExit) return null;
        Pc = pc;
        Steps = steps;
        if (index >= 0)
        {
            var link = links[index];
            var next = link.Target;
            if (next is not null && next.Epoch == _translationEpoch) return next;
            _missedLink = link;
            return null;
        }
        return index == RegionJumpExit ? RegionJumpTarget(pc) : null;
    }

    /// <summary>The region at an indirect jump's <paramref name="target"/> when the jump cache holds one
    /// that is valid now and may be entered without the dispatcher (see <see cref="TranslatedRegion.Chainable"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private TranslatedRegion? RegionJumpTarget(ulong target)
    {
        var region = JumpCacheSlot(target);
        return region is not null && region.VirtualPc == target && region.Epoch == _translationEpoch && region.Chainable ? region : null;
    }
}
