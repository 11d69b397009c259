using ReplayVm.Core;
using ReplayVm.Replay;
using ReplayVm.Replica.Arbiter;
using ReplayVm.Replica.Tests.Support;
using ReplayVm.Replica.Wire;

namespace ReplayVm.Replica.Tests;

/// <summary>A backup fed a log it must not trust: it refuses with one line and stops, never replays on.</summary>
public sealed class BadLogTests
{
    private static readonly ReplicaKey Key = ReplicaKey.FromBytes(Enumerable.Range(5, 32).Select(i => (byte)i).ToArray(), "test");

    private static TraceHeader DemoHeader() =>
        new(MachineSetup.ForElf(new MachineConfig(), "demo.elf", File.ReadAllBytes(ReplicaProcess.Guest("demo.elf"))), TraceHeader.DefaultStateHashInterval, "test");

    /// <summary>Runs a backup in this process, lets <paramref name="primary"/> talk to it as a primary would, and returns its exit status and messages.</summary>
    /// <param name="liveBefore">The fake primary holds the arbiter, naming this backup's stream ("stream") its successor, until it is done: the backup may then take over.</param>
    private static (int Status, List<string> Lines, byte[]? Refusal) FeedBackup(Action<SecureChannel> primary, bool liveBefore = false)
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-badlog-").FullName;
        FileArbiter? held = null;
        if (liveBefore)
        {
            held = new FileArbiter(Path.Combine(dir, "arbiter"));
            Assert.True(held.TryAcquire(TimeSpan.FromSeconds(5)));
            held.PublishSuccessor("stream");
        }
        var lines = new List<string>();
        var options = new ReplicaOptions { Say = line => { lock (lines) lines.Add(line); }, HeartbeatTimeout = TimeSpan.FromSeconds(5) };
        using var arbiter = new FileArbiter(Path.Combine(dir, "arbiter"));
        using var node = ReplicaNode.StartBackup(options, Key, arbiter, [new Endpoint("127.0.0.1", 0)]);
        int status = -1;
        var runner = new Thread(() => status = node.Run());
        runner.Start();
        byte[]? refusal = null;
        using (var channel = SecureChannel.Connect(node.Listening[0], Key, Purpose.Log))
        {
            primary(channel);
            held?.Dispose();
            try
            {
                channel.ReceiveTimeout = TimeSpan.FromSeconds(10);
                while (true)
                {
                    var (type, payload) = channel.Receive();
                    if (type == (byte)MessageType.Error)
                    {
                        refusal = payload;
                        break;
                    }
                }
            }
            catch (Exception e) when (e is IOException or TimeoutException or ReplicaException)
            {
            }
        }
        Assert.True(runner.Join(TimeSpan.FromSeconds(30)), "the backup did not stop");
        Directory.Delete(dir, true);
        return (status, lines, refusal);
    }

    private static byte[] Header(TraceHeader header, byte join = 0, ulong budget = ulong.MaxValue) => new PayloadWriter().Text("stream").U8(join).U64(budget).Bytes(TraceLogCodec.EncodeHeader(header)).ToArray();

    [Fact]
    public void A_log_for_another_board_revision_is_refused_with_one_line()
    {
        var (status, lines, refusal) = FeedBackup(channel =>
            channel.Send((byte)MessageType.Header, Header(DemoHeader() with { BoardRevision = MachineConfig.BoardRevision + 1 })));
        Assert.Equal(ExitStatuses.Diverged, status);
        Assert.Contains(lines, l => l.Contains("board revision") && !l.Contains('\n'));
        Assert.NotNull(refusal);
    }

    [Fact]
    public void A_log_header_that_is_not_a_trace_header_is_refused()
    {
        var (status, lines, _) = FeedBackup(channel =>
            channel.Send((byte)MessageType.Header, new PayloadWriter().Text("stream").U8(0).U64(ulong.MaxValue).Bytes("RVTRACE\0garbage"u8).ToArray()));
        Assert.Equal(ExitStatuses.Diverged, status);
        Assert.Contains(lines, l => l.Contains("log header") && l.Contains("not usable"));
    }

    [Fact]
    public void A_damaged_log_chunk_stops_the_backup()
    {
        var (status, lines, _) = FeedBackup(channel =>
        {
            channel.Send((byte)MessageType.Header, Header(DemoHeader()));
            var chunk = TraceLogCodec.EncodeEvents([new ConsoleInputEvent(100, "help\n"u8.ToArray())]);
            chunk[^1] ^= 0x40; // a flipped bit in the compressed events: the chunk's CRC32C no longer matches
            channel.Send((byte)MessageType.Log, new PayloadWriter().U64(200).Blob(chunk).U32(0).ToArray());
        });
        Assert.Equal(ExitStatuses.Diverged, status);
        Assert.Contains(lines, l => l.Contains("damaged") && l.Contains("stopping this backup"));
    }

    [Fact]
    public void A_log_whose_frontier_goes_back_stops_the_backup()
    {
        var (status, lines, _) = FeedBackup(channel =>
        {
            channel.Send((byte)MessageType.Header, Header(DemoHeader()));
            channel.Send((byte)MessageType.Log, new PayloadWriter().U64(5000).Blob([]).U32(0).ToArray());
            channel.Send((byte)MessageType.Log, new PayloadWriter().U64(4000).Blob([]).U32(0).ToArray());
        });
        Assert.Equal(ExitStatuses.Diverged, status);
        Assert.Contains(lines, l => l.Contains("went back from step 5000 to 4000"));
    }

    [Fact]
    public void A_forged_state_hash_is_caught_as_a_divergence()
    {
        var (status, lines, _) = FeedBackup(channel =>
        {
            channel.Send((byte)MessageType.Header, Header(DemoHeader()));
            var forged = TraceLogCodec.EncodeEvents([new StateHashEvent(0, default)]);
            channel.Send((byte)MessageType.Log, new PayloadWriter().U64(1000).Blob(forged).U32(0).ToArray());
            Thread.Sleep(3000);
        });
        Assert.Equal(ExitStatuses.Diverged, status);
        Assert.Contains(lines, l => l.Contains("backup diverged from the primary at step 0: state hash"));
    }

    /// <summary>A joining backup's state transfer: the primary's machine at its current step (here: the demo just loaded, at step 0).</summary>
    private static (Core.State.MachineSnapshot Snapshot, Core.State.StateHash Hash) DemoSnapshot()
    {
        var machine = DemoHeader().Setup.Build(Core.Input.NoInput.Instance, _ => { });
        return (machine.CaptureSnapshot(), new Core.State.MachineStateHasher(machine).Compute());
    }

    private static byte[] SnapshotBegin(ulong step, ulong deviceBytes, uint pages, ulong consoleBytes)
    {
        var (snapshot, _) = DemoSnapshot();
        var hart = new MemoryStream();
        using (var w = new BinaryWriter(hart)) snapshot.HartState.Write(w);
        return new PayloadWriter().U64(step).Bytes(new byte[16]).Blob(hart.ToArray()).U64(deviceBytes).U32(pages).U64(consoleBytes).U64(0).ToArray();
    }

    [Fact]
    public void A_joining_backup_restores_a_snapshot_and_checks_it_against_its_state_hash()
    {
        var (status, lines, _) = FeedBackup(channel =>
        {
            channel.Send((byte)MessageType.Header, Header(DemoHeader(), join: 1));
            var (snapshot, hash) = DemoSnapshot();
            // The true snapshot with a hash one bit off: restored, then caught by its state hash.
            var forged = hash with { Low = hash.Low ^ 1 };
            foreach (var (type, payload) in SnapshotTransfer.Encode(snapshot, forged, (0, "hello\n"u8.ToArray()))) channel.Send((byte)type, payload);
        });
        Assert.Equal(ExitStatuses.Diverged, status);
        Assert.Contains(lines, l => l.Contains("whose state hashes to") && l.Contains("stopping this backup"));
    }

    [Fact]
    public void A_joining_backup_takes_a_true_snapshot_and_replays_from_it()
    {
        var (status, lines, _) = FeedBackup(channel =>
        {
            channel.Send((byte)MessageType.Header, Header(DemoHeader(), join: 1));
            var (snapshot, hash) = DemoSnapshot();
            foreach (var (type, payload) in SnapshotTransfer.Encode(snapshot, hash, (0, []))) channel.Send((byte)type, payload);
            channel.Send((byte)MessageType.Error, new PayloadWriter().Text("test over").ToArray());
        });
        Assert.Contains(lines, l => l.StartsWith("joined at step 0 by state transfer") && l.Contains("state hash checked"));
        Assert.Equal(ExitStatuses.Diverged, status);
        Assert.Contains(lines, l => l.Contains("ended the log: test over"));
    }

    [Theory]
    [InlineData(1UL << 40, 0u, 0UL, "bytes of device state")]
    [InlineData(0UL, 1u << 30, 0UL, "RAM pages; the guest has")]
    [InlineData(0UL, 0u, 1UL << 40, "a console history of")]
    public void A_snapshot_announcing_more_than_the_guest_can_hold_is_refused_before_anything_is_allocated(ulong devices, uint pages, ulong console, string message)
    {
        var (status, lines, refusal) = FeedBackup(channel =>
        {
            channel.Send((byte)MessageType.Header, Header(DemoHeader(), join: 1));
            channel.Send((byte)MessageType.SnapshotBegin, SnapshotBegin(0, devices, pages, console));
        });
        Assert.Equal(ExitStatuses.Diverged, status);
        Assert.Contains(lines, l => l.Contains(message) && l.Contains("stopping this backup") && !l.Contains('\n'));
        Assert.NotNull(refusal);
    }

    [Fact]
    public void A_snapshot_sending_more_than_it_announced_is_refused()
    {
        var (status, lines, _) = FeedBackup(channel =>
        {
            channel.Send((byte)MessageType.Header, Header(DemoHeader(), join: 1));
            channel.Send((byte)MessageType.SnapshotBegin, SnapshotBegin(0, 0, 0, 4));
            channel.Send((byte)MessageType.SnapshotPart, new PayloadWriter().U8(SnapshotTransfer.ConsolePart).Blob("hello"u8).ToArray());
        });
        Assert.Equal(ExitStatuses.Diverged, status);
        Assert.Contains(lines, l => l.Contains("more console history than the 4 bytes it announced"));
    }

    [Fact]
    public void A_snapshot_at_another_step_than_its_log_is_refused()
    {
        var (status, lines, _) = FeedBackup(channel =>
        {
            channel.Send((byte)MessageType.Header, Header(DemoHeader(), join: 1));
            channel.Send((byte)MessageType.SnapshotBegin, SnapshotBegin(0, 0, 0, 0) is var b ? Patch(b, 123) : b);
        });
        Assert.Equal(ExitStatuses.Diverged, status);
        Assert.Contains(lines, l => l.Contains("a snapshot at step 123, but its log so far ends at step 0"));
        static byte[] Patch(byte[] b, ulong step)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(b, step);
            return b;
        }
    }

    /// <summary>
    /// The budget in the header binds a backup that takes over: one whose log goes past the budget
    /// the header announced (only a faulty primary sends that) ends its run at once, at the step it
    /// took over, with the instruction limit's status, instead of running on unbounded.
    /// </summary>
    [Fact]
    public void A_backup_taking_over_past_its_primarys_budget_ends_there()
    {
        var (status, lines, _) = FeedBackup(channel =>
        {
            // bench.elf reads no input, so a log with no events covers its first 5000 steps.
            var bench = new TraceHeader(MachineSetup.ForElf(new MachineConfig(), "bench.elf", File.ReadAllBytes(ReplicaProcess.Guest("bench.elf"))), TraceHeader.DefaultStateHashInterval, "test");
            channel.Send((byte)MessageType.Header, Header(bench, budget: 2000));
            channel.Send((byte)MessageType.Log, new PayloadWriter().U64(5000).Blob([]).U32(0).ToArray());
            // Wait until the backup has the log through 5000 (its acknowledgement), then die.
            channel.ReceiveTimeout = TimeSpan.FromSeconds(60);
            while (channel.Receive() is var (type, payload) && !(type == (byte)MessageType.Ack && new PayloadReader(payload, "ack").U64() == 5000)) { }
            channel.Dispose();
        }, liveBefore: true);
        Assert.True(lines.Any(l => l.Contains("live at step 5000")), string.Join("\n", lines));
        Assert.Contains(lines, l => l == "instruction limit 2000 reached");
        Assert.Equal(ExitStatuses.InstructionLimit, status);
    }

    [Fact]
    public void A_primary_lost_before_its_snapshot_arrived_leaves_the_joining_backup_stopped_never_live()
    {
        var (status, lines, _) = FeedBackup(channel =>
        {
            channel.Send((byte)MessageType.Header, Header(DemoHeader(), join: 1));
            channel.Send((byte)MessageType.Log, new PayloadWriter().U64(5000).Blob([]).U32(0).ToArray());
            channel.Dispose();
        });
        Assert.Equal(ExitStatuses.Diverged, status);
        Assert.Contains(lines, l => l.Contains("went away while this backup joined") && l.Contains("holds no state to take over with"));
        Assert.DoesNotContain(lines, l => l.Contains("live at step"));
    }
}
