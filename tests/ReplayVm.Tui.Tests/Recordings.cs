using System.Text;
using ReplayVm.Core;
using ReplayVm.Replay;
using ReplayVm.Replay.Input;
using ReplayVm.Replay.Timeline;
using ReplayVm.Tui.Session;

namespace ReplayVm.Tui.Tests;

/// <summary>The demo guest recorded once per test run with the Replay API: its scripted session typed a line every 20,000 steps.</summary>
internal static class Recordings
{
    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "ReplayVm.sln"))) return dir.FullName;
            throw new InvalidOperationException("ReplayVm.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The demo recording itself, for references computed without the debugger.</summary>
    public static TraceFile DemoTrace => Demo.Value;

    private static readonly Lazy<TraceFile> Demo = new(() =>
    {
        string guest = Path.Combine(RepoRoot, "tools", "guests", "elf", "demo.elf");
        var setup = MachineSetup.ForElf(new MachineConfig { RamSize = 16UL << 20 }, "demo.elf", File.ReadAllBytes(guest));
        var lines = File.ReadAllLines(Path.Combine(RepoRoot, "tools", "guests", "expected", "demo.stdin"));
        var script = lines.Select((line, i) => new ScriptedKeys(20_000 * (ulong)(i + 1), Encoding.ASCII.GetBytes(line + "\n")));
        var live = new ScriptedInputPort(script, step => 1_767_225_600UL * 1_000_000_000UL + step * 100,
            (step, destination) => Core.Input.DeterministicEntropy.Fill(step ^ 0x5eed, destination));
        var stream = new MemoryStream();
        using (var recorder = new Recorder(setup, live, _ => { }, stream,
                   new RecorderOptions { StateHashInterval = 100_000, Writer = new TraceWriterOptions { FlushInterval = TimeSpan.Zero } }))
            recorder.Run(20_000_000);
        return TraceReader.Read(stream.ToArray());
    });

    /// <summary>A fresh session over the demo recording (sessions move, so each test gets its own).</summary>
    public static DebugSession DemoSession() => new(new Timeline(Demo.Value, new TimelineOptions { CheckpointInterval = 4096 }));
}
