using System.Text;
using ReplayVm.Core;
using ReplayVm.Replay;
using ReplayVm.Replay.Input;
using ReplayVm.Replay.Timeline;
using ReplayVm.Tui.Session;

namespace ReplayVm.Tui.Tests;

/// <summary>
/// Pairs of demo recordings for the diff window, made here with the Replay API: a line typed every
/// 5,000 steps, clock and entropy a function of the step, so two recordings differ exactly where
/// their scripts do.
/// </summary>
internal static class DiffRecordings
{
    private static readonly string[] Session = ["help", "add alice", "add bob", "list", "add carol", "list", "quit"];

    public static TraceFile Record(IReadOnlyList<string> lines, Func<int, ulong>? delay = null, ulong ramSize = 16UL << 20)
    {
        string guest = Path.Combine(Recordings.RepoRoot, "tools", "guests", "elf", "demo.elf");
        var setup = MachineSetup.ForElf(new MachineConfig { RamSize = ramSize }, "demo.elf", File.ReadAllBytes(guest));
        var script = lines.Select((line, i) => new ScriptedKeys(5_000 * (ulong)(i + 1) + (delay?.Invoke(i) ?? 0), Encoding.ASCII.GetBytes(line + "\n")));
        var live = new ScriptedInputPort(script, step => 1_767_225_600UL * 1_000_000_000UL + step * 100,
            (step, destination) => Core.Input.DeterministicEntropy.Fill(step ^ 0x5eed, destination));
        var stream = new MemoryStream();
        using (var recorder = new Recorder(setup, live, _ => { }, stream,
                   new RecorderOptions { StateHashInterval = 4_000, Writer = new TraceWriterOptions { FlushInterval = TimeSpan.Zero } }))
            recorder.Run(1_000_000);
        return TraceReader.Read(stream.ToArray());
    }

    private static string[] With(int index, string line)
    {
        var lines = Session.ToArray();
        lines[index] = line;
        return lines;
    }

    public static readonly Lazy<TraceFile> Base = new(() => Record(Session));
    /// <summary>"add bob" typed as "add bOb".</summary>
    public static readonly Lazy<TraceFile> Word = new(() => Record(With(2, "add bOb")));
    /// <summary>Two lines typed 420 steps late: the runs part and join again twice.</summary>
    public static readonly Lazy<TraceFile> Late = new(() => Record(Session, i => i is 1 or 4 ? 420UL : 0));

    public static DiffSession Pair(TraceFile a, TraceFile b) =>
        new(new Timeline(a, new TimelineOptions { CheckpointInterval = 4096 }), new Timeline(b, new TimelineOptions { CheckpointInterval = 4096 }));
}
