using System.Text;
using ReplayVm.Replay.Input;
using ReplayVm.Replay.TraceIndex;

namespace ReplayVm.Replay.Tests.TraceIndex;

/// <summary>A recording kept as a file, with its sidecar built once per test run.</summary>
internal sealed class IndexedRecording
{
    private IndexedRecording(string tracePath, TraceFile trace, TraceIdentity identity, TraceIndexSummary summary, RoundTrip.Recording recording)
    {
        (TracePath, Trace, Identity, Summary, TraceBytes) = (tracePath, trace, identity, summary, recording);
    }

    /// <summary>The recording, to index again with other options.</summary>
    public RoundTrip.Recording TraceBytes { get; }

    public string TracePath { get; }
    public string IndexPath => TraceIndexFormat.SidecarPath(TracePath);
    public TraceFile Trace { get; }
    public TraceIdentity Identity { get; }
    public TraceIndexSummary Summary { get; }
    public byte[] IndexBytes => File.ReadAllBytes(IndexPath);

    public TraceIndexFile Open() => TraceIndexFile.Open(IndexPath, Trace, Identity);

    /// <summary>A copy of the sidecar with <paramref name="change"/> applied, opened against this trace.</summary>
    public TraceIndexFile OpenChanged(Func<byte[], byte[]> change)
    {
        var path = Path.Combine(Path.GetDirectoryName(TracePath)!, $"changed-{Guid.NewGuid():n}.rvindex");
        File.WriteAllBytes(path, change(IndexBytes));
        try
        {
            return TraceIndexFile.Open(path, Trace, Identity);
        }
        finally
        {
            if (OperatingSystem.IsLinux()) File.Delete(path); // the open handle keeps reading it
        }
    }

    public static IndexedRecording Make(string name, RoundTrip.Recording recording, TraceIndexOptions? options = null)
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-index-").FullName;
        var path = Path.Combine(dir, name + ".rvtrace");
        File.WriteAllBytes(path, recording.Trace);
        var trace = TraceReader.ReadFile(path);
        var identity = TraceIdentity.OfFile(path);
        TraceIndexSummary summary;
        using (var output = File.Create(TraceIndexFormat.SidecarPath(path)))
            summary = TraceIndexBuilder.Build(trace, identity, output, options);
        return new IndexedRecording(path, trace, identity, summary, recording);
    }
}

/// <summary>The recordings the index tests share.</summary>
internal static class IndexedRecordings
{
    /// <summary>bench cut off after 12 M steps, a hash every 1 M, a snapshot every 2 M.</summary>
    public static readonly Lazy<IndexedRecording> Bench = new(() => IndexedRecording.Make("bench",
        RoundTrip.Record(TestGuests.Committed("bench"), new ScriptedInputPort([]), 1_000_000, 12_000_000),
        new TraceIndexOptions { Every = 2_000_000 }));

    /// <summary>The demo's scripted session (console input, clock reads, entropy, output), a hash every 250 K steps, a snapshot at each.</summary>
    public static readonly Lazy<IndexedRecording> Demo = new(() =>
    {
        var lines = File.ReadAllLines(Path.Combine(TestGuests.RepoRoot, "tools", "guests", "expected", "demo.stdin"));
        var script = lines.Select((line, i) => new ScriptedKeys(300_000 * (ulong)(i + 1), Encoding.ASCII.GetBytes(line + "\n")));
        var live = new ScriptedInputPort(script, step => 1_767_225_600UL * 1_000_000_000UL + step * 100,
            (step, destination) => Core.Input.DeterministicEntropy.Fill(step ^ 0x5eed, destination));
        return IndexedRecording.Make("demo", RoundTrip.Record(TestGuests.Committed("demo"), live, 250_000, 100_000_000), new TraceIndexOptions { Every = 1 });
    });

    /// <summary>
    /// The kernel guest with its disk and scripted input: S-mode, user processes, ecalls, timer and
    /// external interrupts; a hash every 20 K steps and a snapshot at each, so its traps span dozens of trap records.
    /// </summary>
    public static readonly Lazy<IndexedRecording> Kernel = new(() =>
    {
        string Guest(params string[] parts) => Path.Combine([TestGuests.RepoRoot, "tools", "guests", .. parts]);
        var setup = MachineSetup.ForElf(new Core.MachineConfig(), "kernel.elf", File.ReadAllBytes(Guest("elf", "kernel.elf")))
            with { Disks = [GuestDisk.Embedded("disk.img", File.ReadAllBytes(Guest("kernel", "disk.img")))] };
        var input = new ScriptedInputPort([new ScriptedKeys(0, File.ReadAllBytes(Guest("expected", "kernel.stdin")))]);
        return IndexedRecording.Make("kernel", RoundTrip.Record(setup, input, 20_000), new TraceIndexOptions { Every = 1 });
    });
}
