using ReplayVm.Core;
using ReplayVm.Replay.Format;

namespace ReplayVm.Replay.Diff;

/// <summary>
/// One trace being replayed for a diff from step 0 with a <see cref="Replayer"/> (which still
/// checks the trace's own hash points on the way), and a tally of its console output.
/// </summary>
internal sealed class ReplaySide : LockstepSide
{
    private readonly byte[] _tail = new byte[TailLength];
    private long _consoleBytes;

    public ReplaySide(string label, TraceFile trace, MachineFactory? factory) : base(label)
    {
        Replayer = new Replayer(trace, CountConsoleByte, factory);
        MarkCompared();
    }

    public Replayer Replayer { get; }
    public override Machine Machine => Replayer.Machine;

    public override long ConsoleBytes => _consoleBytes;

    public override byte[] ConsoleTail()
    {
        int count = (int)Math.Min(_consoleBytes, TailLength);
        var tail = new byte[count];
        for (int i = 0; i < count; i++) tail[i] = _tail[(_consoleBytes - count + i) % TailLength];
        return tail;
    }

    /// <summary>
    /// Replays up to <paramref name="step"/>. A trace that does not replay on its own (its hash
    /// points or inputs part from the replay) cannot be diffed meaningfully: that is bad input.
    /// </summary>
    public override void RunTo(ulong step)
    {
        if (Replayer.RunTo(step) is { } divergence)
            throw new TraceFormatException($"trace {Label} does not replay on this ReplayVm ({divergence}); check it with 'replayvm replay'");
        if (Steps != step)
            throw new TraceFormatException($"trace {Label} stops at step {Steps}, before step {step} it should reach");
    }

    private void CountConsoleByte(byte value)
    {
        _tail[_consoleBytes % TailLength] = value;
        _consoleBytes++;
    }
}
