using ReplayVm.Core;
using ReplayVm.Core.Input;
using ReplayVm.Core.State;
using ReplayVm.Replay.Input;

namespace ReplayVm.Replay;

/// <summary>Builds a <see cref="Machine"/> from a setup, an input port and a console sink.</summary>
public delegate Machine MachineFactory(MachineSetup setup, IInputPort input, Action<byte> consoleOutput);

/// <summary>Tuning for <see cref="Recorder"/>.</summary>
public sealed record RecorderOptions
{
    /// <summary>Steps between state hashes.</summary>
    public ulong StateHashInterval { get; init; } = TraceHeader.DefaultStateHashInterval;

    /// <summary>Written into the header, for humans (e.g. "replayvm 0.3").</summary>
    public string RecorderName { get; init; } = "ReplayVm";

    public TraceWriterOptions Writer { get; init; } = new();

    /// <summary>How to build the machine; by default <see cref="MachineSetup.Build"/>.</summary>
    public MachineFactory? Factory { get; init; }

    /// <summary>Where the hasher learns which RAM pages changed; null for the default.</summary>
    public IDirtyPageSource? DirtyPages { get; init; }

    /// <summary>
    /// The trace's index sidecar, written as the recording goes (<c>record --checkpoint-every</c>):
    /// told of the machine, its input, output and hash points; the caller completes it once the trace is closed.
    /// </summary>
    public TraceIndex.RecordingIndex? Index { get; init; }
}

/// <summary>How a recording ended.</summary>
public sealed record RecordResult(RunResult Run, ulong Steps, StateHash FinalHash, int HashPoints, long Events);

/// <summary>
/// Records a run: builds the machine with a <see cref="RecordingInputPort"/> around the live
/// input, writes the header, runs in pieces that end on multiples of the hash interval, writes a
/// <see cref="StateHashEvent"/> at step 0 and at each of those points, and an <see cref="EndEvent"/>
/// when the run stops. Stop a recording from another thread with <c>Machine.RequestStop()</c>:
/// it ends cleanly with <see cref="StopReason.HostRequest"/>.
/// </summary>
public sealed class Recorder : IDisposable
{
    private readonly TraceWriter _writer;
    private readonly MachineStateHasher _hasher;
    private readonly ulong _interval;
    private int _hashPoints;
    private RecordResult? _result;
    private readonly TraceIndex.RecordingIndex? _index;

    /// <summary>Builds the machine and writes the trace header to <paramref name="trace"/> (which the recorder then owns).</summary>
    public Recorder(MachineSetup setup, IInputPort liveInput, Action<byte> consoleOutput, Stream trace, RecorderOptions? options = null)
    {
        options ??= new RecorderOptions();
        if (options.StateHashInterval == 0) throw new ArgumentOutOfRangeException(nameof(options), "the state-hash interval must be at least 1 step");
        _interval = options.StateHashInterval;
        _index = options.Index;
        var port = new RecordingInputPort(liveInput, Log);
        // Build first: a setup that cannot load must not leave a half-written trace behind.
        Machine = (options.Factory ?? ((s, i, o) => s.Build(i, o)))(setup, port, _index?.Console(consoleOutput) ?? consoleOutput);
        _index?.Attach(Machine);
        _hasher = new MachineStateHasher(Machine, options.DirtyPages);
        _writer = new TraceWriter(trace, new TraceHeader(setup, _interval, options.RecorderName), options.Writer);
    }

    public Machine Machine { get; }

    public TraceHeader Header => _writer.Header;

    /// <summary>
    /// Runs until the guest exits, traps in a loop, the host requests a stop, or
    /// <paramref name="maxSteps"/> steps have run; then writes the end record. Call once.
    /// </summary>
    public RecordResult Run(ulong maxSteps = ulong.MaxValue)
    {
        if (_result is not null) throw new InvalidOperationException("this recording has already run");
        var hart = Machine.Hart;
        ulong limit = maxSteps > ulong.MaxValue - hart.Steps ? ulong.MaxValue : hart.Steps + maxSteps;
        if (hart.Steps == 0) WriteHash();
        RunResult run;
        while (true)
        {
            ulong nextHash = hart.Steps / _interval * _interval + _interval;
            if (nextHash < hart.Steps) nextHash = ulong.MaxValue;
            ulong target = Math.Min(nextHash, limit);
            run = Machine.Run(target - hart.Steps);
            if (run.Reason != StopReason.InstructionLimit || hart.Steps >= limit) break;
            if (hart.Steps == nextHash) WriteHash();
        }
        var final = _hasher.Compute();
        _writer.Append(new EndEvent(hart.Steps, run.Reason, run.ExitCode, final, run.Detail));
        _writer.Flush();
        _index?.Finish(hart.Steps, _hashPoints + 1); // a replay checks the end record's hash too
        _result = new RecordResult(run, hart.Steps, final, _hashPoints, _writer.EventCount);
        return _result;
    }

    private void WriteHash()
    {
        var hash = _hasher.Compute();
        _writer.Append(new StateHashEvent(Machine.Hart.Steps, hash));
        _hashPoints++;
        _index?.AtHashPoint(Machine.Hart.Steps, hash);
    }

    private void Log(TraceEvent e)
    {
        _writer.Append(e);
        _index?.Logged(e);
    }

    /// <summary>Writes out what is pending and closes the trace (a trace without end record reads as truncated).</summary>
    public void Dispose() => _writer.Dispose();
}
