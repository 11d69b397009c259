using System.Net.Sockets;
using System.Text;
using ReplayVm.Debugger.Gdb;

namespace ReplayVm.Debugger.Tests.Gdb;

/// <summary>A minimal RSP client for protocol tests: sends framed packets, reads replies, acks them.</summary>
public sealed class RspTestClient : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly RspReader _reader;

    public RspTestClient(int port)
    {
        _client = new TcpClient();
        _client.Connect("127.0.0.1", port);
        _client.NoDelay = true;
        _stream = _client.GetStream();
        _reader = new RspReader(_stream, 1 << 20);
    }

    public bool NoAck { get; set; }

    public void SendRaw(byte[] bytes) => _stream.Write(bytes);

    public void SendRaw(string text) => SendRaw(Encoding.Latin1.GetBytes(text));

    public void Send(string payload) => SendRaw(RspCodec.Frame(RspCodec.AsBytes(payload)));

    /// <summary>Sends a packet and returns the decoded reply (skipping the server's '+').</summary>
    public string Request(string payload)
    {
        Send(payload);
        return ReadReply() ?? throw new InvalidOperationException($"connection closed after '{payload}'");
    }

    /// <summary>Next packet from the server as text, acking it; null if the server closed the connection.</summary>
    public string? ReadReply()
    {
        while (true)
        {
            RspEvent? ev = Next();
            if (ev is null) return null;
            if (ev.Kind != RspEventKind.Packet) continue;
            Assert.True(ev.ChecksumOk, "server sent a bad checksum");
            if (!NoAck) SendRaw("+");
            return RspCodec.AsText(ev.Payload!);
        }
    }

    /// <summary>Next event of any kind (acks included); null on close.</summary>
    public RspEvent? Next()
    {
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            return _reader.ReadAsync(cts.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("the server did not answer within 10 s");
        }
    }

    public void Dispose() => _client.Dispose();
}

/// <summary>A server on a free loopback port, serving in the background for one test.</summary>
public sealed class RunningServer : IDisposable
{
    private readonly CancellationTokenSource _stop = new();

    public RunningServer(IDebugTarget target, GdbServerOptions? options = null)
    {
        options ??= new GdbServerOptions(System.Net.IPAddress.Loopback, 0);
        Server = new GdbServer(target, options with { Address = System.Net.IPAddress.Loopback, Port = 0 }, Log.Enqueue);
        Server.Start();
        Serving = Task.Run(() => Server.RunAsync(_stop.Token));
    }

    public GdbServer Server { get; }

    /// <summary>What the server logged (connections, refusals, internal errors).</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Log { get; } = new();
    public Task Serving { get; }
    public int Port => Server.Port;

    public RspTestClient Connect() => new(Port);

    public void Dispose()
    {
        _stop.Cancel();
        Serving.Wait(TimeSpan.FromSeconds(10));
        Server.Dispose();
    }
}
