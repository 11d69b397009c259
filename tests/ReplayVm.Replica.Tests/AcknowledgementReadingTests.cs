using System.Net;
using System.Net.Sockets;
using System.Text;
using ReplayVm.Core;
using ReplayVm.Replay;
using ReplayVm.Replica.Arbiter;
using ReplayVm.Replica.Tests.Support;
using ReplayVm.Replica.Wire;

namespace ReplayVm.Replica.Tests;

/// <summary>
/// Who reads the backup's acknowledgements on the primary: while the guest runs, the machine's
/// thread, at each batch it publishes (the log channel's receiving thread would otherwise wake for
/// every one, a hundred a second, on the guest's core); while the guest idles, the receiving
/// thread, at once — or the output printed before the idle would stay held for good, since the
/// machine's thread publishes nothing more until input comes.
/// </summary>
public sealed class AcknowledgementReadingTests
{
    private static readonly ReplicaKey Key = ReplicaKey.FromBytes(Enumerable.Range(21, 32).Select(i => (byte)i).ToArray(), "test");

    [Fact]
    public async Task A_running_guests_acknowledgements_are_read_by_the_machines_thread_and_an_idle_ones_by_the_receiving_thread()
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-ack-reading-").FullName;
        // This test is the backup: it acknowledges every batch and sends nothing else. No
        // heartbeats either way within the test, and no lag bound that would make the primary wait.
        var options = new ReplicaOptions
        {
            Say = _ => { },
            HeartbeatInterval = TimeSpan.FromSeconds(60),
            HeartbeatTimeout = TimeSpan.FromSeconds(120),
            PeerTimeout = TimeSpan.FromSeconds(240),
            MaxLagTime = TimeSpan.FromHours(1),
            MaxLagSteps = ulong.MaxValue,
        };
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var accepting = Task.Run(() =>
        {
            var tcp = listener.AcceptTcpClient();
            return SecureChannel.Accept(tcp, Key, out string? refused) ?? throw new InvalidOperationException(refused);
        });
        string guest = ChatterGuest.IdlingPath;
        var setup = MachineSetup.ForElf(new MachineConfig(), Path.GetFileName(guest), File.ReadAllBytes(guest));
        using var arbiter = new FileArbiter(Path.Combine(dir, "arbiter"));
        var node = ReplicaNode.StartPrimary(setup, options, Key, arbiter, [], new Endpoint("127.0.0.1", port));
        var runner = new Thread(() => node.Run()) { IsBackground = true };
        int acknowledged = 0;
        Thread? backup = null;
        try
        {
            using var channel = await accepting.WaitAsync(TimeSpan.FromSeconds(60));
            runner.Start();
            backup = new Thread(() =>
            {
                try
                {
                    while (true)
                    {
                        var (type, payload) = channel.Receive();
                        if (type != (byte)MessageType.Log) continue;
                        ulong frontier = new PayloadReader(payload, "log batch").U64();
                        // Each batch is acknowledged once the next has come, or once the guest is idle:
                        // never while the machine's thread, having just published, might still poll
                        // for it before it waits. The last batch, with the last output, is then
                        // acknowledged only while the machine's thread waits for input.
                        while (!channel.HasPendingData && !node.GuestWaitingForInput) Thread.Sleep(1);
                        channel.Send((byte)MessageType.Ack, new PayloadWriter().U64(frontier).U64(frontier).ToArray());
                        Interlocked.Increment(ref acknowledged);
                    }
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException or ReplicaException)
                {
                    // The primary stopped at the end of the test.
                }
            }) { IsBackground = true };
            backup.Start();

            // The guest prints its last line and idles: every byte must be released all the same.
            long expected = ChatterGuest.IdlingOutput.Length;
            for (int i = 0; i < 12_000 && !(node.Console.Produced == expected && node.Console.Released == expected); i++) Thread.Sleep(5);
            Assert.True(node.Console.Produced == expected, $"the guest printed {node.Console.Produced} of {expected} bytes");
            Assert.True(node.Console.Released == expected, $"{node.Console.Released} of {expected} bytes released after the guest went idle: the last acknowledgement was never read");
            Assert.Equal(ChatterGuest.IdlingOutput, Encoding.ASCII.GetString(node.Console.CopyRetained().Bytes));

            // The receiving thread read the first few acknowledgements, until the machine's thread
            // took over, and the one (or two) in flight as the guest went idle: none in between.
            int count = Volatile.Read(ref acknowledged);
            Assert.True(count >= 15, $"only {count} batches: too few for the figure below to tell anything");
            Assert.InRange(node.BackupReceiverFrames, 1, 8);
        }
        finally
        {
            node.RequestStop();
            Assert.True(runner.Join(TimeSpan.FromSeconds(60)) || !runner.IsAlive, "the primary did not stop");
            node.Dispose();
            backup?.Join(TimeSpan.FromSeconds(60));
            listener.Stop();
            Directory.Delete(dir, true);
        }
    }
}
