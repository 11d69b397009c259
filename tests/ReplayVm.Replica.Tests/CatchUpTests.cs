using System.Net;
using System.Net.Sockets;
using ReplayVm.Core;
using ReplayVm.Replay;
using ReplayVm.Replica.Arbiter;
using ReplayVm.Replica.Tests.Support;
using ReplayVm.Replica.Wire;

namespace ReplayVm.Replica.Tests;

/// <summary>
/// A primary waiting for its backup (the lag bound) sends a heartbeat right behind the log: the
/// backup acknowledges once its replay has caught up, rather than sit idle until its own next
/// heartbeat while the primary waits to hear of it.
/// </summary>
public sealed class CatchUpTests
{
    private static readonly ReplicaKey Key = ReplicaKey.FromBytes(Enumerable.Range(9, 32).Select(i => (byte)i).ToArray(), "test");

    [Fact]
    public void A_heartbeat_while_the_replay_is_behind_is_answered_again_once_the_replay_has_caught_up()
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-catchup-").FullName;
        // The backup's own heartbeat (an acknowledgement every interval) would come only after a
        // minute: within the test, every acknowledgement answers a frame, or the catch-up.
        var options = new ReplicaOptions
        {
            Say = _ => { },
            HeartbeatInterval = TimeSpan.FromSeconds(60),
            HeartbeatTimeout = TimeSpan.FromSeconds(120),
            PeerTimeout = TimeSpan.FromSeconds(240),
        };
        using var arbiter = new FileArbiter(Path.Combine(dir, "arbiter"));
        using var node = ReplicaNode.StartBackup(options, Key, arbiter, [new Endpoint("127.0.0.1", 0)]);
        var runner = new Thread(() => node.Run()) { IsBackground = true };
        runner.Start();
        using (var channel = SecureChannel.Connect(node.Listening[0], Key, Purpose.Log))
        {
            var setup = MachineSetup.ForElf(new MachineConfig(), "bench.elf", File.ReadAllBytes(ReplicaProcess.Guest("bench.elf")));
            var header = new TraceHeader(setup, TraceHeader.DefaultStateHashInterval, "test");
            channel.Send((byte)MessageType.Header, new PayloadWriter().Text("stream").U8(0).U64(ulong.MaxValue).Bytes(TraceLogCodec.EncodeHeader(header)).ToArray());
            // bench.elf computes for 4.2e8 steps without input: a replay of a second or more, so
            // the heartbeat right behind the batch finds it far behind.
            const ulong frontier = 400_000_000;
            channel.Send((byte)MessageType.Log, new PayloadWriter().U64(frontier).Blob([]).U32(0).ToArray());
            channel.Send((byte)MessageType.Heartbeat, new PayloadWriter().U64(frontier).ToArray());
            channel.ReceiveTimeout = TimeSpan.FromSeconds(50);
            var replays = new List<ulong>();
            while (replays.Count == 0 || replays[^1] < frontier)
            {
                var (type, payload) = channel.Receive();
                Assert.Equal((byte)MessageType.Ack, type);
                var r = new PayloadReader(payload, "ack");
                ulong received = r.U64(), replayed = r.U64();
                r.End();
                Assert.True(replayed <= received, $"acknowledged a replay at {replayed} beyond the log's {received}");
                replays.Add(replayed);
            }
            // The frames' own acknowledgements came while the replay was behind; the last, at the frontier, is the catch-up's.
            Assert.True(replays.Count >= 2, $"acknowledgements: {string.Join(", ", replays)}");
            Assert.True(replays[^2] < frontier, $"acknowledgements: {string.Join(", ", replays)}");
            Assert.Equal(frontier, replays[^1]);
            channel.Send((byte)MessageType.Error, new PayloadWriter().Text("test over").ToArray());
        }
        Assert.True(runner.Join(TimeSpan.FromSeconds(30)), "the backup did not stop");
        Directory.Delete(dir, true);
    }

    [Fact]
    public void A_primary_that_waits_for_its_backup_sends_a_heartbeat_right_behind_the_log()
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-catchup-primary-").FullName;
        string keyFile = Path.Combine(dir, "replica.key");
        File.WriteAllBytes(keyFile, Enumerable.Range(40, 32).Select(i => (byte)i).ToArray());
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("these tests need Unix file modes");
        File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var key = ReplicaKey.Load(keyFile);
        // This test is the backup: it acknowledges the first batch in full (the primary then counts
        // it caught up and holds it to a 1 ms lag bound), then nothing more, so the primary waits.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        // Its own heartbeats would come only after a minute: a heartbeat within the test is the wait's.
        using var primary = new ReplicaProcess(
            ["primary", "--key", keyFile, "--arbiter", "file:" + Path.Combine(dir, "arbiter"), "--backup", $"127.0.0.1:{port}",
             "--heartbeat-interval", "60000", "--heartbeat-timeout", "120000", "--peer-timeout", "240000", "--max-lag-ms", "1", "--linger", "0",
             ReplicaProcess.Guest("bench.elf")], dir);
        try
        {
            using var tcp = listener.AcceptTcpClient();
            using var channel = SecureChannel.Accept(tcp, key, out string? refused) ?? throw new InvalidOperationException(refused);
            channel.ReceiveTimeout = TimeSpan.FromSeconds(30);
            Assert.Equal((byte)MessageType.Header, channel.Receive().Type);
            ulong? lastLog = null;
            bool acknowledged = false;
            while (true)
            {
                var (type, payload) = channel.Receive();
                if (type == (byte)MessageType.Heartbeat)
                {
                    ulong frontier = new PayloadReader(payload, "heartbeat").U64();
                    Assert.True(acknowledged, "a heartbeat before the backup was caught up");
                    Assert.Equal(lastLog, frontier);
                    break;
                }
                Assert.Equal((byte)MessageType.Log, type);
                lastLog = new PayloadReader(payload, "log batch").U64();
                if (!acknowledged)
                {
                    channel.Send((byte)MessageType.Ack, new PayloadWriter().U64(lastLog.Value).U64(lastLog.Value).ToArray());
                    acknowledged = true;
                }
            }
        }
        finally
        {
            primary.KillHard();
            listener.Stop();
            Directory.Delete(dir, true);
        }
    }
}
