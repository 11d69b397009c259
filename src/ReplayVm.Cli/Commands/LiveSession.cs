using ReplayVm.Cli.Hosting;
using ReplayVm.Core.Input;
using ReplayVm.Replay;
using ReplayVm.Replay.Timeline;
using ReplayTimeline = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Cli.Commands;

/// <summary>
/// A debug session that records as it goes (<c>gdb --live</c>, <c>debug GUEST</c>): the guest as
/// <c>record</c> would build it, a live timeline over it writing the trace file, and the disks it
/// holds open. Disposing it writes the trace's end record and closes everything.
/// </summary>
internal sealed class LiveSession : IDisposable
{
    private readonly TraceDrives _drives;

    private LiveSession(ReplayTimeline timeline, TraceDrives drives, string tracePath)
    {
        Timeline = timeline;
        _drives = drives;
        TracePath = tracePath;
    }

    public ReplayTimeline Timeline { get; }
    public string TracePath { get; }

    /// <summary>
    /// Builds the guest <paramref name="settings"/> describe and starts recording it to
    /// <paramref name="tracePath"/> (or a fresh file under the trace directory). Bad input is a <see cref="UsageException"/>.
    /// </summary>
    public static LiveSession Start(RunSettings settings, string? tracePath, IInputPort input, bool deterministic, ulong? checkpointMemory)
    {
        if (settings.Persist)
            throw new UsageException("a live session cannot take --persist: its recording must replay from the disk it started from");
        if (settings.MaxInstructions != ulong.MaxValue) throw new UsageException("a live session cannot take --max-instructions: it runs as far as you take it");
        if (settings.Stats) throw new UsageException("a live session cannot take --stats");
        var boot = GuestBoot.Read(settings);
        var drives = TraceDrives.ForRecording(settings.Drives, DiskEmbedding.Auto);
        try
        {
            var setup = boot.ToSetup(settings.Config) with { Disks = drives.Disks };
            var supply = drives.For(setup);
            string path = tracePath ?? TraceDirectory.NextPath(Path.GetFileNameWithoutExtension(settings.GuestPath ?? settings.BiosPath ?? "guest"));
            if (Directory.Exists(path)) throw new UsageException($"{path}: is a directory");
            var options = new LiveTimelineOptions
            {
                Input = deterministic ? new FixedClockAndEntropy(input) : input,
                Pacer = settings.Pace ? () => new RealTimePacer() : null,
                RecorderName = "replayvm " + typeof(LiveSession).Assembly.GetName().Version?.ToString(3),
                Factory = (s, i, o) => GuestBoot.CreateMachine(() => s.Build(i, o, supply)),
            };
            var inputs = settings.InputFiles;
            var file = RecordCommand.OpenTrace(path, inputs.OfType<string>());
            try
            {
                var timeline = ReplayTimeline.Record(setup, file, options, new TimelineOptions
                {
                    CheckpointMemory = checkpointMemory is { } bytes ? (long)Math.Min(bytes, long.MaxValue) : null,
                });
                return new LiveSession(timeline, drives, path);
            }
            catch (Exception e)
            {
                file.Dispose();
                File.Delete(path);
                if (e is TimelineException or InvalidOperationException) throw new UsageException($"cannot record: {e.Message}");
                throw;
            }
        }
        catch
        {
            drives.Dispose();
            throw;
        }
    }

    /// <summary>Writes the end record, closes the trace, and says where it is.</summary>
    public void Dispose()
    {
        Timeline.Dispose();
        _drives.Dispose();
        Console.Error.WriteLine($"replayvm: recorded {Timeline.End} steps to {TracePath} (replayvm debug {TracePath})");
    }
}

/// <summary>Where live sessions keep their recordings when not told: like rr, numbered files under the user's data directory.</summary>
internal static class TraceDirectory
{
    /// <summary><c>$REPLAYVM_TRACE_DIR</c>, else <c>$XDG_DATA_HOME/replayvm/traces</c>, else <c>~/.local/share/replayvm/traces</c>.</summary>
    public static string Root
    {
        get
        {
            if (Environment.GetEnvironmentVariable("REPLAYVM_TRACE_DIR") is { Length: > 0 } dir) return dir;
            string data = Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } xdg
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
            return Path.Combine(data, "replayvm", "traces");
        }
    }

    /// <summary>The first <c>NAME-N.rvtrace</c> not yet taken (never overwrites a recording).</summary>
    public static string NextPath(string name)
    {
        try
        {
            Directory.CreateDirectory(Root);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{Root}: cannot create the trace directory: {e.Message} (give -o FILE.rvtrace)");
        }
        for (int n = 0; ; n++)
        {
            string path = Path.Combine(Root, $"{name}-{n}.rvtrace");
            if (!File.Exists(path)) return path;
        }
    }
}
