using System.Net;
using System.Net.Sockets;
using ReplayVm.Replica.Wire;

namespace ReplayVm.Replica.Tests;

/// <summary>The replica channel's handshake and framing against hostile peers, on real sockets.</summary>
public sealed class ChannelSecurityTests
{
    private static readonly ReplicaKey KeyA = ReplicaKey.FromBytes(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray(), "a");
    private static readonly ReplicaKey KeyB = ReplicaKey.FromBytes(Enumerable.Range(2, 32).Select(i => (byte)i).ToArray(), "b");

    /// <summary>A server that authenticates with <paramref name="key"/>, echoes one frame back, and records refusals.</summary>
    private sealed class EchoServer : IDisposable
    {
        public readonly List<string> Refusals = [];
        private readonly ReplicaServer _server;

        public EchoServer(ReplicaKey key)
        {
            _server = new ReplicaServer(new Endpoint("127.0.0.1", 0), key, channel =>
            {
                using (channel)
                {
                    var (type, payload) = channel.Receive();
                    channel.Send(type, payload);
                    Thread.Sleep(100);
                }
            }, line =>
            {
                lock (Refusals) Refusals.Add(line);
            });
            _server.Start();
        }

        public Endpoint Endpoint => _server.Endpoint;

        public string WaitForRefusal()
        {
            for (int i = 0; i < 200; i++)
            {
                lock (Refusals)
                    if (Refusals.Count > 0) return Refusals[0];
                Thread.Sleep(20);
            }
            throw new TimeoutException("the server logged no refusal");
        }

        public void Dispose() => _server.Dispose();
    }

    [Fact]
    public void Peers_with_the_same_key_exchange_frames()
    {
        using var server = new EchoServer(KeyA);
        using var channel = SecureChannel.Connect(server.Endpoint, KeyA, Purpose.Status);
        channel.Send(7, "hello"u8);
        var (type, payload) = channel.Receive();
        Assert.Equal(7, type);
        Assert.Equal("hello"u8.ToArray(), payload);
    }

    [Fact]
    public void A_peer_with_another_key_is_refused_with_one_line_on_both_sides()
    {
        using var server = new EchoServer(KeyA);
        var e = Assert.Throws<ReplicaException>(() => SecureChannel.Connect(server.Endpoint, KeyB, Purpose.Console));
        Assert.Contains("does not hold our replica key", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.StartsWith("refused 127.0.0.1:", server.WaitForRefusal());
    }

    [Fact]
    public async Task A_captured_and_replayed_client_stream_is_refused()
    {
        using var server = new EchoServer(KeyA);
        // A proxy that records what the client sends.
        var captured = new MemoryStream();
        var proxy = new TcpListener(IPAddress.Loopback, 0);
        proxy.Start();
        var relay = Task.Run(() =>
        {
            using var inbound = proxy.AcceptTcpClient();
            using var outbound = new TcpClient("127.0.0.1", server.Endpoint.Port);
            var a = inbound.GetStream();
            var b = outbound.GetStream();
            var up = Task.Run(() =>
            {
                var buffer = new byte[4096];
                int n;
                try
                {
                    while ((n = a.Read(buffer)) > 0)
                    {
                        lock (captured) captured.Write(buffer, 0, n);
                        b.Write(buffer, 0, n);
                    }
                }
                catch (IOException)
                {
                }
            });
            try
            {
                b.CopyTo(a);
            }
            catch (IOException)
            {
            }
            up.Wait(2000);
        });
        using (var channel = SecureChannel.Connect(new Endpoint("127.0.0.1", ((IPEndPoint)proxy.LocalEndpoint).Port), KeyA, Purpose.Control))
        {
            channel.Send(9, "migrate to evil"u8);
            Assert.Equal(9, channel.Receive().Type);
        }
        // The relay ends when both sides have closed; what it captured so far is what matters.
        await Task.WhenAny(relay, Task.Delay(5000));
        proxy.Stop();
        byte[] replay;
        lock (captured) replay = captured.ToArray();
        Assert.True(replay.Length > 41 + 32);

        using var attacker = new TcpClient("127.0.0.1", server.Endpoint.Port);
        var stream = attacker.GetStream();
        stream.ReadTimeout = 5000;
        stream.Write(replay);
        // The server answers the hello with its own fresh nonce, so the old proof fails: a refusal.
        var answer = new byte[1 + 2 + 32 + 32];
        stream.ReadExactly(answer);
        Assert.Equal(0, answer[0]);
        Assert.Equal(0xFF, stream.ReadByte());
        Assert.Contains("wrong replica key or a replayed handshake", server.WaitForRefusal());
    }

    [Fact]
    public void A_tampered_frame_fails_authentication()
    {
        using var server = new EchoServer(KeyA);
        var proxy = new TcpListener(IPAddress.Loopback, 0);
        proxy.Start();
        long forwarded = 0;
        var relay = Task.Run(() =>
        {
            using var inbound = proxy.AcceptTcpClient();
            using var outbound = new TcpClient("127.0.0.1", server.Endpoint.Port);
            var a = inbound.GetStream();
            var b = outbound.GetStream();
            var up = Task.Run(() =>
            {
                try
                {
                    int value;
                    while ((value = a.ReadByte()) >= 0)
                    {
                        // Flip one bit of the first frame's ciphertext (after the 41-byte hello and the 32-byte proof, the 4-byte length).
                        if (forwarded++ == 41 + 32 + 4 + 2) value ^= 0x10;
                        b.WriteByte((byte)value);
                    }
                }
                catch (IOException)
                {
                }
            });
            try
            {
                b.CopyTo(a);
            }
            catch (IOException)
            {
            }
        });
        var refused = new List<string>();
        using var channel = SecureChannel.Connect(new Endpoint("127.0.0.1", ((IPEndPoint)proxy.LocalEndpoint).Port), KeyA, Purpose.Status);
        channel.Send(7, "hello"u8);
        // The server drops the connection when the frame fails its tag; the echo never comes.
        Assert.ThrowsAny<Exception>(() => channel.Receive());
        proxy.Stop();
    }

    [Fact]
    public void A_peer_of_another_protocol_version_is_refused_with_one_line()
    {
        using var server = new EchoServer(KeyA);
        using var peer = new TcpClient("127.0.0.1", server.Endpoint.Port);
        var stream = peer.GetStream();
        stream.ReadTimeout = 5000;
        var hello = new byte[41];
        "RVREPL"u8.CopyTo(hello);
        hello[6] = 99;
        hello[8] = (byte)Purpose.Log;
        stream.Write(hello);
        Assert.Equal(0xFF, stream.ReadByte());
        var length = new byte[2];
        stream.ReadExactly(length);
        var text = new byte[length[0] | length[1] << 8];
        stream.ReadExactly(text);
        Assert.Contains("protocol version", System.Text.Encoding.UTF8.GetString(text));
        Assert.Contains("protocol version 99", server.WaitForRefusal());
    }
}
