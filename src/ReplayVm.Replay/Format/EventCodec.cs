using ReplayVm.Core;
using ReplayVm.Core.State;

namespace ReplayVm.Replay.Format;

/// <summary>
/// Event encoding inside a chunk: <c>varint step delta, kind byte, payload</c>. The delta is from
/// the previous event of the chunk, or from the chunk's base step for its first event, so every
/// chunk decodes on its own. Encoder and decoder live side by side so they cannot drift.
/// </summary>
internal static class EventCodec
{
    /// <summary>Largest byte payload of one event (console input, entropy): far above anything a poll delivers.</summary>
    public const int MaxPayloadBytes = 1 << 20;

    public static void Encode(ByteWriter w, ulong previousStep, TraceEvent e)
    {
        w.VarUInt(e.Step - previousStep);
        w.Byte((byte)e.Kind);
        switch (e)
        {
            case ConsoleInputEvent c: w.Blob(c.Bytes); break;
            case WallClockEvent t: w.VarUInt(t.Nanoseconds); break;
            case EntropyEvent r: w.Blob(r.Bytes); break;
            case DiskHashEvent d:
                w.VarUInt(d.DiskIndex);
                w.VarUInt(d.SizeBytes);
                w.Bytes(d.Sha256);
                break;
            case StateHashEvent h: WriteHash(w, h.Hash); break;
            case EndEvent end:
                w.Byte((byte)end.Reason);
                w.VarInt(end.ExitCode);
                WriteHash(w, end.FinalHash);
                w.OptionalString(end.Detail);
                break;
            default: throw new ArgumentException($"unknown event type {e.GetType().Name}", nameof(e));
        }
    }

    /// <summary>Checks what <see cref="Encode"/> cannot represent, before anything is written.</summary>
    public static void Validate(TraceEvent e)
    {
        switch (e)
        {
            case ConsoleInputEvent c when c.Bytes.Length is 0 or > MaxPayloadBytes:
                throw new ArgumentException($"console input events carry 1..{MaxPayloadBytes} bytes", nameof(e));
            case EntropyEvent r when r.Bytes.Length is 0 or > MaxPayloadBytes:
                throw new ArgumentException($"entropy events carry 1..{MaxPayloadBytes} bytes", nameof(e));
            case DiskHashEvent d when d.Sha256.Length != TraceFormat.Sha256Size:
                throw new ArgumentException("a disk hash is 32 bytes of SHA-256", nameof(e));
        }
    }

    public static TraceEvent Decode(ref ByteReader r, ulong previousStep)
    {
        ulong delta = r.VarUInt();
        ulong step = previousStep + delta;
        if (step < previousStep) throw r.Bad("has a step count past 2^64");
        byte kind = r.Byte();
        switch ((TraceEventKind)kind)
        {
            case TraceEventKind.ConsoleInput: return new ConsoleInputEvent(step, NonEmpty(r.Blob(MaxPayloadBytes, "console input length"), ref r));
            case TraceEventKind.WallClock: return new WallClockEvent(step, r.VarUInt());
            case TraceEventKind.Entropy: return new EntropyEvent(step, NonEmpty(r.Blob(MaxPayloadBytes, "entropy length"), ref r));
            case TraceEventKind.DiskHash:
            {
                ulong index = r.VarUInt();
                if (index > uint.MaxValue) throw r.Bad($"has an impossible disk index ({index})");
                ulong size = r.VarUInt();
                return new DiskHashEvent(step, (uint)index, size, r.Bytes(TraceFormat.Sha256Size).ToArray());
            }
            case TraceEventKind.StateHash: return new StateHashEvent(step, ReadHash(ref r));
            case TraceEventKind.End:
            {
                byte reason = r.Byte();
                // A recording ends by guest exit, step limit, trap loop or host request (0..3); a debugger stop never ends one.
                if (reason > (byte)StopReason.HostRequest) throw r.Bad($"has an unknown stop reason ({reason})");
                long exit = r.VarInt();
                if (exit is < int.MinValue or > int.MaxValue) throw r.Bad($"has an impossible exit code ({exit})");
                var hash = ReadHash(ref r);
                return new EndEvent(step, (StopReason)reason, (int)exit, hash, r.OptionalString("stop detail"));
            }
            default: throw r.Bad($"has an unknown event kind {kind}");
        }
    }

    private static byte[] NonEmpty(byte[] bytes, ref ByteReader r) =>
        bytes.Length > 0 ? bytes : throw r.Bad("has an empty input event");

    private static void WriteHash(ByteWriter w, StateHash hash)
    {
        Span<byte> bytes = stackalloc byte[StateHash.Size];
        hash.WriteTo(bytes);
        w.Bytes(bytes);
    }

    private static StateHash ReadHash(ref ByteReader r) => StateHash.ReadFrom(r.Bytes(StateHash.Size));
}
