using ReplayVm.Core;
using ReplayVm.Replay.Input;

namespace ReplayVm.Replay.Tests.Diff;

/// <summary>Recordings of the echo guest that differ only in what was typed, for the diff tests.</summary>
internal static class DiffFixtures
{
    /// <summary>4 MiB is the smallest RAM where the device tree (placed on a 2 MiB boundary below the top) misses the program; brute force compares all of it every step.</summary>
    public static readonly MachineConfig SmallConfig = new() { RamSize = 4UL << 20 };

    public static MachineSetup SmallEcho => MachineSetup.ForElf(SmallConfig, "echo.elf", TestGuests.Echo.Images[0].Bytes);

    /// <summary>Types <paramref name="key"/> at step <paramref name="step"/> and 'q' <paramref name="quitAfter"/> steps later.</summary>
    public static TraceFile Record(byte key, ulong step, ulong quitAfter = 3_000, ulong interval = 2_000, MachineSetup? setup = null, Func<ulong, ulong>? clock = null)
    {
        var live = new ScriptedInputPort([new ScriptedKeys(step, [key]), new ScriptedKeys(step + quitAfter, "q"u8.ToArray())], clock ?? (s => s * 7));
        var recording = RoundTrip.Record(setup ?? TestGuests.Echo, live, interval);
        Assert.Equal(StopReason.GuestExit, recording.Result.Run.Reason);
        return TraceReader.Read(recording.Trace);
    }

    /// <summary>The same trace cut after its last event at or before <paramref name="step"/>, with no end record (what a killed recorder leaves).</summary>
    public static TraceFile Truncate(TraceFile trace, ulong step) =>
        TraceReader.Read(TraceBuilder.Write(trace.Header, trace.Events.Where(e => e is not EndEvent && e.Step <= step)));
}
