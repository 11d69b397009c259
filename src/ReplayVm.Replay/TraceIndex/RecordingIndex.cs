using ReplayVm.Core;
using ReplayVm.Core.Hart;
using ReplayVm.Core.State;
using ReplayVm.Replay.Timeline;

namespace ReplayVm.Replay.TraceIndex;

/// <summary>
/// The sidecar a recorder writes as it records (<c>record --checkpoint-every N</c>), so that a
/// fresh trace opens with its snapshots, trap list and executed-page lists at once instead of
/// replaying it first. Each snapshot is taken at the first hash point at least
/// <see cref="Every"/> steps after the previous one, exactly as <see cref="TraceIndexBuilder"/>
/// places them, and described by the same records. The header names the trace by its hash, known
/// only when the trace is finished, so the records go to a working file first
/// (<c>TRACE.rvindex.tmp-PID-N</c>) and <see cref="Complete"/> writes the sidecar beside it and
/// renames it into place; a recording killed on the way leaves no sidecar (only a working file a
/// later run ignores), never a wrong one. Used on the recorder's thread only.
/// </summary>
public sealed class RecordingIndex : IDisposable
{
    private static int s_files;
    private readonly string _recordsPath;
    private readonly FileStream _records;
    private readonly TraceIndexWriter _writer;
    private readonly ExecutedPageLog _executed = new();
    private readonly StoredPageLog _stored = new();
    private readonly LoadedPageLog _loaded = new();
    private readonly TrapCollector _traps;
    private readonly List<byte> _output = [];
    private readonly long _budget;
    private Machine? _machine;
    private int _console, _clock, _entropy;
    private ulong _spacing, _due, _steps;
    private bool _finished;

    /// <summary>Starts the working file beside <paramref name="tracePath"/>.</summary>
    public RecordingIndex(string tracePath, ulong every, long budget = TraceIndexFormat.DefaultBudget)
    {
        if (every == 0) throw new ArgumentOutOfRangeException(nameof(every), "the snapshot interval must be at least 1 step");
        if (budget < TraceIndexFormat.MinBudget) throw new ArgumentOutOfRangeException(nameof(budget), $"the index budget must be at least {TraceIndexFormat.MinBudget} bytes");
        (TracePath, Every, _budget, _spacing, _due) = (tracePath, every, budget, every, every);
        _recordsPath = $"{TraceIndexFormat.SidecarPath(tracePath)}.tmp-{Environment.ProcessId}-{Interlocked.Increment(ref s_files)}";
        _records = new FileStream(_recordsPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
        _writer = new TraceIndexWriter(_records, budget);
        _traps = new TrapCollector(_executed);
    }

    public string TracePath { get; }

    /// <summary>Steps between snapshots asked for (they sit on the trace's hash points).</summary>
    public ulong Every { get; }

    /// <summary>Snapshots written so far.</summary>
    public int Snapshots => _writer.Snapshots;

    /// <summary>Wraps the guest's console output so the records carry it; call before the machine is built.</summary>
    internal Action<byte> Console(Action<byte> output) => b =>
    {
        _output.Add(b);
        output(b);
    };

    /// <summary>Follows <paramref name="machine"/> from its start: the trap and executed-page hooks of its hart.</summary>
    internal void Attach(Machine machine)
    {
        _machine = machine;
        machine.Hart.TrapObserver = _traps;
        machine.Hart.ExecutedPages = _executed;
        machine.Hart.StoredPages = _stored;
        machine.Hart.LoadedPages = _loaded;
        _executed.NotePc(machine.Hart.Pc);
    }

    /// <summary>Counts a logged input event: the input cursor each snapshot records.</summary>
    internal void Logged(TraceEvent e)
    {
        switch (e)
        {
            case ConsoleInputEvent: _console++; break;
            case WallClockEvent: _clock++; break;
            case EntropyEvent: _entropy++; break;
        }
    }

    /// <summary>At a hash point the recorder has just written: a snapshot there when one is due.</summary>
    internal void AtHashPoint(ulong step, StateHash hash)
    {
        if (_machine is not { } machine || step == 0 || step < _due) return;
        var hart = machine.Hart;
        _writer.AddTraps(_traps.Found, step);
        _traps.Found.Clear();
        _executed.NotePc(hart.Pc);
        if (_writer.TryAdd(machine.CaptureSnapshot(), hash, new InputCursor(_console, _clock, _entropy), _output, _executed.Pages(), _stored.Pages(), _loaded.Pages()))
        {
            _executed.Clear();
            hart.ExecutedPagesCleared();
            _stored.Clear();
            hart.StoredPagesCleared();
            _loaded.Clear();
            hart.LoadedPagesCleared();
            _executed.NotePc(hart.Pc);
            _due = step + _spacing;
        }
        else
        {
            // Over budget: further apart from here, as the builder does.
            _spacing = _spacing > ulong.MaxValue / 2 ? ulong.MaxValue : _spacing * 2;
            _due = step > ulong.MaxValue - _spacing ? ulong.MaxValue : step + _spacing;
        }
    }

    /// <summary>The recording has ended at <paramref name="steps"/> with its end record written: the sidecar's end record.</summary>
    internal void Finish(ulong steps, int hashPoints)
    {
        if (_machine is not { } machine || _finished) return;
        _writer.AddTraps(_traps.Found, steps);
        _traps.Found.Clear();
        _executed.NotePc(machine.Hart.Pc);
        _writer.Finish(hashPoints, steps, ReplayOutcome.Identical, _executed.Pages(), _stored.Pages(), _loaded.Pages());
        machine.Hart.ExecutedPages = null;
        machine.Hart.StoredPages = null;
        machine.Hart.LoadedPages = null;
        machine.Hart.TrapObserver = null;
        (_finished, _steps) = (true, steps);
    }

    /// <summary>
    /// Once the trace file is complete and closed: writes the sidecar (header naming the trace by
    /// its hash, then the records) to a working file, renames it over <c>TRACE.rvindex</c>, and
    /// returns its path and size. Null (and nothing written) when the recording did not finish.
    /// </summary>
    public (string Path, long Bytes)? Complete(TraceHeader traceHeader)
    {
        if (!_finished || _machine is not { } machine) return null;
        var header = new TraceIndexHeader(TraceIdentity.OfFile(TracePath), traceHeader.BoardRevision, traceHeader.HasherVersion,
            HartSnapshot.ImageVersion, traceHeader.StateHashInterval, Every, machine.Ram.PageCount, _budget);
        string sidecar = TraceIndexFormat.SidecarPath(TracePath);
        string finished = _recordsPath + ".done";
        try
        {
            using (var output = new FileStream(finished, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                output.Write(TraceIndexWriter.HeaderBytes(header));
                _records.Flush();
                _records.Position = 0;
                _records.CopyTo(output);
                output.Flush(flushToDisk: true);
            }
            File.Move(finished, sidecar, overwrite: true);
            return (sidecar, new FileInfo(sidecar).Length);
        }
        finally
        {
            if (File.Exists(finished)) File.Delete(finished);
        }
    }

    /// <summary>Deletes the working file (the sidecar, once <see cref="Complete"/> wrote it, stays).</summary>
    public void Dispose()
    {
        _records.Dispose();
        try
        {
            File.Delete(_recordsPath);
        }
        catch (IOException)
        {
        }
    }
}
