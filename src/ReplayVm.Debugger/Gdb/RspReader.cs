namespace ReplayVm.Debugger.Gdb;

/// <summary>What arrived from the client: a packet, an acknowledgement, or the interrupt byte.</summary>
public enum RspEventKind
{
    /// <summary>A complete frame; <see cref="RspEvent.Payload"/> holds the decoded bytes when valid.</summary>
    Packet,
    /// <summary>'+': the client received our last packet.</summary>
    Ack,
    /// <summary>'-': the client wants our last packet again.</summary>
    Nack,
    /// <summary>0x03 outside a frame: Ctrl-C, stop the running target.</summary>
    Interrupt,
}

/// <summary>One thing read from the client.</summary>
/// <param name="Payload">The decoded payload, or null if the frame was malformed or too long.</param>
/// <param name="ChecksumOk">Whether the transmitted checksum matched.</param>
public sealed record RspEvent(RspEventKind Kind, byte[]? Payload = null, bool ChecksumOk = true);

/// <summary>
/// Splits the client's byte stream into <see cref="RspEvent"/>s. Bytes outside a frame that mean nothing
/// are skipped (the manual allows junk between packets); a frame longer than the limit is discarded so
/// a misbehaving client cannot make us buffer without bound.
/// </summary>
public sealed class RspReader
{
    private readonly Stream _stream;
    private readonly int _maxBodyBytes;
    private readonly byte[] _buffer = new byte[4096];
    private int _position;
    private int _length;

    public RspReader(Stream stream, int maxBodyBytes)
    {
        _stream = stream;
        _maxBodyBytes = maxBodyBytes;
    }

    /// <summary>The next event, or null when the client closed the connection (possibly mid-frame).</summary>
    public async Task<RspEvent?> ReadAsync(CancellationToken cancellation)
    {
        while (true)
        {
            int b = await NextByteAsync(cancellation);
            switch (b)
            {
                case -1: return null;
                case '+': return new RspEvent(RspEventKind.Ack);
                case '-': return new RspEvent(RspEventKind.Nack);
                case 0x03: return new RspEvent(RspEventKind.Interrupt);
                case '$': return await ReadFrameAsync(cancellation);
                default: continue; // junk between packets
            }
        }
    }

    private async Task<RspEvent?> ReadFrameAsync(CancellationToken cancellation)
    {
        var body = new List<byte>();
        bool tooLong = false;
        while (true)
        {
            int b = await NextByteAsync(cancellation);
            if (b == -1) return null;
            if (b == '#') break;
            if (body.Count < _maxBodyBytes) body.Add((byte)b);
            else tooLong = true;
        }

        int high = await NextByteAsync(cancellation);
        int low = high == -1 ? -1 : await NextByteAsync(cancellation);
        if (low == -1) return null;

        bool checksumOk = HexValue(high) is int h && HexValue(low) is int l
            && (byte)((h << 4) | l) == RspCodec.Checksum(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(body));
        byte[]? payload = tooLong ? null : RspCodec.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(body));
        return new RspEvent(RspEventKind.Packet, payload, checksumOk);
    }

    private static int? HexValue(int c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => null,
    };

    private async ValueTask<int> NextByteAsync(CancellationToken cancellation)
    {
        if (_position == _length)
        {
            int read;
            try
            {
                read = await _stream.ReadAsync(_buffer, cancellation);
            }
            catch (IOException)
            {
                return -1; // reset by peer: same as a close
            }
            catch (ObjectDisposedException)
            {
                return -1;
            }
            if (read == 0) return -1;
            _position = 0;
            _length = read;
        }
        return _buffer[_position++];
    }
}
