using System.Security.Cryptography;
using System.Text;
using ReplayVm.Core;
using ReplayVm.Replay.Input;

namespace ReplayVm.Replay.Tests;

/// <summary>
/// The bundled demo guest (tools/guests/demo) recorded with the Replay API: its session
/// (expected/demo.stdin) typed a line at a time, a clock that moves like a live one and entropy
/// from the host's cryptographic generator — everything a live recording would see — then
/// replayed: same console output, same state hash at every hash point. A trace whose entropy was
/// tampered with must part from the run at that request.
/// </summary>
public class DemoRecordReplayTests
{
    private const ulong StepsPerLine = 300_000, HashInterval = 100_000;

    /// <summary>2026-01-01T00:00:00Z plus 100 ns per step (10 MHz, like the guest's timebase), plus a host jitter.</summary>
    private static ulong LiveLikeClock(ulong step) => 1_767_225_600UL * 1_000_000_000UL + step * 100 + (ulong)RandomNumberGenerator.GetInt32(1000);

    private static ScriptedInputPort DemoSession()
    {
        var lines = File.ReadAllLines(Path.Combine(TestGuests.RepoRoot, "tools", "guests", "expected", "demo.stdin"));
        var script = lines.Select((line, i) => new ScriptedKeys(StepsPerLine * (ulong)(i + 1), Encoding.ASCII.GetBytes(line + "\n")));
        return new ScriptedInputPort(script, LiveLikeClock, (_, destination) => RandomNumberGenerator.Fill(destination));
    }

    private static readonly Lazy<RoundTrip.Recording> Recorded =
        new(() => RoundTrip.Record(TestGuests.Committed("demo"), DemoSession(), HashInterval, maxSteps: 100_000_000));

    [Fact]
    public void Recording_the_demo_captures_every_kind_of_input_and_the_whole_session()
    {
        var rec = Recorded.Value;
        Assert.Equal(StopReason.GuestExit, rec.Result.Run.Reason);
        Assert.Equal(0, rec.Result.Run.ExitCode);
        var trace = TraceReader.Read(rec.Trace);
        var kinds = trace.CountByKind();
        Assert.True(kinds.GetValueOrDefault(TraceEventKind.ConsoleInput) > 0);
        Assert.Equal(1, kinds.GetValueOrDefault(TraceEventKind.WallClock)); // `time` reads TIME_LOW once; TIME_HIGH is latched
        // Boot draws the game's secret and `rand` reads 8 bytes; the second round is never started.
        var entropy = trace.Events.OfType<EntropyEvent>().ToList();
        Assert.Equal(2, entropy.Count);
        Assert.All(entropy, e => Assert.Equal(8, e.Bytes.Length));
        // The guest echoed the session and printed the recorded entropy.
        Assert.Contains("demo> add dave_the_magnificent#", rec.Output);
        Assert.Contains("last winner: dave_the_magnifident#", rec.Output);
        Assert.Contains("time: 2026-01-01 00:00:", rec.Output);
        Assert.Contains("rand: " + Convert.ToHexString(entropy[1].Bytes).ToLowerInvariant(), rec.Output);
        Assert.EndsWith("bye\n", rec.Output);
    }

    [Fact]
    public void Replaying_the_demo_gives_the_same_output_and_every_hash()
    {
        var rec = Recorded.Value;
        var (result, output) = RoundTrip.Replay(rec.Trace);
        Assert.Equal(ReplayOutcome.Identical, result.Outcome);
        Assert.Equal(rec.Output, output);
        Assert.Equal(rec.Result.HashPoints + 1, result.HashPointsChecked); // every hash point plus the end record
        Assert.True(rec.Result.HashPoints > 20);
        Assert.Equal(rec.Result.Steps, result.Steps);
    }

    [Fact]
    public void Replay_with_different_entropy_bytes_diverges_at_the_first_hash_point_after_the_request()
    {
        var rec = Recorded.Value;
        var trace = TraceReader.Read(rec.Trace);
        var target = trace.Events.OfType<EntropyEvent>().ElementAt(1); // the `rand` command's bytes
        var flipped = target.Bytes.ToArray();
        flipped[0] ^= 0x01;
        var (result, output) = RoundTrip.Replay(Rewrite(trace, e => ReferenceEquals(e, target) ? new EntropyEvent(e.Step, flipped) : e));

        Assert.Equal(ReplayOutcome.Diverged, result.Outcome);
        ulong firstHashAfter = trace.HashPoints.First(h => h.Step >= target.Step).Step;
        Assert.Equal(firstHashAfter, result.Divergence!.Step);
        Assert.NotNull(result.Divergence.Expected);
        Assert.Contains("rand: " + Convert.ToHexString(flipped).ToLowerInvariant(), output);
    }

    [Fact]
    public void Replay_with_an_entropy_request_moved_or_resized_diverges_at_that_step()
    {
        var trace = TraceReader.Read(Recorded.Value.Trace);
        var target = trace.Events.OfType<EntropyEvent>().ElementAt(1);

        var (moved, _) = RoundTrip.Replay(Rewrite(trace, e => ReferenceEquals(e, target) ? new EntropyEvent(e.Step + 1, target.Bytes) : e));
        Assert.Equal(ReplayOutcome.Diverged, moved.Outcome);
        Assert.Equal(target.Step, moved.Divergence!.Step);
        Assert.Contains($"asked for entropy at step {target.Step}", moved.Divergence.Message);

        var (resized, _) = RoundTrip.Replay(Rewrite(trace, e => ReferenceEquals(e, target) ? new EntropyEvent(e.Step, target.Bytes[..4]) : e));
        Assert.Equal(ReplayOutcome.Diverged, resized.Outcome);
        Assert.Equal(target.Step, resized.Divergence!.Step);
        Assert.Contains("handed over 4", resized.Divergence.Message);
    }

    private static byte[] Rewrite(TraceFile trace, Func<TraceEvent, TraceEvent> change) =>
        TraceBuilder.Write(trace.Header, trace.Events.Select(change));
}
