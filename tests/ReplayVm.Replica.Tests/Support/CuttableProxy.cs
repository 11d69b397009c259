using System.Net;
using System.Net.Sockets;

namespace ReplayVm.Replica.Tests.Support;

/// <summary>
/// A TCP proxy on 127.0.0.1 standing in for the log channel's network: it forwards both ways
/// until <see cref="Cut"/>, after which it silently drops everything while keeping the
/// connections open — a partition, not a crash, so neither side sees the connection close.
/// With <see cref="MaxDelayMs"/> it holds each piece it forwards for a random time up to that
/// (in order, as a slow network would); with <see cref="SwapFrame"/> it delivers that frame of
/// the client's stream (counted from 0 after the handshake) after the next one, as a network
/// that reordered the log would. With <see cref="DropReplies"/> the server's side is lost from the
/// moment the handshake is over.
/// </summary>
public sealed class CuttableProxy : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly List<TcpClient> _open = [];
    private volatile bool _cut;

    public CuttableProxy(int targetPort)
    {
        _target = targetPort;
        _listener.Start();
        new Thread(Accept) { IsBackground = true }.Start();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Each piece is forwarded after a random delay up to this (order kept); 0: at once.</summary>
    public int MaxDelayMs { get; init; }

    /// <summary>This frame from the client (the primary) reaches the server after the one that follows it; -1: none.</summary>
    public int SwapFrame { get; init; } = -1;

    /// <summary>
    /// Drops everything the server (the backup) sends once the handshake is over: its acknowledgements
    /// never reach the client (the primary), so nothing that needs them — a migration's convergence
    /// and handover — can complete, however slowly the test gets round to <see cref="Cut"/>.
    /// </summary>
    public bool DropReplies { get; init; }

    /// <summary>
    /// Each connection is accepted at once but passes nothing either way until this long after
    /// (the server reached only then: a target slow to answer the handshake); zero: at once.
    /// </summary>
    public TimeSpan HoldFor { get; init; }

    /// <summary>The client's part of the replica handshake: hello, then proof. It sends frames only once the server's last handshake byte has reached it.</summary>
    private const int ClientHandshakeSize = FrameSwapper.HelloSize + FrameSwapper.ProofSize;

    private long _clientBytes;

    /// <summary>Frames from the client seen so far.</summary>
    public int FramesSeen => Volatile.Read(ref _framesSeen);

    private int _framesSeen;

    public void Cut() => _cut = true;

    private void Accept()
    {
        try
        {
            while (true)
            {
                var inbound = _listener.AcceptTcpClient();
                lock (_open) _open.Add(inbound);
                if (HoldFor <= TimeSpan.Zero) Join(inbound);
                else new Thread(() =>
                {
                    Thread.Sleep(HoldFor);
                    Join(inbound);
                }) { IsBackground = true }.Start();
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    /// <summary>Connects <paramref name="inbound"/> to the target and forwards both ways.</summary>
    private void Join(TcpClient inbound)
    {
        try
        {
            var outbound = new TcpClient("127.0.0.1", _target);
            lock (_open) _open.Add(outbound);
            Pump(inbound.GetStream(), outbound.GetStream(), fromClient: true);
            Pump(outbound.GetStream(), inbound.GetStream(), fromClient: false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    private void Pump(NetworkStream from, NetworkStream to, bool fromClient)
    {
        var delayed = new System.Collections.Concurrent.BlockingCollection<(long Due, byte[] Bytes)>();
        var random = new Random(fromClient ? 1 : 2);
        var reorder = fromClient && SwapFrame >= 0 ? new FrameSwapper(SwapFrame, () => Interlocked.Increment(ref _framesSeen)) : null;
        void Forward(byte[] bytes)
        {
            if (_cut) return;
            if (fromClient) Interlocked.Add(ref _clientBytes, bytes.Length);
            else if (DropReplies && Interlocked.Read(ref _clientBytes) > ClientHandshakeSize) return;
            to.Write(bytes);
        }
        new Thread(() =>
        {
            var buffer = new byte[16384];
            long lastDue = 0;
            try
            {
                int n;
                while ((n = from.Read(buffer)) > 0)
                {
                    List<byte[]> pieces = reorder is null ? [buffer[..n]] : reorder.Take(buffer.AsSpan(0, n));
                    foreach (var piece in pieces)
                    {
                        if (MaxDelayMs == 0)
                        {
                            Forward(piece);
                            continue;
                        }
                        lastDue = Math.Max(lastDue, Environment.TickCount64 + random.Next(MaxDelayMs + 1));
                        delayed.Add((lastDue, piece));
                    }
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
            }
            delayed.CompleteAdding();
        }) { IsBackground = true }.Start();
        if (MaxDelayMs == 0) return;
        new Thread(() =>
        {
            try
            {
                foreach (var (due, bytes) in delayed.GetConsumingEnumerable())
                {
                    long wait = due - Environment.TickCount64;
                    if (wait > 0) Thread.Sleep((int)wait);
                    Forward(bytes);
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
            }
        }) { IsBackground = true }.Start();
    }

    /// <summary>
    /// Cuts the client's stream into the replica handshake (hello, then proof) and frames (u32
    /// length, that many bytes, a 16-byte tag), passing everything through in order except frame
    /// <c>swap</c>, which it holds until the next frame has gone.
    /// </summary>
    private sealed class FrameSwapper(int swap, Action counted)
    {
        public const int HelloSize = 6 + 2 + 1 + 32, ProofSize = 32;
        private const int TagSize = 16;
        private readonly List<byte> _pending = [];
        private int _handshakeLeft = HelloSize + ProofSize, _frame;
        private byte[]? _held;

        public List<byte[]> Take(ReadOnlySpan<byte> bytes)
        {
            var output = new List<byte[]>();
            _pending.AddRange(bytes.ToArray());
            if (_handshakeLeft > 0)
            {
                int n = Math.Min(_handshakeLeft, _pending.Count);
                output.Add([.. _pending.GetRange(0, n)]);
                _pending.RemoveRange(0, n);
                _handshakeLeft -= n;
            }
            while (_handshakeLeft == 0 && _pending.Count >= 4)
            {
                int length = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian([.. _pending.GetRange(0, 4)]) + 4 + TagSize;
                if (_pending.Count < length) break;
                byte[] frame = [.. _pending.GetRange(0, length)];
                _pending.RemoveRange(0, length);
                counted();
                if (_frame == swap) _held = frame;
                else
                {
                    output.Add(frame);
                    if (_held is not null)
                    {
                        output.Add(_held);
                        _held = null;
                    }
                }
                _frame++;
            }
            return output;
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        lock (_open)
            foreach (var c in _open) c.Dispose();
    }
}
