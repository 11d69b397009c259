using ReplayVm.Replica.Wire;

namespace ReplayVm.Replica.Tests;

/// <summary>
/// The primary's end of the log channel on real sockets, with the test as the backup: batches
/// posted from the machine's thread go out on that thread while the backup keeps acknowledging,
/// never ahead of frames already queued, and never more than a few without an acknowledgement
/// (so a backup that stops reading cannot block the guest); everything still arrives, in order.
/// </summary>
public sealed class LogStreamTests
{
    private static readonly ReplicaKey Key = ReplicaKey.FromBytes(Enumerable.Range(5, 32).Select(i => (byte)i).ToArray(), "test");

    /// <summary>A connected log channel: the primary's <see cref="LogStream"/> and the backup's end, which the test drives.</summary>
    private sealed class Pair : IDisposable
    {
        private readonly ReplicaServer _server;
        public readonly LogStream Stream;
        public readonly SecureChannel Backup;
        /// <summary>The primary's end, which the stream writes to (a test may write to it directly while the stream is idle).</summary>
        public readonly SecureChannel Primary;
        public readonly List<string> Lost = [];

        public Pair()
        {
            var accepted = new TaskCompletionSource<SecureChannel>();
            var hold = new ManualResetEventSlim();
            _server = new ReplicaServer(new Endpoint("127.0.0.1", 0), Key, channel =>
            {
                accepted.SetResult(channel);
                hold.Wait();
            }, _ => { });
            _server.Start();
            var primary = Primary = SecureChannel.Connect(_server.Endpoint, Key, Purpose.Log);
            Backup = accepted.Task.WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
            // No heartbeats during a test: only the frames it posts cross the channel.
            var options = new ReplicaOptions { HeartbeatInterval = TimeSpan.FromMinutes(5), PeerTimeout = TimeSpan.FromMinutes(5) };
            Stream = new LogStream(primary, options, (_, _, _) => { }, (_, _) => { }, (_, why) => { lock (Lost) Lost.Add(why); });
            Stream.Start();
        }

        public (MessageType Type, byte[] Payload) Read()
        {
            var (type, payload) = Backup.Receive();
            return ((MessageType)type, payload);
        }

        public void Acknowledge(ulong frontier) => Backup.Send((byte)MessageType.Ack, new PayloadWriter().U64(frontier).U64(frontier).ToArray());

        /// <summary>Waits until the stream has taken the acknowledgements sent so far (it reads them on its own thread).</summary>
        public void WaitUntilAcknowledged()
        {
            for (int i = 0; i < 3000 && !Stream.AllAcknowledged; i++) Thread.Sleep(5);
            Assert.True(Stream.AllAcknowledged, "the stream never took the acknowledgement");
        }

        public void Dispose()
        {
            Stream.Dispose();
            Backup.Dispose();
            _server.Dispose();
        }
    }

    private static byte[] Batch(int n) => new PayloadWriter().U64((ulong)n).ToArray();

    private static int Number(byte[] payload)
    {
        var r = new PayloadReader(payload, "test batch");
        int n = (int)r.U64();
        r.End();
        return n;
    }

    [Fact]
    public void Batches_go_out_on_the_posting_thread_while_acknowledged_and_queue_behind_a_backup_that_stops_acknowledging()
    {
        using var pair = new Pair();
        // Acknowledged one by one: every batch goes inline.
        for (int n = 1; n <= 5; n++)
        {
            pair.Stream.Post(MessageType.Log, Batch(n), (ulong)n);
            var (type, payload) = pair.Read();
            Assert.Equal(MessageType.Log, type);
            Assert.Equal(n, Number(payload));
            pair.Acknowledge((ulong)n);
            pair.WaitUntilAcknowledged();
        }
        Assert.Equal(5, pair.Stream.InlineWrites);

        // The backup reads but acknowledges nothing: only a few more go inline, the rest through the sender.
        const int more = 40;
        for (int n = 6; n < 6 + more; n++) pair.Stream.Post(MessageType.Log, Batch(n), (ulong)n);
        for (int n = 6; n < 6 + more; n++)
        {
            var (type, payload) = pair.Read();
            Assert.Equal(MessageType.Log, type);
            Assert.Equal(n, Number(payload));
        }
        Assert.InRange(pair.Stream.InlineWrites, 5, 5 + LogStream.InlineFramesLimit);

        // Acknowledged again: inline again.
        pair.Acknowledge(6 + more - 1);
        pair.WaitUntilAcknowledged();
        int before = pair.Stream.InlineWrites;
        pair.Stream.Post(MessageType.Log, Batch(100), 100);
        Assert.Equal(100, Number(pair.Read().Payload));
        Assert.Equal(before + 1, pair.Stream.InlineWrites);
        Assert.Empty(pair.Lost);
    }

    [Fact]
    public void A_batch_posted_while_queued_frames_are_being_sent_goes_after_them()
    {
        using var pair = new Pair();
        var second = new ManualResetEventSlim();
        var firstSent = new ManualResetEventSlim();
        IEnumerable<(MessageType, byte[])> Snapshot()
        {
            yield return (MessageType.SnapshotPart, Batch(1));
            firstSent.Set();
            // The sender is in the middle of these frames when the batch is posted.
            second.Wait();
            yield return (MessageType.SnapshotPart, Batch(2));
        }
        pair.Stream.EnqueueMany(Snapshot());
        Assert.True(firstSent.Wait(TimeSpan.FromSeconds(30)));
        pair.Stream.Post(MessageType.Log, Batch(3), 3);
        second.Set();
        Assert.Equal((MessageType.SnapshotPart, 1), Frame(pair.Read()));
        Assert.Equal((MessageType.SnapshotPart, 2), Frame(pair.Read()));
        Assert.Equal((MessageType.Log, 3), Frame(pair.Read()));
        Assert.Equal(0, pair.Stream.InlineWrites);
    }

    /// <summary>
    /// A backup that neither reads nor acknowledges (a stopped process) while the guest posts large
    /// batches: far more than any socket buffer holds, so one inline write would block the posting
    /// thread for good. Every post returns; the sending thread is the one left waiting.
    /// </summary>
    [Fact(Timeout = 120_000)] // a blocked post cannot be unblocked from here: the runner gives up on the test instead
    public async Task Large_batches_to_a_backup_that_reads_nothing_never_block_the_posting_thread()
    {
        using var pair = new Pair();
        const int count = 200, size = 64 * 1024;
        var posting = Task.Run(() =>
        {
            for (int n = 0; n < count; n++)
            {
                var payload = new byte[size];
                BitConverter.TryWriteBytes(payload, (ulong)n);
                pair.Stream.Post(MessageType.Log, payload, (ulong)n);
            }
        });
        await posting.WaitAsync(TimeSpan.FromSeconds(60)); // throws TimeoutException if posting blocked
        Assert.Equal(0, pair.Stream.InlineWrites);
        for (int n = 0; n < count; n++)
        {
            var (type, payload) = pair.Read();
            Assert.Equal(MessageType.Log, type);
            Assert.Equal((ulong)n, BitConverter.ToUInt64(payload));
        }
        Assert.Empty(pair.Lost);
    }

    private static (MessageType, int) Frame((MessageType Type, byte[] Payload) frame) => (frame.Type, Number(frame.Payload));

    [Fact]
    public void Frames_that_arrive_together_are_received_one_by_one_and_count_as_pending()
    {
        using var pair = new Pair();
        var large = new byte[300_000];
        Random.Shared.NextBytes(large);
        // Written before the backup reads anything (on loopback a write has arrived when it returns):
        // its first read takes several frames at once.
        pair.Primary.Send((byte)MessageType.Log, Batch(1));
        pair.Primary.Send((byte)MessageType.SnapshotPart, large);
        pair.Primary.Send((byte)MessageType.Log, Batch(2));
        pair.Primary.Send((byte)MessageType.Log, Batch(3));
        Assert.Equal((MessageType.Log, 1), Frame(pair.Read()));
        Assert.True(pair.Backup.HasPendingData);
        var (type, payload) = pair.Read();
        Assert.Equal(MessageType.SnapshotPart, type);
        Assert.Equal(large, payload);
        Assert.Equal((MessageType.Log, 2), Frame(pair.Read()));
        Assert.True(pair.Backup.HasPendingData, "a frame already read ahead from the socket was not counted as pending");
        Assert.Equal((MessageType.Log, 3), Frame(pair.Read()));
        Assert.False(pair.Backup.HasPendingData);
    }

    /// <summary>
    /// After the goodbye the backup acknowledges once more and resets the connection: the end of
    /// the run, not a lost backup. The stream stops reading at that acknowledgement and never reads
    /// into the reset (which cost the primary an exception and .NET's socket error tables at its end).
    /// </summary>
    [Fact]
    public void After_the_goodbye_the_backups_last_acknowledgement_ends_the_reading_and_its_reset_is_no_loss()
    {
        using var pair = new Pair();
        pair.Stream.SayGoodbye(7);
        Assert.Equal(MessageType.Goodbye, pair.Read().Type);
        // As in a run's end: the backup's answer is in before the primary has closed the stream
        // (its sending thread is joined first), and its reset follows at once.
        pair.Acknowledge(7);
        pair.WaitUntilAcknowledged();
        pair.Backup.Dispose();
        Assert.True(pair.Stream.ReceiverEnded.Wait(TimeSpan.FromSeconds(60)), "the stream's receiving thread never stopped");
        pair.Stream.Close(TimeSpan.FromSeconds(30));
        lock (pair.Lost) Assert.Empty(pair.Lost);
    }
}
