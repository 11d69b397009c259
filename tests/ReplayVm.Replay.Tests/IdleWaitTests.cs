using System.Collections.Concurrent;
using System.Text;
using ReplayVm.Core;
using ReplayVm.Core.Input;

namespace ReplayVm.Replay.Tests;

/// <summary>
/// An idle guest costs no steps (issue 11, "idle costs nothing"). The demo guest waits for keys
/// with WFI; with nothing pending and no timer armed, the machine asks the live input port to
/// wait, and hands over what arrives at that same step. So a live recording does not depend on
/// how long the user thinks: a typist who answers each wait at once and one who answers after a
/// pause record the same steps, the same events and the same final state, and either replays
/// exactly.
/// </summary>
public class IdleWaitTests
{
    /// <summary>A live port whose user types the session's next line only when the guest waits, after <paramref name="think"/>.</summary>
    private sealed class ThinkingTypist(string[] lines, TimeSpan think) : IInputPort
    {
        private readonly ConcurrentQueue<byte> _keys = new();
        private readonly SemaphoreSlim _typed = new(0);
        private int _nextLine;

        public int Waits { get; private set; }

        public ulong NextDeliveryAt => ulong.MaxValue;

        public void Poll(ulong instret, IInputSink sink)
        {
            while (sink.ConsoleRoom > 0 && _keys.TryDequeue(out byte b)) sink.DeliverConsoleByte(b);
        }

        public bool WaitForInput(ulong instret, CancellationToken wake)
        {
            Waits++;
            if (_keys.IsEmpty && _nextLine < lines.Length)
            {
                var line = Encoding.ASCII.GetBytes(lines[_nextLine++] + "\n");
                // Another thread, as a person at a keyboard: the machine's thread sleeps meanwhile.
                _ = Task.Run(async () =>
                {
                    await Task.Delay(think);
                    foreach (byte b in line) _keys.Enqueue(b);
                    _typed.Release();
                });
            }
            while (_keys.IsEmpty)
            {
                try { _typed.Wait(wake); }
                catch (OperationCanceledException) { return false; }
            }
            return true;
        }

        public ulong ReadWallClock(ulong instret) => NoInput.Instance.ReadWallClock(instret);

        public void ReadEntropy(ulong instret, Span<byte> destination) => NoInput.Instance.ReadEntropy(instret, destination);
    }

    private static string[] Session() => File.ReadAllLines(Path.Combine(TestGuests.RepoRoot, "tools", "guests", "expected", "demo.stdin"));

    [Fact]
    public void How_long_the_user_thinks_changes_nothing_in_the_recording()
    {
        var quick = new ThinkingTypist(Session(), TimeSpan.Zero);
        var a = RoundTrip.Record(TestGuests.Committed("demo"), quick, interval: 1000, maxSteps: 50_000_000);
        var slow = new ThinkingTypist(Session(), TimeSpan.FromMilliseconds(150));
        var b = RoundTrip.Record(TestGuests.Committed("demo"), slow, interval: 1000, maxSteps: 50_000_000);

        Assert.Equal(StopReason.GuestExit, a.Result.Run.Reason);
        Assert.EndsWith("bye\n", a.Output);
        Assert.True(slow.Waits >= Session().Length, $"the guest waited {slow.Waits} times for {Session().Length} lines");
        // Each line arrives while the guest sleeps in WFI: the whole session is a few tens of
        // thousands of steps, however long the pauses (a busy-polling guest spins ~10^7 steps a second).
        Assert.True(a.Result.Steps < 200_000, $"{a.Result.Steps} steps");

        Assert.Equal(a.Output, b.Output);
        Assert.Equal(a.Result.Steps, b.Result.Steps);
        Assert.Equal(a.Result.FinalHash, b.Result.FinalHash);
        var eventsA = TraceReader.Read(a.Trace).Events.OfType<ConsoleInputEvent>().Select(e => (e.Step, Convert.ToHexString(e.Bytes)));
        var eventsB = TraceReader.Read(b.Trace).Events.OfType<ConsoleInputEvent>().Select(e => (e.Step, Convert.ToHexString(e.Bytes)));
        Assert.Equal(eventsA, eventsB);

        var (replayed, output) = RoundTrip.Replay(b.Trace);
        Assert.Equal(ReplayOutcome.Identical, replayed.Outcome);
        Assert.Equal(b.Output, output);
        Assert.Equal(b.Result.HashPoints + 1, replayed.HashPointsChecked);
    }

    [Fact]
    public async Task A_stop_request_ends_an_idle_wait_at_once_without_moving_a_step()
    {
        var never = new ThinkingTypist([], TimeSpan.Zero);
        var stream = new MemoryStream();
        using var recorder = new Recorder(TestGuests.Committed("demo"), never, _ => { }, stream);
        var run = Task.Run(() => recorder.Run(50_000_000));
        // The guest prints its banner and prompt, then waits for a key that never comes.
        SpinWait.SpinUntil(() => never.Waits > 0, TimeSpan.FromSeconds(60));
        Assert.True(never.Waits > 0, "the guest never went idle");
        ulong idleAt = recorder.Machine.Hart.Steps;
        Thread.Sleep(200);
        Assert.Equal(idleAt, recorder.Machine.Hart.Steps);
        recorder.Machine.RequestStop();
        var result = await run.WaitAsync(TimeSpan.FromSeconds(30)); // TimeoutException: the stop request did not end the wait
        Assert.Equal(StopReason.HostRequest, result.Run.Reason);
        Assert.Equal(idleAt, result.Steps);
    }
}
