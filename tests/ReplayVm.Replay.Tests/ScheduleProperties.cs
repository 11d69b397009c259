using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Core;
using ReplayVm.Replay.Input;

namespace ReplayVm.Replay.Tests;

public class ScheduleProperties
{
    /// <summary>Random keystrokes (never 'q' until the last) at random steps, and a clock that moves with the step.</summary>
    private static Gen<List<ScriptedKeys>> Schedules =>
        from count in Gen.Choose(0, 8)
        from keys in Gen.ListOf(
            from step in Gen.Choose(0, 30_000)
            from length in Gen.Choose(1, 20)
            from text in Gen.ArrayOf(Gen.Elements("abcxyz t\r\n!".Select(c => (byte)c).ToArray()), length)
            select new ScriptedKeys((ulong)step, text), count)
        from quitAt in Gen.Choose(30_000, 40_000)
        select keys.Append(new ScriptedKeys((ulong)quitAt, "q"u8.ToArray())).ToList();

    [Property(MaxTest = 25)]
    public Property RecordThenReplayGivesTheSameOutputAndHashes() =>
        Prop.ForAll(Schedules.ToArbitrary(), Gen.Choose(1, 1000).ToArbitrary(), (schedule, clockRate) =>
        {
            var live = new ScriptedInputPort(schedule, step => 1_700_000_000_000_000_000UL + step * (ulong)clockRate);
            var recording = RoundTrip.Record(TestGuests.Echo, live, interval: 3_000);
            Assert.Equal(StopReason.GuestExit, recording.Result.Run.Reason);
            int typed = schedule.Sum(k => k.Bytes.Length) - 1;
            Assert.Equal(typed, recording.Output.Length);

            var (result, output) = RoundTrip.Replay(recording.Trace);
            Assert.Equal(ReplayOutcome.Identical, result.Outcome);
            Assert.Equal(recording.Output, output);
            Assert.Equal(recording.Result.HashPoints + 1, result.HashPointsChecked);
            Assert.Equal(recording.Result.FinalHash, TraceReader.Read(recording.Trace).End!.FinalHash);
        });
}
