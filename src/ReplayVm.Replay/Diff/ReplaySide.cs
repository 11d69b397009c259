using ReplayVm.Core;
using ReplayVm.Core.Memory;
using ReplayVm.Replay.Format;

namespace ReplayVm.Replay.Diff;

/// <summary>
/// One trace being replayed for a diff: its <see cref="Replayer"/> (which still checks the trace's
/// own hash points on the way), a tally of its console output, and a mark in RAM's write epochs so
/// that the pages written since the last comparison can be listed without reading RAM.
/// </summary>
internal sealed class ReplaySide
{
    private const int ConsoleTailLength = 32;
    private readonly byte[] _tail = new byte[ConsoleTailLength];
    private uint _since;

    public ReplaySide(string label, TraceFile trace, MachineFactory? factory)
    {
        Label = label;
        Replayer = new Replayer(trace, CountConsoleByte, factory);
        MarkCompared();
    }

    public string Label { get; }
    public Replayer Replayer { get; }
    public Machine Machine => Replayer.Machine;
    public ulong Steps => Machine.Hart.Steps;

    /// <summary>Console bytes the guest has written so far.</summary>
    public long ConsoleBytes { get; private set; }

    /// <summary>The last few console bytes, oldest first.</summary>
    public byte[] ConsoleTail()
    {
        int count = (int)Math.Min(ConsoleBytes, ConsoleTailLength);
        var tail = new byte[count];
        for (int i = 0; i < count; i++) tail[i] = _tail[(ConsoleBytes - count + i) % ConsoleTailLength];
        return tail;
    }

    /// <summary>
    /// Replays up to <paramref name="step"/>. A trace that does not replay on its own (its hash
    /// points or inputs part from the replay) cannot be diffed meaningfully: that is bad input.
    /// </summary>
    public void RunTo(ulong step)
    {
        if (Replayer.RunTo(step) is { } divergence)
            throw new TraceFormatException($"trace {Label} does not replay on this ReplayVm ({divergence}); check it with 'replayvm replay'");
        if (Steps != step)
            throw new TraceFormatException($"trace {Label} stops at step {Steps}, before step {step} it should reach");
    }

    /// <summary>From now on, <see cref="AddWrittenPages"/> reports only pages written after this call.</summary>
    public void MarkCompared() => _since = Machine.Ram.AdvanceEpoch();

    /// <summary>
    /// Sets the bit of every RAM page written since <see cref="MarkCompared"/>. Other epoch users
    /// (the replayer's hasher) only advance the epoch further, which never hides a write from us.
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

    private void CountConsoleByte(byte value)
    {
        _tail[ConsoleBytes % ConsoleTailLength] = value;
        ConsoleBytes++;
    }
}
