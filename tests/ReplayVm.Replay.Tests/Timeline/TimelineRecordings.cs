using System.Text;
using ReplayVm.Core.Loading;
using ReplayVm.Replay.Input;

namespace ReplayVm.Replay.Tests.Timeline;

/// <summary>Recordings the timeline tests move about in, made once per test run with the Replay API.</summary>
internal static class TimelineRecordings
{
    /// <summary>bench, cut off after 12 M steps (its memcpy, quicksort and sieve parts).</summary>
    public static readonly Lazy<TraceFile> Bench = new(() => Record("bench", new ScriptedInputPort([]), 12_000_000, 1_000_000));

    /// <summary>demo, its whole session typed a line at a time, with a moving clock and seeded entropy.</summary>
    public static readonly Lazy<TraceFile> Demo = new(() =>
    {
        var lines = File.ReadAllLines(Path.Combine(TestGuests.RepoRoot, "tools", "guests", "expected", "demo.stdin"));
        var script = lines.Select((line, i) => new ScriptedKeys(300_000 * (ulong)(i + 1), Encoding.ASCII.GetBytes(line + "\n")));
        var live = new ScriptedInputPort(script, step => 1_767_225_600UL * 1_000_000_000UL + step * 100,
            (step, destination) => Core.Input.DeterministicEntropy.Fill(step ^ 0x5eed, destination));
        return Record("demo", live, 100_000_000, 250_000);
    });

    public static TraceFile Record(string guest, Core.Input.IInputPort live, ulong maxSteps, ulong hashInterval) =>
        TraceReader.Read(RoundTrip.Record(TestGuests.Committed(guest), live, hashInterval, maxSteps).Trace);

    public static ElfImage Elf(string guest) =>
        ElfImage.Parse(File.ReadAllBytes(Path.Combine(TestGuests.RepoRoot, "tools", "guests", "elf", guest + ".elf")));

    public static ulong Symbol(string guest, string name) => Elf(guest).FindSymbol(name)!.Value;
}
