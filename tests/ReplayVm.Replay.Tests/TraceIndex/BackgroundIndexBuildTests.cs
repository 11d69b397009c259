using ReplayVm.Replay.Timeline;
using ReplayVm.Replay.TraceIndex;
using TimelineEngine = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Replay.Tests.TraceIndex;

/// <summary>
/// A sidecar built in the background while a timeline is in use: the same file <c>replayvm index</c>
/// writes, followed by the timeline as it grows (its snapshots used as they appear), never changing
/// what the timeline shows, and never left half-written.
/// </summary>
public sealed class BackgroundIndexBuildTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromMinutes(5);
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-bgindex-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string[] Files() => [.. Directory.GetFiles(_dir).Select(f => Path.GetFileName(f)!).Order()];

    private static IndexedRecording Bench => IndexedRecordings.Bench.Value;

    /// <summary>A copy of the bench recording with no sidecar beside it.</summary>
    private (string Path, TraceFile Trace) FreshBench()
    {
        string path = Path.Combine(_dir, $"bench-{Guid.NewGuid():n}.rvtrace");
        File.WriteAllBytes(path, Bench.TraceBytes.Trace);
        return (path, TraceReader.ReadFile(path));
    }

    private static readonly TraceIndexOptions SameAsBench = new() { Every = 2_000_000 };

    [Fact]
    public void It_writes_the_same_sidecar_as_a_foreground_build_and_leaves_no_working_file()
    {
        var (path, trace) = FreshBench();
        using var build = BackgroundIndexBuild.Start(path, trace, SameAsBench);
        Assert.True(build.Wait(Generous));
        Assert.Equal(IndexBuildState.Complete, build.State);
        Assert.Null(build.Error);
        Assert.Equal(1.0, build.Progress);
        Assert.Equal(Bench.IndexBytes, File.ReadAllBytes(TraceIndexFormat.SidecarPath(path)));
        Assert.Equal(Bench.Summary.Snapshots, build.Summary!.Snapshots);
        Assert.Equal(new[] { Path.GetFileName(path), Path.GetFileName(path) + ".rvindex" }, Files());
    }

    [Fact]
    public void A_growing_file_reads_whole_records_only_and_extends_to_the_same_index()
    {
        // Every length the builder publishes is a prefix a reader may see while it writes.
        var (path, trace) = FreshBench();
        var identity = TraceIdentity.OfFile(path);
        var (sidecar, lengths) = BuildRecordingLengths(path, trace, identity);
        Assert.Equal(Bench.Summary.Snapshots + 2, lengths.Count); // the header, each snapshot, the end record
        Assert.Equal(new FileInfo(sidecar).Length, lengths[^1]);

        using var complete = TraceIndexFile.Open(sidecar, trace, identity);
        for (int i = 0; i < lengths.Count; i++)
        {
            using var growing = TraceIndexFile.OpenGrowing(sidecar, trace, identity, lengths[i]);
            Assert.Equal(Math.Min(i, complete.Snapshots.Count), growing.Snapshots.Count);
            Assert.Equal(i == lengths.Count - 1, growing.IsComplete);
            Assert.Equal(lengths[i], growing.Length);
            for (int j = i + 1; j < lengths.Count; j++)
            {
                growing.Extend(lengths[j]);
                Assert.Equal(Math.Min(j, complete.Snapshots.Count), growing.Snapshots.Count);
            }
            Assert.True(growing.IsComplete);
            Assert.Equal(complete.Snapshots.Select(s => (s.Step, s.Hash, s.Cursor, s.OutputEnd)), growing.Snapshots.Select(s => (s.Step, s.Hash, s.Cursor, s.OutputEnd)));
            Assert.Equal(complete.HashPointsVerified, growing.HashPointsVerified);
            Assert.Equal(complete.OutputUpTo(complete.Snapshots.Count - 1).ToArray(), growing.OutputUpTo(growing.Snapshots.Count - 1).ToArray());
        }
    }

    [Fact]
    public void A_growing_file_damaged_within_its_complete_part_is_refused()
    {
        var (path, trace) = FreshBench();
        var identity = TraceIdentity.OfFile(path);
        var (sidecar, lengths) = BuildRecordingLengths(path, trace, identity);
        using var growing = TraceIndexFile.OpenGrowing(sidecar, trace, identity, lengths[2]);
        var bytes = File.ReadAllBytes(sidecar);
        long at = (lengths[2] + lengths[3]) / 2;
        bytes[at] ^= 0x20;
        File.WriteAllBytes(sidecar, bytes); // the same inode: the open handle sees the damage
        var e = Assert.Throws<TraceIndexException>(() => growing.Extend(lengths[3]));
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void The_timeline_uses_snapshots_as_they_appear_and_shows_the_same_states_as_without()
    {
        var (path, trace) = FreshBench();
        ulong end = trace.End!.Step;
        // The build waits after each record until the test lets it go on, so "as they appear" is seen step by step.
        using var gate = new SemaphoreSlim(0);
        using var published = new SemaphoreSlim(0);
        using var build = BackgroundIndexBuild.Start(path, trace, SameAsBench, _ =>
        {
            published.Release();
            gate.Wait();
        });
        var options = new TimelineOptions { CheckpointInterval = 1UL << 16 };
        var following = new TimelineEngine(trace, options with { IndexBuild = build });
        var plain = new TimelineEngine(trace, options);

        Assert.True(published.Wait(Generous)); // the header
        gate.Release();
        Assert.True(published.Wait(Generous)); // the first snapshot (step 2 M)
        following.Seek(end - 5);
        plain.Seek(end - 5);
        Assert.Equal(plain.ComputeHash(), following.ComputeHash());
        Assert.NotNull(following.Index);
        Assert.Single(following.Index!.Snapshots);
        Assert.Equal(1, following.IndexSnapshotsRestored); // started from the one snapshot there is
        Assert.True(following.FollowingIndexBuild);

        gate.Release();
        Assert.True(published.Wait(Generous)); // the second (4 M)
        following.Seek(3_000_000);
        plain.Seek(3_000_000);
        following.Seek(end - 7);
        plain.Seek(end - 7);
        Assert.Equal(plain.ComputeHash(), following.ComputeHash());
        Assert.Equal(2, following.Index!.Snapshots.Count);
        Assert.Equal(2_000_000UL * 2, following.Index.Snapshots[^1].Step);

        // Let it finish: the sidecar is complete, in place, and still gives the same states.
        for (int i = 0; i < 64; i++) gate.Release();
        Assert.True(build.Wait(Generous));
        Assert.Equal(IndexBuildState.Complete, build.State);
        foreach (ulong step in new[] { 11_500_000UL, 123UL, 7_000_001UL, end })
        {
            following.Seek(step);
            plain.Seek(step);
            Assert.Equal(plain.ComputeHash(), following.ComputeHash());
            Assert.Equal(plain.Output, following.Output);
        }
        Assert.True(following.Index!.IsComplete);
        Assert.False(following.FollowingIndexBuild);
        Assert.Equal(Bench.Summary.Snapshots, following.Index.Snapshots.Count);
        Assert.Null(following.IndexProblem);
    }

    [Fact]
    public void Reverse_continue_while_the_index_builds_finds_the_hit_one_machine_finds()
    {
        var (path, trace) = FreshBench();
        ulong main = Timeline.TimelineRecordings.Symbol("bench", "main");
        ulong memset = Timeline.TimelineRecordings.Symbol("bench", "memset");
        using var build = BackgroundIndexBuild.Start(path, trace, SameAsBench);
        var following = new TimelineEngine(trace, new TimelineOptions { IndexBuild = build, ScanJobs = 2 });
        var plain = new TimelineEngine(trace, new TimelineOptions { ScanJobs = 1 });
        foreach (var (from, pc) in new[] { (trace.End!.Step, main), (9_000_000UL, memset), (trace.End!.Step - 1, memset) })
        {
            following.Seek(from);
            plain.Seek(from);
            Assert.Equal(plain.ReverseContinue([pc], null), following.ReverseContinue([pc], null));
            Assert.Equal(plain.ComputeHash(), following.ComputeHash());
        }
        Assert.True(build.Wait(Generous));
    }

    [Fact]
    public void A_cancelled_build_leaves_nothing_behind()
    {
        var (path, trace) = FreshBench();
        using var started = new SemaphoreSlim(0);
        using var gate = new SemaphoreSlim(0);
        var build = BackgroundIndexBuild.Start(path, trace, SameAsBench, _ =>
        {
            started.Release();
            gate.Wait();
        });
        Assert.True(started.Wait(Generous));
        Assert.True(File.Exists(build.WorkingPath));
        build.Cancel();
        gate.Release(64);
        Assert.True(build.Wait(Generous));
        Assert.Equal(IndexBuildState.Cancelled, build.State);
        build.Dispose();
        Assert.Equal(new[] { Path.GetFileName(path) }, Files());
    }

    [Fact]
    public void Disposing_does_not_wait_for_a_build_that_cannot_run()
    {
        var (path, trace) = FreshBench();
        using var started = new SemaphoreSlim(0);
        using var gate = new SemaphoreSlim(0);
        int publishedAfterDispose = 0;
        bool disposed = false, told = false;
        var build = BackgroundIndexBuild.Start(path, trace, SameAsBench, _ =>
        {
            if (Volatile.Read(ref disposed)) Interlocked.Increment(ref publishedAfterDispose);
            started.Release();
            gate.Wait();
        });
        build.WhenFinished(_ => told = true);
        Assert.True(started.Wait(Generous));
        Assert.True(File.Exists(build.WorkingPath));
        // The build's thread is held, as a nice-19 thread on a loaded machine may be for seconds:
        // disposing returns anyway (waiting on it would never return here), its working file gone.
        var disposing = new Thread(build.Dispose) { IsBackground = true };
        disposing.Start();
        Assert.True(disposing.Join(Generous), "Dispose waited for the build's thread");
        Volatile.Write(ref disposed, true);
        Assert.False(File.Exists(build.WorkingPath));
        Assert.Equal(IndexBuildState.Running, build.State);
        gate.Release(1 << 16);
        Assert.True(build.Wait(Generous));
        Assert.Equal(IndexBuildState.Cancelled, build.State);
        Assert.False(told); // nothing is reported after disposal
        Assert.Equal(0, publishedAfterDispose);
        Assert.Equal(new[] { Path.GetFileName(path) }, Files());
    }

    [Fact]
    public void A_build_that_cannot_put_its_file_in_place_fails_with_one_line_and_leaves_nothing_behind()
    {
        var (path, trace) = FreshBench();
        Directory.CreateDirectory(TraceIndexFormat.SidecarPath(path)); // a directory where the sidecar goes
        string? told = null;
        using var build = BackgroundIndexBuild.Start(path, trace, SameAsBench);
        build.WhenFinished(b => told = b.Error);
        Assert.True(build.Wait(Generous));
        Assert.Equal(IndexBuildState.Failed, build.State);
        Assert.NotNull(build.Error);
        Assert.DoesNotContain('\n', build.Error);
        Assert.Equal(build.Error, told);
        Assert.Equal(new[] { Path.GetFileName(path) }, Files());
        // A timeline following it carries on without an index.
        var timeline = new TimelineEngine(trace, new TimelineOptions { IndexBuild = build });
        timeline.Seek(trace.End!.Step);
        Assert.Equal(trace.End!.Step, timeline.Position);
        Assert.False(timeline.FollowingIndexBuild);
    }

    /// <summary>Builds the sidecar of <paramref name="path"/>, recording every length the builder publishes as it writes.</summary>
    private static (string Sidecar, List<long> Lengths) BuildRecordingLengths(string path, TraceFile trace, TraceIdentity identity)
    {
        var lengths = new List<long>();
        string sidecar = TraceIndexFormat.SidecarPath(path);
        using (var output = File.Create(sidecar))
            TraceIndexBuilder.Build(trace, identity, output, SameAsBench, written: lengths.Add);
        return (sidecar, lengths);
    }
}
