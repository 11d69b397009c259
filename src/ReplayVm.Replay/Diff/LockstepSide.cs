using ReplayVm.Core;
using ReplayVm.Core.Memory;

namespace ReplayVm.Replay.Diff;

/// <summary>
/// One run driven by a <see cref="LockstepPair"/>: a machine that can be moved to a step, its
/// console output, and a mark in RAM's write epochs so that the pages written since the last
/// comparison can be listed without reading RAM. The epochs see every change of a page's bytes —
/// guest stores, DMA, and snapshot restores alike — so the mark stays valid whichever way the
/// machine got to its next position (run forward, or rewound to a checkpoint and run again).
/// </summary>
internal abstract class LockstepSide
{
    private const int ConsoleTailLength = 32;
    private uint _since;

    protected LockstepSide(string label) => Label = label;

    public string Label { get; }
    public abstract Machine Machine { get; }
    public ulong Steps => Machine.Hart.Steps;

    /// <summary>Moves to exactly <paramref name="step"/>; throws <see cref="Format.TraceFormatException"/> when the run cannot get there.</summary>
    public abstract void RunTo(ulong step);

    /// <summary>Console bytes the guest has written so far.</summary>
    public abstract long ConsoleBytes { get; }

    /// <summary>The last few console bytes, oldest first.</summary>
    public abstract byte[] ConsoleTail();

    protected static int TailLength => ConsoleTailLength;

    /// <summary>From now on, <see cref="AddWrittenPages"/> reports only pages written after this call.</summary>
    public void MarkCompared() => _since = Machine.Ram.AdvanceEpoch();

    /// <summary>
    /// Sets the bit of every RAM page written since <see cref="MarkCompared"/>. Other epoch users
    /// (hashers, checkpoints) only advance the epoch further, which never hides a write from us.
    /// </summary>
    public void AddWrittenPages(ulong[] bitmap)
    {
        ReadOnlySpan<uint> epochs = Machine.Ram.PageEpochs;
        int page = 0;
        while (page < epochs.Length)
        {
            int found = epochs[page..].IndexOfAnyInRange(_since, uint.MaxValue);
            if (found < 0) break;
            page += found;
            bitmap[page >> 6] |= 1UL << (page & 63);
            page++;
        }
    }

    public int PageCount => (int)(Machine.Ram.Size >> MainMemory.PageShift);
}
