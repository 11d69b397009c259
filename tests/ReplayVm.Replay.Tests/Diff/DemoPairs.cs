using System.Text;
using ReplayVm.Core;
using ReplayVm.Replay.Input;

namespace ReplayVm.Replay.Tests.Diff;

/// <summary>
/// Pairs of demo-guest recordings made in the test: a scripted session typed a line every
/// <see cref="StepsPerLine"/> steps, with a clock and entropy that depend on the step only, so two
/// recordings differ exactly where their scripts do (a changed word, a line typed a little later).
/// </summary>
internal static class DemoPairs
{
    public const ulong StepsPerLine = 5_000;

    /// <summary>A session without `time` and `rand`, whose answers would depend on when they are typed.</summary>
    public static readonly string[] Session = ["help", "add alice", "add bob", "list", "add carol", "list", "quit"];

    /// <summary>
    /// Records <paramref name="lines"/>, line i at step <see cref="StepsPerLine"/> × (i + 1) plus
    /// <paramref name="delay"/>(i). Delays that are multiples of the demo's wait loop (a few
    /// instructions) let the two runs' states join again once the late line is handled.
    /// </summary>
    public static TraceFile Record(IReadOnlyList<string> lines, Func<int, ulong>? delay = null, ulong hashInterval = 4_000)
    {
        var setup = TestGuests.Committed("demo");
        var script = lines.Select((line, i) => new ScriptedKeys(StepsPerLine * (ulong)(i + 1) + (delay?.Invoke(i) ?? 0), Encoding.ASCII.GetBytes(line + "\n")));
        var live = new ScriptedInputPort(script, step => 1_767_225_600UL * 1_000_000_000UL + step * 100,
            (step, destination) => Core.Input.DeterministicEntropy.Fill(step ^ 0x5eed, destination));
        var recording = RoundTrip.Record(setup, live, hashInterval, maxSteps: StepsPerLine * (ulong)(lines.Count + 4));
        Assert.Equal(StopReason.GuestExit, recording.Result.Run.Reason);
        return TraceReader.Read(recording.Trace);
    }

    public static string[] WithLine(int index, string line)
    {
        var lines = Session.ToArray();
        lines[index] = line;
        return lines;
    }
}
