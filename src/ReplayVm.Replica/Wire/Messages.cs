using System.Text;

namespace ReplayVm.Replica.Wire;

/// <summary>The frame types of the replica protocol (the byte before each payload).</summary>
public enum MessageType : byte
{
    // Log channel, primary to backup.
    /// <summary>
    /// stream id text, join mode u8 (0: replay the log from step 0; 1: the log through step S,
    /// then a snapshot at S, then the log after S), the run's step budget u64 (<c>--max-instructions</c>;
    /// <see cref="ulong.MaxValue"/> for none: a backup that goes live keeps to it), the trace header
    /// (the file's bytes): which machine the log is for.
    /// </summary>
    Header = 1,
    /// <summary>frontier u64, chunk length u32, a trace chunk of events (may be empty), then the client-input attribution.</summary>
    Log = 2,
    /// <summary>frontier u64: still alive, nothing new.</summary>
    Heartbeat = 3,
    /// <summary>step u64: the primary stopped there for good and hands the guest over (migration).</summary>
    Handover = 4,
    /// <summary>The guest ended (the end record was in the log) and the primary leaves: finish and exit.</summary>
    Goodbye = 5,
    /// <summary>
    /// A joining backup's state at step S (after the header and every batch through S, before the
    /// batches after S): step u64, state hash [16], hart state blob, device-state bytes u64, RAM
    /// pages sent u32, console bytes u64, the console offset they start at u64 (the primary holds
    /// only its most recent console output). Parts follow, then <see cref="SnapshotEnd"/>.
    /// </summary>
    SnapshotBegin = 6,
    /// <summary>kind u8 (0 device state, 1 console, 2 pages), then a blob of bytes, or for pages: count u32, page numbers u32 ascending, LZ4 blob of count × 4 KiB.</summary>
    SnapshotPart = 7,
    /// <summary>Everything the snapshot's beginning announced has been sent.</summary>
    SnapshotEnd = 8,

    // Log channel, backup to primary.
    /// <summary>received frontier u64, replayed step u64.</summary>
    Ack = 10,
    /// <summary>step u64: the backup has the handover at this step and goes live there (the primary may let go of the arbiter).</summary>
    HandoverAck = 11,

    // Console channel.
    /// <summary>client id [16], output offset u64.</summary>
    Attach = 20,
    /// <summary>input bytes of this client the guest has consumed u64, step u64.</summary>
    AttachOk = 21,
    /// <summary>A text: this replica is not live; try the next one.</summary>
    NotLive = 22,
    /// <summary>offset u64 in the guest's console stream, bytes.</summary>
    Output = 23,
    /// <summary>offset u64 in this client's input stream, bytes.</summary>
    Input = 24,
    /// <summary>this client's input bytes consumed by the guest and protected by the backup u64.</summary>
    InputAck = 25,
    /// <summary>exit status i32, a text: the guest's run ended.</summary>
    Ended = 26,
    /// <summary>
    /// requested offset u64, oldest offset held u64, bytes held at most u64: the client asked for
    /// console output this replica no longer holds (it keeps only its most recent output); the
    /// replica closes the connection.
    /// </summary>
    OutputDropped = 27,

    // Status and control.
    StatusRequest = 30,
    /// <summary>A text: one <c>key value</c> per line.</summary>
    StatusReply = 31,
    /// <summary>A backup endpoint text: stream the log to it (join / re-protect).</summary>
    Protect = 40,
    /// <summary>A backup endpoint text: join it, then hand the guest over (migration).</summary>
    Migrate = 41,
    /// <summary>A text: how a control request went.</summary>
    ControlReply = 42,
    /// <summary>A text while a long control request (migration) goes on: a report to show, or empty (still working).</summary>
    ControlProgress = 43,

    /// <summary>A text: the sender refuses to go on; the receiver prints it and closes.</summary>
    Error = 50,
}

/// <summary>Builds a payload.</summary>
internal sealed class PayloadWriter
{
    private readonly MemoryStream _buffer = new();
    private readonly BinaryWriter _w;

    public PayloadWriter() => _w = new BinaryWriter(_buffer);

    public PayloadWriter U64(ulong v) { _w.Write(v); return this; }
    public PayloadWriter U8(byte v) { _w.Write(v); return this; }
    public PayloadWriter I32(int v) { _w.Write(v); return this; }
    public PayloadWriter U32(uint v) { _w.Write(v); return this; }
    public PayloadWriter Bytes(ReadOnlySpan<byte> v) { _w.Write(v); return this; }
    public PayloadWriter Guid(Guid v) { _w.Write(v.ToByteArray()); return this; }

    public PayloadWriter Blob(ReadOnlySpan<byte> v)
    {
        _w.Write((uint)v.Length);
        _w.Write(v);
        return this;
    }

    public PayloadWriter Text(string v) => Blob(Encoding.UTF8.GetBytes(v));

    public byte[] ToArray()
    {
        _w.Flush();
        return _buffer.ToArray();
    }
}

/// <summary>Reads a payload; anything short or oversized is a <see cref="ReplicaException"/> naming the message.</summary>
internal ref struct PayloadReader(ReadOnlySpan<byte> data, string what)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _at;

    public readonly bool AtEnd => _at == _data.Length;
    public readonly int Remaining => _data.Length - _at;

    private ReadOnlySpan<byte> Take(int n)
    {
        if (n < 0 || n > _data.Length - _at) throw new ReplicaException($"malformed {what} message (short by {n - (_data.Length - _at)} bytes)");
        var s = _data.Slice(_at, n);
        _at += n;
        return s;
    }

    public byte U8() => Take(1)[0];
    public ReadOnlySpan<byte> Bytes(int n) => Take(n);
    public ulong U64() => System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
    public uint U32() => System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
    public int I32() => System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(Take(4));
    public Guid Guid() => new(Take(16));
    public ReadOnlySpan<byte> Rest() => Take(Remaining);

    public ReadOnlySpan<byte> Blob(int max)
    {
        uint n = U32();
        if (n > max) throw new ReplicaException($"malformed {what} message (a field of {n} bytes, at most {max})");
        return Take((int)n);
    }

    public string Text(int max = 4096) => Encoding.UTF8.GetString(Blob(max));

    public readonly void End()
    {
        if (!AtEnd) throw new ReplicaException($"malformed {what} message ({Remaining} bytes too many)");
    }
}
