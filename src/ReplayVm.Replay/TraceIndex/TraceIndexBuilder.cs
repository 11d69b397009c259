using ReplayVm.Core;
using ReplayVm.Core.Hart;
using ReplayVm.Core.State;

namespace ReplayVm.Replay.TraceIndex;

/// <summary>How to build a sidecar.</summary>
public sealed record TraceIndexOptions
{
    /// <summary>
    /// Steps between snapshots; each is taken at the first hash point of the trace at least this far
    /// past the previous one (snapshots sit on hash points so that restoring one can be checked
    /// against the trace). Null: <see cref="TraceIndexBuilder.DefaultEvery"/>.
    /// </summary>
    public ulong? Every { get; init; }

    /// <summary>Most bytes the sidecar may take (<c>--budget</c>).</summary>
    public long Budget { get; init; } = TraceIndexFormat.DefaultBudget;

    /// <summary>Images of disks the trace names only by hash.</summary>
    public DiskSupply? Disks { get; init; }

    /// <summary>
    /// Told, on the building thread and in step order, the traps and interrupts found so far and
    /// the step through which that is all of them: a trap index can follow the build
    /// (<see cref="Timeline.TimelineIndex"/>) instead of replaying the trace a second time.
    /// </summary>
    public Action<IReadOnlyList<Timeline.TrapMarker>, ulong>? TrapsFound { get; init; }
}

/// <summary>What building a sidecar did.</summary>
public sealed record TraceIndexSummary(
    int Snapshots,
    long Bytes,
    ulong Every,
    int SkippedForBudget,
    ReplayResult Replay);

/// <summary>
/// Builds a sidecar by replaying the trace once from step 0 (checking every state hash, as
/// <c>replay</c> does) and writing a snapshot at hash points <see cref="TraceIndexOptions.Every"/>
/// steps apart. A snapshot that would not fit the budget is skipped and the spacing doubles from
/// there, so the file stays within the budget and its snapshots still reach the end of the trace.
/// Taking snapshots never changes the replay: they only read the machine.
/// </summary>
public static class TraceIndexBuilder
{
    /// <summary>About <see cref="TraceIndexFormat.DefaultSnapshotsPerTrace"/> snapshots over the recording, rounded up to whole hash intervals.</summary>
    public static ulong DefaultEvery(TraceFile trace)
    {
        ulong interval = Math.Max(1, trace.Header.StateHashInterval);
        ulong end = trace.End?.Step ?? trace.LastStep;
        ulong wanted = Math.Max(interval, end / TraceIndexFormat.DefaultSnapshotsPerTrace);
        return (wanted + interval - 1) / interval * interval;
    }

    /// <summary>
    /// Writes the sidecar of <paramref name="trace"/> (whose file is <paramref name="identity"/>)
    /// to <paramref name="output"/>. When the replay diverges, the summary says so and the output
    /// holds no end record (a reader refuses it): the caller should discard it.
    /// With <paramref name="written"/>, the output is flushed after the header, after each snapshot
    /// and after the end record, and <paramref name="written"/> is told how many bytes of whole
    /// records the file then holds: a reader may follow the file as it grows
    /// (<see cref="TraceIndexFile.OpenGrowing"/>).
    /// </summary>
    public static TraceIndexSummary Build(TraceFile trace, TraceIdentity identity, Stream output, TraceIndexOptions? options = null,
        CancellationToken cancel = default, IProgress<double>? progress = null, Action<long>? written = null)
    {
        options ??= new TraceIndexOptions();
        if (options.Budget < TraceIndexFormat.MinBudget)
            throw new ArgumentOutOfRangeException(nameof(options), $"the index budget must be at least {TraceIndexFormat.MinBudget} bytes");
        ulong every = options.Every ?? DefaultEvery(trace);
        if (every == 0) throw new ArgumentOutOfRangeException(nameof(options), "the snapshot interval must be at least 1 step");

        var console = new List<byte>();
        var replayer = new Replayer(trace, console.Add, disks: options.Disks);
        // A cancelled build stops within a slice of the machine's run, not at the next hash point.
        using var stop = cancel.Register(replayer.Machine.RequestStop);
        // The pages each stretch between snapshots ran code from, so that a breakpoint search can pass
        // over stretches that cannot hold a hit: every page the hart fetched from, the page of every
        // interrupted or trapping pc (a timeline may look for a breakpoint at a pc an interrupt then
        // preempts), and the pages of the pcs at both ends of the stretch.
        var hart = replayer.Machine.Hart;
        var executed = new ExecutedPageLog();
        hart.ExecutedPages = executed;
        executed.NotePc(hart.Pc);
        // And the pages each stretch stored to, so that a write-watch search can pass over stretches too.
        var stored = new StoredPageLog();
        hart.StoredPages = stored;
        // And the pages it loaded from, for read and access watches.
        var loaded = new LoadedPageLog();
        hart.LoadedPages = loaded;
        var traps = new TrapCollector(executed);
        hart.TrapObserver = traps;
        var header = new TraceIndexHeader(identity, trace.Header.BoardRevision, trace.Header.HasherVersion, HartSnapshot.ImageVersion,
            trace.Header.StateHashInterval, every, replayer.Machine.Ram.PageCount, options.Budget);
        var writer = new TraceIndexWriter(output, header);
        void WriteTraps(ulong through)
        {
            writer.AddTraps(traps.Found, through);
            options.TrapsFound?.Invoke(traps.Found, through);
            traps.Found.Clear();
        }
        void Published()
        {
            if (written is null) return;
            output.Flush();
            written(writer.Bytes);
        }
        Published();
        ulong end = trace.End?.Step ?? trace.LastStep;
        ulong spacing = every, due = every;
        int skipped = 0;
        foreach (var point in trace.HashPoints)
        {
            if (point.Step < due || point.Step == 0 || point.Step >= end) continue;
            cancel.ThrowIfCancellationRequested();
            var diverged = replayer.RunTo(point.Step);
            cancel.ThrowIfCancellationRequested();
            if (diverged is not null || replayer.Steps != point.Step) break;
            WriteTraps(point.Step);
            var snapshot = replayer.Machine.CaptureSnapshot();
            executed.NotePc(hart.Pc);
            if (writer.TryAdd(snapshot, point.Hash, replayer.InputConsumed, console, executed.Pages(), stored.Pages(), loaded.Pages()))
            {
                // A stretch not written (over budget) runs on into the next one.
                executed.Clear();
                hart.ExecutedPagesCleared();
                stored.Clear();
                hart.StoredPagesCleared();
                loaded.Clear();
                hart.LoadedPagesCleared();
                executed.NotePc(hart.Pc);
                due = point.Step + spacing;
                Published();
            }
            else
            {
                skipped++;
                spacing = spacing > ulong.MaxValue / 2 ? ulong.MaxValue : spacing * 2;
                due = point.Step > ulong.MaxValue - spacing ? ulong.MaxValue : point.Step + spacing;
            }
            if (end > 0) progress?.Report((double)point.Step / end);
        }
        cancel.ThrowIfCancellationRequested();
        var result = replayer.Run();
        cancel.ThrowIfCancellationRequested();
        if (result.Outcome != ReplayOutcome.Diverged)
        {
            WriteTraps(result.Steps);
            executed.NotePc(hart.Pc);
            writer.Finish(result.HashPointsChecked, result.Steps, result.Outcome, executed.Pages(), stored.Pages(), loaded.Pages());
            Published();
        }
        else output.Flush();
        return new TraceIndexSummary(writer.Snapshots, writer.Bytes, every, skipped, result);
    }
}

/// <summary>Collects trap entries on the machine's thread (written out before each snapshot and at the end), noting each trapping pc's page.</summary>
internal sealed class TrapCollector(ExecutedPageLog executed) : ITrapObserver
{
    public readonly List<Timeline.TrapMarker> Found = [];

    public void TrapTaken(in TrapEntry entry)
    {
        var marker = Timeline.TrapMarker.Of(entry);
        Found.Add(marker);
        executed.NotePc(marker.Pc);
    }

    public void TrapReturned(in TrapReturn trapReturn) { }
}
