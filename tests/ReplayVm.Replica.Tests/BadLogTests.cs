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
    private static (int Status, List<string> Lines, byte[]? Refusal) FeedBackup(Action<SecureChannel> primary)
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-badlog-").FullName;
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

    private static byte[] Header(TraceHeader header) => new PayloadWriter().Text("stream").Bytes(TraceLogCodec.EncodeHeader(header)).ToArray();

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
            channel.Send((byte)MessageType.Header, new PayloadWriter().Text("stream").Bytes("RVTRACE\0garbage"u8).ToArray()));
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
}
