using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace ReplayVm.Replica;

/// <summary>
/// The plain console (<c>--plain-console-listen</c>): for scripts that speak bytes, not the replica
/// protocol. The client's first line is <c>TOKEN [OFFSET]</c>; then every byte it sends is guest
/// input and every byte it receives is the guest's console from OFFSET (default 0: the whole
/// console so far, so a script can wait for a prompt printed before it connected). When the run
/// ends the replica closes the connection after the last byte. Only the live replica serves it; a
/// failover closes it, and a script reconnects to the new live replica with the number of bytes it
/// has seen as OFFSET. Unlike <c>replayvm console</c>, input sent but not yet taken by the guest
/// when the replica dies is lost (never doubled): scripts that need exactly-once input use that.
/// </summary>
public sealed partial class ReplicaNode
{
    private readonly List<PlainConsoleServer> _plainServers = [];

    /// <summary>Where the plain console listens (port 0 resolved).</summary>
    public IReadOnlyList<Wire.Endpoint> PlainListening => _plainServers.Select(s => s.Endpoint).ToList();

    private void ListenPlain()
    {
        foreach (var endpoint in _options.PlainConsoleListen)
        {
            var server = new PlainConsoleServer(endpoint, HandlePlainConsole);
            _plainServers.Add(server);
            server.Start();
        }
    }

    /// <summary>The longest first line accepted: a 64-digit token, a space and an offset.</summary>
    private const int PlainFirstLineLimit = 128;

    private void HandlePlainConsole(TcpClient tcp)
    {
        bool attached = false;
        try
        {
            ServePlainConsole(tcp, ref attached);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
        {
        }
        finally
        {
            Release(tcp);
            if (attached) Detach();
        }
    }

    private void ServePlainConsole(TcpClient tcp, ref bool attached)
    {
        // Formatted only for a message: the address's formatting is JIT-compiled code, which
        // every primary's first client paid for before.
        string Peer() => tcp.Client.RemoteEndPoint?.ToString() ?? "?";
        tcp.NoDelay = true;
        var stream = tcp.GetStream();
        stream.ReadTimeout = 10_000;
        var line = ReadFirstLine(stream);
        var parts = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
        var expected = Encoding.ASCII.GetBytes(_key.PlainConsoleToken);
        if (parts.Length is < 1 or > 2 || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(parts[0]), expected))
        {
            Say($"refused plain console client {Peer()}: {(line is null ? "no token line within 10 s" : "wrong token")}");
            stream.Write("replayvm: refused: the first line must be the console token ('replayvm console --print-token' prints it)\n"u8);
            return;
        }
        ulong offset = 0;
        if (parts.Length == 2 && (!ulong.TryParse(parts[1], out offset) || offset > (ulong)Console.Produced))
        {
            stream.Write(Encoding.UTF8.GetBytes($"replayvm: refused: output offset '{parts[1]}' is not a number up to the guest's {Console.Produced} bytes\n"));
            return;
        }
        if (_role is not (ReplicaRole.Live or ReplicaRole.Ended))
        {
            stream.Write(Encoding.UTF8.GetBytes($"replayvm: this replica is not live ({_role.ToString().ToLowerInvariant()}): connect to the live one\n"));
            return;
        }
        if ((long)offset < Console.Oldest)
        {
            WritePlainDropped(stream, Peer(), (long)offset, midStream: false);
            return;
        }
        var client = Guid.NewGuid();
        Interlocked.Increment(ref _attached);
        attached = true;
        var done = new CancellationTokenSource();
        var closed = new CancellationTokenSource();
        var reader = new Thread(() => ReadPlainInput(stream, client, done, closed)) { IsBackground = true, Name = "plain console input" };
        reader.Start();
        try
        {
            long at = (long)offset;
            while (_role is ReplicaRole.Live or ReplicaRole.Ended)
            {
                var bytes = Console.Read(at, 64 * 1024, TimeSpan.FromMilliseconds(20));
                if (bytes is null)
                {
                    WritePlainDropped(stream, Peer(), at, midStream: true);
                    break;
                }
                if (bytes.Length > 0)
                {
                    stream.Write(bytes);
                    at += bytes.Length;
                }
                else if (Console.End is not null && at == Console.Released)
                {
                    Interlocked.Increment(ref _endsDelivered);
                    tcp.Client.Shutdown(SocketShutdown.Send);
                    // Let the client read to the end before the connection goes (a script that has
                    // closed its side has read it: no need to wait).
                    WaitHandle.WaitAny([done.Token.WaitHandle, closed.Token.WaitHandle], TimeSpan.FromSeconds(1));
                    break;
                }
                else if (done.IsCancellationRequested && !tcp.Connected) break;
            }
        }
        finally
        {
            done.Cancel();
        }
    }

    /// <summary>
    /// One line to a plain console client whose output from <paramref name="offset"/> is no longer
    /// held (so the byte count it has seen is no longer a place to go on from); the caller closes.
    /// </summary>
    private void WritePlainDropped(NetworkStream stream, string peer, long offset, bool midStream)
    {
        long oldest = Console.Oldest;
        Say($"plain console client {peer} asked for output from byte {offset}, which is no longer held (bytes from {oldest} are): told it so");
        stream.Write(Encoding.UTF8.GetBytes((midStream ? "\n" : "") + "replayvm: " + ConsoleHistory.DescribeDropped(offset, oldest, Console.Capacity,
            $"reconnect with '{oldest}' after the token to go on from the oldest byte held") + "\n"));
    }

    /// <summary>Reads up to the first newline, byte by byte (so what follows it stays in the socket, as input): the line, or null.</summary>
    private static string? ReadFirstLine(NetworkStream stream)
    {
        var line = new List<byte>();
        try
        {
            while (line.Count < PlainFirstLineLimit)
            {
                int b = stream.ReadByte();
                if (b < 0) return null;
                if (b == '\n') return Encoding.ASCII.GetString(line.ToArray()).TrimEnd('\r');
                line.Add((byte)b);
            }
        }
        catch (IOException)
        {
        }
        return null;
    }

    private void ReadPlainInput(NetworkStream stream, Guid client, CancellationTokenSource done, CancellationTokenSource closed)
    {
        ulong offset = 0;
        var buffer = new byte[4096];
        try
        {
            stream.ReadTimeout = Timeout.Infinite;
            while (!done.IsCancellationRequested)
            {
                int n = stream.Read(buffer);
                if (n == 0)
                {
                    // The script closed its side: output goes on to the end, and once that has been
                    // sent there is nothing left to wait for.
                    closed.Cancel();
                    return;
                }
                Offer(buffer.AsSpan(0, n));
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
        {
            done.Cancel();
        }

        void Offer(ReadOnlySpan<byte> bytes)
        {
            if (bytes.IsEmpty) return;
            // Input reaches only a live replica's guest (after the run it has nowhere to go).
            if (_role == ReplicaRole.Live) _port.Clients.Offer(client, offset, bytes);
            offset += (ulong)bytes.Length;
        }
    }
}
