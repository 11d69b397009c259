using ReplayVm.Replay.TraceIndex;

namespace ReplayVm.Replay.Timeline;

/// <summary>
/// Starting from the trace's index sidecar. The sidecar is a cache and is never trusted further
/// than it is checked: a snapshot composed from it is restored, its state hash computed and
/// compared with the trace's own at that step (snapshots sit on hash points), and only then used.
/// Anything wrong (a page chunk damaged since it was opened, a hash that differs, device bytes
/// this build cannot load) drops the sidecar for the rest of the session with one notice, and the
/// timeline goes on from its checkpoints in memory, as without an index.
/// A sidecar being built in the background (<see cref="TimelineOptions.IndexBuild"/>) is followed
/// as it grows: its snapshots are used as they appear, checked exactly as those of a finished one.
/// </summary>
public sealed partial class Timeline
{
    private TraceIndexFile? _index;
    private Action<string>? _indexNotice;
    private readonly IndexPageCache _indexPages = new();
    private Checkpoint? _lastImported;
    private TimelineOptions _options = new();
    private BackgroundIndexBuild? _build;
    /// <summary>The build given, kept after it ends (<see cref="_build"/> is the one still followed).</summary>
    private BackgroundIndexBuild? _givenBuild;
    private TimelineIndex? _trapIndex;

    /// <summary>The index sidecar in use, or null (none given, or dropped as damaged: see <see cref="IndexProblem"/>).</summary>
    public TraceIndexFile? Index => _index;

    /// <summary>Why the index was dropped during the session, or null.</summary>
    public string? IndexProblem { get; private set; }

    /// <summary>Snapshots taken from the index so far (each checked against the trace).</summary>
    public int IndexSnapshotsRestored { get; private set; }

    private void UseIndex(TimelineOptions options)
    {
        _options = options;
        _index = options.Index;
        _build = _givenBuild = options.Index is null ? options.IndexBuild : null;
        _indexNotice = options.IndexNotice;
        _scanJobs = Math.Max(1, options.ScanJobs ?? Environment.ProcessorCount);
    }

    /// <summary>
    /// The latest checkpoint at or before <paramref name="target"/>: in memory, or composed from the
    /// index when that is later (and later than <paramref name="runningFrom"/>, the position a
    /// forward run would start from). A checkpoint from the index is left restored (the position is its step).
    /// </summary>
    private Checkpoint NearestStart(ulong target, ulong? runningFrom)
    {
        FollowIndexBuild();
        var inMemory = Checkpoints.Nearest(target)!; // step 0 is always there
        if (_index is not { } index) return inMemory;
        int i = index.LatestAtOrBefore(target);
        if (i < 0) return inMemory;
        var record = index.Snapshots[i];
        if (record.Step <= inMemory.Step || (runningFrom is { } from && record.Step <= from)) return inMemory;
        try
        {
            var sharesWith = _lastImported is { } last && Checkpoints.All.Contains(last) ? last.Snapshot : null;
            var snapshot = index.Compose(Machine, i, _indexPages, sharesWith);
            Machine.RestoreSnapshot(snapshot);
            var now = _hasher.Compute();
            int point = FirstHashIndexAfter(record.Step) - 1;
            if (point < 0 || _hashSteps[point] != record.Step || _hashValues[point] != now)
                throw new TraceIndexException($"its snapshot at step {record.Step} restores to state hash {now}, which the trace does not have there");
            AdoptIndexOutput(index.OutputUpTo(i));
            _input.Rewind(record.Cursor);
            _outputLength = record.OutputEnd;
            CheckHashHere(); // marks the hash point there checked: it was, just now
            var checkpoint = Checkpoints.Add(new Checkpoint(snapshot, record.Cursor, record.OutputEnd, isExplicit: false));
            _lastImported = checkpoint;
            IndexSnapshotsRestored++;
            return checkpoint;
        }
        catch (Exception e) when (e is TraceIndexException or InvalidDataException or EndOfStreamException or ArgumentException or IOException)
        {
            DropIndex(e.Message);
            Restore(inMemory);
            return inMemory;
        }
    }

    /// <summary>
    /// Takes in what a background build has written since the last look: opens its file once the
    /// header is there, then reads the records added. A finished build (whatever its outcome) is
    /// followed no further; snapshots already read stay usable (each is checked when restored).
    /// </summary>
    private void FollowIndexBuild()
    {
        if (_build is not { } build) return;
        var state = build.State; // read first: once it has ended, the complete length is final
        try
        {
            if (_index is null) _index = build.OpenGrowing(Trace);
            else if (!_index.IsComplete) _index.Extend(build.CompleteLength);
        }
        catch (TraceIndexException e)
        {
            _build = null;
            DropIndex(e.Message, build.SidecarPath);
            return;
        }
        if (state != IndexBuildState.Running) _build = null;
    }

    /// <summary>
    /// Where the recording's traps and interrupts are (the debugger's next-trap, prev-trap and
    /// timeline marks): the sidecar's own list when it holds them all; the background build's, which
    /// finds them on its way; else a <see cref="TimelineIndex"/> scanning the recording on a thread
    /// of its own. The first call decides; later ones return the same index. Not for a live timeline.
    /// </summary>
    public TimelineIndex TrapIndex()
    {
        if (_trapIndex is { } known) return known;
        if (IsLive) throw new InvalidOperationException("a live recording's traps are not indexed: it is still growing");
        // A build this session started is asked first, whether or not it has finished yet: the
        // answer must not depend on how far the build's thread got before this call.
        if (_givenBuild is { } build && build.Traps.State is TimelineIndexState.Running or TimelineIndexState.Complete)
            return _trapIndex = build.Traps;
        FollowIndexBuild();
        if (_index is { TrapsComplete: true } index) return _trapIndex = TimelineIndex.Of(End, index.Traps, index.Path);
        return _trapIndex = new TimelineIndex(Trace, new TimelineIndexOptions { Disks = _options.Disks });
    }

    /// <summary>Whether a background build is still being followed.</summary>
    public bool FollowingIndexBuild => _build is not null;

    /// <summary>Console output up to an index snapshot: extends what the timeline has seen, and must agree with it where both reach.</summary>
    private void AdoptIndexOutput(ReadOnlySpan<byte> output)
    {
        int common = Math.Min(output.Length, _output.Count);
        for (int k = 0; k < common; k++)
            if (_output[k] != output[k]) throw new TraceIndexException($"its console output differs from the replay's at byte {k}");
        for (int k = common; k < output.Length; k++) _output.Add(output[k]);
    }

    private void DropIndex(string problem, string? path = null)
    {
        IndexProblem = problem;
        _indexNotice?.Invoke($"index {_index?.Path ?? path} ignored from now on: {problem} (run replayvm index to rebuild it)");
        _index = null;
        _indexPages.Pages.Clear();
    }
}
