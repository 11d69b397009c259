using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace ReplayVm.Replica.Wire;

/// <summary>
/// One authenticated, encrypted replica connection over TCP.
/// <para>Handshake (plain): the client sends <c>"RVREPL", version u16, purpose u8, nonce[32]</c>;
/// the server answers <c>0, version u16, nonce[32], HMAC(key, "server" | purpose | client nonce |
/// server nonce)</c> or <c>0xFF, u16 length, UTF-8 reason</c>; the client checks that proof and
/// sends its own <c>HMAC(key, "client" | ...)</c>; the server answers <c>0</c> or a refusal. Fresh
/// nonces on both sides mean a captured handshake proves nothing on a new connection.</para>
/// <para>Frames (both directions): <c>u32 length, AES-256-GCM(type u8 | payload), tag[16]</c>, with
/// one key per direction from HKDF-SHA256(key, salt = both nonces), the frame's counter as the GCM
/// nonce and its length as associated data. Any change, reordering, replay or truncation of a
/// frame fails its tag. Encryption is on for every connection, loopback included: one code path,
/// and the log carries everything the guest was told.</para>
/// </summary>
public sealed class SecureChannel : IDisposable
{
    /// <summary>
    /// 2: a joining backup gets a snapshot (state transfer) instead of replaying from step 0.
    /// 3: the header carries the run's step budget, a snapshot's console history its start offset,
    /// and a console client asking for dropped output gets <see cref="MessageType.OutputDropped"/>.
    /// 4: a join (<c>backup --join</c>) or a migration request may get keepalive reports before its
    /// answer, which a version-3 requester would take for the answer and fail on.
    /// </summary>
    public const ushort Version = 4;
    private static ReadOnlySpan<byte> Magic => "RVREPL"u8;
    private const int NonceSize = 32, ProofSize = 32, TagSize = 16, HelloSize = 6 + 2 + 1 + NonceSize;
    public const int DefaultMaxFrame = 16 << 20;

    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly AesGcm _send, _receive;
    private readonly Lock _sendLock = new();
    private ulong _sendCounter, _receiveCounter;
    private bool _disposed;

    /// <summary>
    /// Bytes read from the socket ahead of the frame being received: one <c>recv</c> usually
    /// brings a whole frame (length prefix and body), or several, instead of one call for the
    /// prefix and another for the body. Every system call counts on the log channel, where frames
    /// and acknowledgements go every few milliseconds and each read is a thread's wake-up.
    /// </summary>
    private readonly byte[] _readAhead = new byte[ReadAheadSize];
    private int _readStart, _readEnd;
    /// <summary>Bytes in <see cref="_readAhead"/> not yet taken, for <see cref="HasPendingData"/> on other threads.</summary>
    private volatile int _readBuffered;
    private const int ReadAheadSize = 64 << 10;

    private SecureChannel(TcpClient tcp, NetworkStream stream, byte[] sendKey, byte[] receiveKey, Purpose purpose, string peer)
    {
        _tcp = tcp;
        _stream = stream;
        _send = new AesGcm(sendKey, TagSize);
        _receive = new AesGcm(receiveKey, TagSize);
        Purpose = purpose;
        Peer = peer;
    }

    public Purpose Purpose { get; }

    /// <summary>The other end's address, for messages.</summary>
    public string Peer { get; }

    /// <summary>Longest a <see cref="Receive"/> waits for a frame before it throws <see cref="TimeoutException"/>; infinite by default.</summary>
    public TimeSpan ReceiveTimeout
    {
        set
        {
            try
            {
                _stream.ReadTimeout = value == Timeout.InfiniteTimeSpan ? Timeout.Infinite : Math.Max(1, (int)value.TotalMilliseconds);
            }
            catch (Exception e) when (e is ObjectDisposedException or IOException or SocketException)
            {
                throw new IOException("the connection is closed", e);
            }
        }
    }

    /// <summary>Connects to <paramref name="endpoint"/> and proves the key. Throws <see cref="ReplicaException"/> with one line on refusal.</summary>
    public static SecureChannel Connect(Endpoint endpoint, ReplicaKey key, Purpose purpose, TimeSpan? timeout = null)
    {
        // An IPv4 address connects an IPv4 socket by address: no parse of the text by .NET (see
        // Endpoint.Ipv4), nor an IPv6 socket's mapping of it (::ffff:a.b.c.d).
        var ipv4 = endpoint.Ipv4;
        var tcp = ipv4 is null ? new TcpClient() : new TcpClient(AddressFamily.InterNetwork);
        tcp.NoDelay = true;
        try
        {
            var wait = timeout ?? TimeSpan.FromSeconds(3);
            ConnectBlocking(tcp, endpoint, ipv4, wait);
            var stream = tcp.GetStream();
            stream.ReadTimeout = stream.WriteTimeout = (int)wait.TotalMilliseconds;
            var clientNonce = RandomNumberGenerator.GetBytes(NonceSize);
            var hello = new byte[HelloSize];
            Magic.CopyTo(hello);
            BinaryPrimitives.WriteUInt16LittleEndian(hello.AsSpan(6), Version);
            hello[8] = (byte)purpose;
            clientNonce.CopyTo(hello, 9);
            stream.Write(hello);

            ReadStatus(stream, endpoint.ToString());
            var answer = ReadExactly(stream, 2 + NonceSize + ProofSize);
            var serverNonce = answer.AsSpan(2, NonceSize).ToArray();
            var expected = Proof(key, "server", purpose, clientNonce, serverNonce);
            if (!CryptographicOperations.FixedTimeEquals(expected, answer.AsSpan(2 + NonceSize)))
                throw new ReplicaException($"{endpoint}: the server does not hold our replica key ({key.Source}); refusing it");
            stream.Write(Proof(key, "client", purpose, clientNonce, serverNonce));
            ReadStatus(stream, endpoint.ToString());
            stream.ReadTimeout = Timeout.Infinite;
            stream.WriteTimeout = Timeout.Infinite;
            var (c2s, s2c) = SessionKeys(key, clientNonce, serverNonce);
            return new SecureChannel(tcp, stream, c2s, s2c, purpose, endpoint.ToString());
        }
        catch (Exception e) when (e is IOException or SocketException or AggregateException or ObjectDisposedException)
        {
            tcp.Dispose();
            var inner = e is AggregateException a ? a.InnerException ?? e : e;
            throw new ReplicaException($"{endpoint}: cannot connect: {inner.Message}");
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Uses each primitive of the handshake and the framing once on throwaway data, so that a
    /// replica waiting for a peer has the crypto library loaded and its code compiled before the
    /// peer arrives (a backup does this while it waits: a primary's connection then costs the round trips only).
    /// </summary>
    public static void WarmUp()
    {
        var secret = new byte[32];
        var nonce = RandomNumberGenerator.GetBytes(NonceSize);
        HMACSHA256.HashData(secret, nonce);
        HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 64, nonce, "replayvm replica session v1"u8.ToArray());
        using var aes = new AesGcm(secret, TagSize);
        var plain = new byte[16];
        var sealedBytes = new byte[16];
        var tag = new byte[TagSize];
        aes.Encrypt(CounterNonce(0), plain, sealedBytes, tag, nonce);
        aes.Decrypt(CounterNonce(0), sealedBytes, tag, plain, nonce);
    }

    /// <summary>
    /// Connects with a blocking call, bounded by closing the socket when <paramref name="wait"/>
    /// passes. Not <c>ConnectAsync</c>: on Unix a socket that has seen one asynchronous operation
    /// stays non-blocking for good, and every later synchronous read and write on it is then
    /// emulated through .NET's socket event thread and a thread-pool worker (two extra thread
    /// wake-ups per frame on the log channel, where a frame goes every few milliseconds).
    /// </summary>
    private static void ConnectBlocking(TcpClient tcp, Endpoint endpoint, IPAddress? ipv4, TimeSpan wait)
    {
        const int Connecting = 0, TimedOut = 1, Connected = 2;
        int state = Connecting;
        using var watchdog = new Timer(_ =>
        {
            if (Interlocked.CompareExchange(ref state, TimedOut, Connecting) == Connecting) tcp.Dispose();
        }, null, wait, Timeout.InfiniteTimeSpan);
        try
        {
            if (ipv4 is null) tcp.Connect(endpoint.Host, endpoint.Port);
            else tcp.Connect(ipv4, endpoint.Port);
        }
        catch (Exception e) when (Volatile.Read(ref state) == TimedOut && e is SocketException or ObjectDisposedException or IOException)
        {
            throw new ReplicaException($"{endpoint}: no answer within {wait.TotalMilliseconds:0} ms");
        }
        if (Interlocked.CompareExchange(ref state, Connected, Connecting) == TimedOut)
            throw new ReplicaException($"{endpoint}: no answer within {wait.TotalMilliseconds:0} ms");
    }

    /// <summary>
    /// Runs the server side of the handshake on an accepted connection. Returns null (after telling
    /// the peer why, when it can) for a peer without the key, a replayed handshake or another
    /// version; <paramref name="refused"/> then holds the one line to log.
    /// </summary>
    public static SecureChannel? Accept(TcpClient tcp, ReplicaKey key, out string? refused)
    {
        refused = null;
        string peer = tcp.Client.RemoteEndPoint?.ToString() ?? "?";
        tcp.NoDelay = true;
        var stream = tcp.GetStream();
        stream.ReadTimeout = stream.WriteTimeout = 3000;
        try
        {
            var hello = ReadExactly(stream, HelloSize);
            if (!hello.AsSpan(0, 6).SequenceEqual(Magic))
            {
                refused = $"refused {peer}: not a replayvm replica peer";
                return null;
            }
            ushort version = BinaryPrimitives.ReadUInt16LittleEndian(hello.AsSpan(6));
            var purpose = (Purpose)hello[8];
            if (version != Version)
            {
                refused = $"refused {peer}: it speaks replica protocol version {version}, this replayvm speaks {Version}";
                Refuse(stream, $"this replica speaks protocol version {Version}, you speak {version}: run the same replayvm on both");
                return null;
            }
            if (!Enum.IsDefined(purpose))
            {
                refused = $"refused {peer}: unknown connection purpose {hello[8]}";
                Refuse(stream, "unknown connection purpose");
                return null;
            }
            var clientNonce = hello.AsSpan(9, NonceSize).ToArray();
            var serverNonce = RandomNumberGenerator.GetBytes(NonceSize);
            var answer = new byte[1 + 2 + NonceSize + ProofSize];
            BinaryPrimitives.WriteUInt16LittleEndian(answer.AsSpan(1), Version);
            serverNonce.CopyTo(answer, 3);
            Proof(key, "server", purpose, clientNonce, serverNonce).CopyTo(answer, 3 + NonceSize);
            stream.Write(answer);
            var proof = ReadExactly(stream, ProofSize);
            if (!CryptographicOperations.FixedTimeEquals(proof, Proof(key, "client", purpose, clientNonce, serverNonce)))
            {
                refused = $"refused {peer}: wrong replica key or a replayed handshake";
                Refuse(stream, "authentication failed: wrong replica key (or a replayed stream)");
                return null;
            }
            stream.WriteByte(0);
            stream.ReadTimeout = Timeout.Infinite;
            stream.WriteTimeout = Timeout.Infinite;
            var (c2s, s2c) = SessionKeys(key, clientNonce, serverNonce);
            return new SecureChannel(tcp, stream, s2c, c2s, purpose, peer);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            refused = $"refused {peer}: the handshake broke off ({e.Message})";
            return null;
        }
    }

    private static void Refuse(Stream stream, string reason)
    {
        try
        {
            var text = Encoding.UTF8.GetBytes(reason);
            var message = new byte[3 + text.Length];
            message[0] = 0xFF;
            BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(1), (ushort)text.Length);
            text.CopyTo(message, 3);
            stream.Write(message);
        }
        catch (IOException)
        {
        }
    }

    private static void ReadStatus(Stream stream, string peer)
    {
        int status = stream.ReadByte();
        if (status == 0) return;
        if (status == 0xFF)
        {
            var length = BinaryPrimitives.ReadUInt16LittleEndian(ReadExactly(stream, 2));
            throw new ReplicaException($"{peer} refused us: {Encoding.UTF8.GetString(ReadExactly(stream, Math.Min((int)length, 1024)))}");
        }
        throw new ReplicaException(status < 0 ? $"{peer} closed the connection during the handshake" : $"{peer}: not a replayvm replica");
    }

    private static byte[] Proof(ReplicaKey key, string side, Purpose purpose, byte[] clientNonce, byte[] serverNonce)
    {
        byte[] input = [.. Encoding.ASCII.GetBytes("replayvm replica " + side), 0, (byte)purpose, .. clientNonce, .. serverNonce];
        return HMACSHA256.HashData(key.Secret, input);
    }

    private static (byte[] ClientToServer, byte[] ServerToClient) SessionKeys(ReplicaKey key, byte[] clientNonce, byte[] serverNonce)
    {
        var okm = HKDF.DeriveKey(HashAlgorithmName.SHA256, key.Secret, 64, [.. clientNonce, .. serverNonce], "replayvm replica session v1"u8.ToArray());
        return (okm[..32], okm[32..]);
    }

    /// <summary>Whether bytes of a next frame have already arrived (so an acknowledgement can wait for them).</summary>
    public bool HasPendingData
    {
        get
        {
            try
            {
                return _readBuffered > 0 || _stream.DataAvailable;
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
            {
                return false;
            }
        }
    }

    /// <summary>Sends one frame; safe from several threads.</summary>
    public void Send(byte type, ReadOnlySpan<byte> payload)
    {
        int length = 1 + payload.Length;
        var frame = new byte[4 + length + TagSize];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)length);
        // Encrypted in place: AES-GCM allows the plaintext and ciphertext to be the same buffer.
        var body = frame.AsSpan(4, length);
        body[0] = type;
        payload.CopyTo(body[1..]);
        Span<byte> nonce = stackalloc byte[NonceBytes];
        lock (_sendLock)
        {
            ObjectDisposedException.ThrowIf(_disposed || _sendingFinished, this);
            CounterNonce(_sendCounter++, nonce);
            _send.Encrypt(nonce, body, body, frame.AsSpan(4 + length, TagSize), frame.AsSpan(0, 4));
            _stream.Write(frame);
        }
    }

    /// <summary>
    /// Receives one frame (one thread at a time). Throws <see cref="IOException"/> when the peer
    /// closes, <see cref="TimeoutException"/> past <see cref="ReceiveTimeout"/>, and
    /// <see cref="ReplicaException"/> for a frame that fails authentication or is too long.
    /// </summary>
    public (byte Type, byte[] Payload) Receive(int maxFrame = DefaultMaxFrame)
    {
        try
        {
            Span<byte> prefix = stackalloc byte[4];
            Take(prefix);
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(prefix);
            if (length == 0 || length > (uint)maxFrame + 1) throw new ReplicaException($"{Peer} sent a frame of {length} bytes (at most {maxFrame + 1})");
            var body = new byte[(int)length + TagSize];
            Take(body);
            Span<byte> nonce = stackalloc byte[NonceBytes];
            CounterNonce(_receiveCounter++, nonce);
            var sealedPart = body.AsSpan(0, (int)length);
            try
            {
                _receive.Decrypt(nonce, sealedPart, body.AsSpan((int)length), sealedPart, prefix);
            }
            catch (AuthenticationTagMismatchException)
            {
                throw new ReplicaException($"{Peer} sent a frame that fails authentication (corrupted, reordered or replayed)");
            }
            return (body[0], body[1..(int)length]);
        }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut })
        {
            throw new TimeoutException("no frame within the receive timeout");
        }
    }

    /// <summary>What <see cref="TryReceive"/> found.</summary>
    public enum Arrival
    {
        /// <summary>A whole frame: returned.</summary>
        Frame,
        /// <summary>No whole frame has arrived yet (what has is kept for the next call).</summary>
        Nothing,
        /// <summary>A frame too long for the read-ahead buffer has begun: only <see cref="Receive"/> (which may block) takes it.</summary>
        TooLong,
    }

    /// <summary>
    /// Receives one frame if a whole one has arrived, never blocking: at most one <c>poll</c> and
    /// one <c>read</c> of the socket, and only when nothing complete is buffered. Lets a thread that
    /// has other work (the primary's machine thread) take its peer's small frames between that work
    /// instead of a thread of its own waking for each. The same thread-at-a-time rule as
    /// <see cref="Receive"/>, with which it shares the read-ahead buffer (a partial frame left by one
    /// is finished by the other). Throws as <see cref="Receive"/> does when the peer closed or the
    /// frame fails authentication.
    /// </summary>
    public Arrival TryReceive(out byte type, out byte[] payload, int maxFrame = DefaultMaxFrame)
    {
        type = 0;
        payload = [];
        if (!WholeFrameBuffered(maxFrame, out bool tooLong))
        {
            if (tooLong) return Arrival.TooLong;
            // Readable also at the end of the stream or on an error: the read below reports those.
            var socket = _tcp.Client ?? throw new ObjectDisposedException(nameof(SecureChannel));
            if (!socket.Poll(0, SelectMode.SelectRead)) return Arrival.Nothing;
            if (_readStart > 0)
            {
                _readAhead.AsSpan(_readStart, _readEnd - _readStart).CopyTo(_readAhead);
                (_readStart, _readEnd) = (0, _readEnd - _readStart);
            }
            int n = _stream.Read(_readAhead, _readEnd, ReadAheadSize - _readEnd);
            if (n == 0) throw new EndOfStreamException("the peer closed the connection");
            _readEnd += n;
            _readBuffered = _readEnd - _readStart;
            if (!WholeFrameBuffered(maxFrame, out tooLong)) return tooLong ? Arrival.TooLong : Arrival.Nothing;
        }
        (type, payload) = Receive(maxFrame);
        return Arrival.Frame;
    }

    /// <summary>Whether the read-ahead buffer holds a whole frame; <paramref name="tooLong"/> when the next frame cannot fit in it.</summary>
    private bool WholeFrameBuffered(int maxFrame, out bool tooLong)
    {
        tooLong = false;
        int buffered = _readEnd - _readStart;
        if (buffered < 4) return false;
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(_readAhead.AsSpan(_readStart));
        // A length Receive refuses is left for it to refuse (it reads no further than the prefix).
        if (length == 0 || length > (uint)maxFrame + 1) return true;
        long whole = 4L + length + TagSize;
        if (whole > ReadAheadSize) tooLong = true;
        return buffered >= whole;
    }

    /// <summary>Fills <paramref name="destination"/> from the read-ahead buffer, reading the socket as needed (a large body goes straight into place).</summary>
    private void Take(Span<byte> destination)
    {
        while (destination.Length > 0)
        {
            if (_readStart == _readEnd)
            {
                if (destination.Length >= ReadAheadSize)
                {
                    _stream.ReadExactly(destination);
                    return;
                }
                _readStart = 0;
                _readEnd = _stream.Read(_readAhead, 0, ReadAheadSize);
                if (_readEnd == 0) throw new EndOfStreamException("the peer closed the connection");
            }
            int n = Math.Min(destination.Length, _readEnd - _readStart);
            _readAhead.AsSpan(_readStart, n).CopyTo(destination);
            _readStart += n;
            destination = destination[n..];
            _readBuffered = _readEnd - _readStart;
        }
    }

    private const int NonceBytes = 12;

    private static void CounterNonce(ulong counter, Span<byte> nonce)
    {
        nonce.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(nonce[4..], counter);
    }

    private static byte[] CounterNonce(ulong counter)
    {
        var nonce = new byte[NonceBytes];
        CounterNonce(counter, nonce);
        return nonce;
    }

    private static byte[] ReadExactly(Stream stream, int count)
    {
        var buffer = new byte[count];
        stream.ReadExactly(buffer);
        return buffer;
    }

    /// <summary>
    /// Sends no more: the peer gets everything sent so far, then the end of the stream (a FIN).
    /// Receiving goes on, and the descriptor stays open until <see cref="Dispose"/> (or the process's exit).
    /// </summary>
    public void FinishSending()
    {
        lock (_sendLock)
        {
            if (_disposed || _sendingFinished) return;
            _sendingFinished = true;
        }
        try
        {
            _tcp.Client?.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is ObjectDisposedException or SocketException)
        {
        }
    }

    private bool _sendingFinished;

    /// <summary>
    /// Closes after everything sent so far has gone out: a FIN, not a reset (a reset may make the
    /// peer drop frames it has not read yet, such as a goodbye).
    /// </summary>
    public void CloseGracefully()
    {
        lock (_sendLock)
        {
            if (_disposed) return;
            _disposed = true;
        }
        try
        {
            _tcp.Client?.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is ObjectDisposedException or SocketException)
        {
        }
        _tcp.Dispose();
    }

    /// <summary>Closes the connection at once (no half-close), from any thread.</summary>
    public void Dispose()
    {
        lock (_sendLock)
        {
            if (_disposed) return;
            _disposed = true;
        }
        try
        {
            _tcp.Client?.Close(0);
        }
        catch (Exception e) when (e is ObjectDisposedException or SocketException)
        {
        }
        _tcp.Dispose();
    }
}
