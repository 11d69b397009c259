using ReplayVm.Core.Hart;
using ReplayVm.Replay.Format;
using ReplayVm.Replay.Timeline;

namespace ReplayVm.Replay.TraceIndex;

/// <summary>
/// What a trap record says about itself without its markers being decoded: the steps it covers
/// (markers lie in [<see cref="From"/>, <see cref="Through"/>]: <see cref="From"/> is the previous
/// trap record's base step, 0 for the first), how many markers it holds and how many of each cause.
/// </summary>
internal readonly record struct TrapRecordSummary(long Offset, ChunkCodec.Header Header, ulong From, ulong Through, int Count,
    TrapRecordSummary.CauseCount[] Causes)
{
    /// <summary>A cause byte (<c>cause | interrupt &lt;&lt; 7</c>) and how many markers of it the record holds.</summary>
    public readonly record struct CauseCount(byte Cause, int Count)
    {
        public TrapMarkerKinds Kind => TrapMarker.KindOf((Cause & 0x80) != 0, (ulong)(Cause & 0x7f));
    }

    /// <summary>The kinds of which the record holds at least one marker.</summary>
    public TrapMarkerKinds Kinds
    {
        get
        {
            var kinds = TrapMarkerKinds.None;
            foreach (var c in Causes) kinds |= c.Kind;
            return kinds;
        }
    }
}

/// <summary>
/// The bytes of a sidecar's trap record (docs/index-format.md, "Trap record"): the marker count,
/// the count of each cause, then the markers, their steps and pcs as deltas within the record (the
/// first step from the previous trap record's base step, the first pc from 0). So a record decodes
/// on its own, and a reader can answer "how many, of which kinds, over which steps" from the
/// summary without decoding any marker (<see cref="SidecarTraps"/>).
/// </summary>
internal static class TrapRecordCodec
{
    /// <summary>Writes <paramref name="count"/> markers from <paramref name="first"/> (in step order, none before <paramref name="from"/>).</summary>
    public static void Write(ByteWriter record, IReadOnlyList<TrapMarker> markers, int first, int count, ulong from)
    {
        var causes = new SortedDictionary<byte, int>();
        for (int i = first; i < first + count; i++) causes[CauseByte(markers[i])] = causes.GetValueOrDefault(CauseByte(markers[i])) + 1;
        record.Byte(TraceIndexFormat.TrapKind);
        record.VarUInt((ulong)count);
        record.VarUInt((ulong)causes.Count);
        foreach (var (cause, n) in causes)
        {
            record.Byte(cause);
            record.VarUInt((ulong)n);
        }
        ulong step = from, pc = 0;
        for (int i = first; i < first + count; i++)
        {
            var m = markers[i];
            record.VarUInt(m.Step - step);
            record.VarInt((long)(m.Pc - pc));
            record.Byte(CauseByte(m));
            record.Byte((byte)((int)m.From << 4 | (int)m.To));
            (step, pc) = (m.Step, m.Pc);
        }
    }

    /// <summary>
    /// The summary at the start of a record's raw bytes, checked: a count within the limits and the
    /// bytes, causes a hart can take, ascending, whose counts add up to it.
    /// </summary>
    public static TrapRecordSummary ReadSummary(ReadOnlySpan<byte> raw, long offset, ChunkCodec.Header header, ulong from)
    {
        var r = new ByteReader(raw[1..], "an index trap record");
        int count = r.Length(Math.Min(TraceIndexFormat.MaxTrapsPerRecord, r.Remaining / 4), "trap count");
        int kinds = r.Length(Math.Min(MaxCauses, r.Remaining / 2), "cause count");
        var causes = new TrapRecordSummary.CauseCount[kinds];
        long total = 0;
        for (int i = 0; i < kinds; i++)
        {
            byte cause = r.Byte();
            int n = r.Length(count, "cause's trap count");
            if ((cause & 0x7f) > 63 || n == 0 || (i > 0 && cause <= causes[i - 1].Cause))
                throw new TraceIndexException($"a trap record through step {header.BaseStep} has a malformed cause list");
            causes[i] = new(cause, n);
            total += n;
        }
        if (total != count) throw new TraceIndexException($"a trap record through step {header.BaseStep} counts {count} traps, its causes {total}");
        // Each marker takes at least 4 bytes (two varints and two bytes).
        if ((long)count * 4 > r.Remaining) throw new TraceIndexException($"a trap record through step {header.BaseStep} is too short for its {count} traps");
        return new TrapRecordSummary(offset, header, from, header.BaseStep, count, causes);
    }

    /// <summary>
    /// The markers of a record whose summary is <paramref name="summary"/>, checked: steps ascending
    /// within [From, Through], causes and counts as the summary says, possible modes, nothing after them.
    /// </summary>
    public static TrapMarker[] ReadMarkers(ReadOnlySpan<byte> raw, in TrapRecordSummary summary)
    {
        var r = new ByteReader(raw[1..], "an index trap record");
        r.VarUInt();
        int kinds = (int)r.VarUInt();
        for (int i = 0; i < kinds; i++)
        {
            r.Byte();
            r.VarUInt();
        }
        var markers = new TrapMarker[summary.Count];
        Span<int> seen = stackalloc int[CauseBytes];
        seen.Clear(); // whatever the assembly's locals-init setting
        ulong step = summary.From, pc = 0, through = summary.Through;
        for (int i = 0; i < markers.Length; i++)
        {
            ulong delta = r.VarUInt();
            if (delta > through - step) throw new TraceIndexException($"a trap record through step {through} holds a trap beyond it");
            step += delta;
            pc += (ulong)r.VarInt();
            byte cause = r.Byte(), modes = r.Byte();
            if ((cause & 0x7f) > 63 || !IsMode(modes >> 4) || !IsMode(modes & 0xf))
                throw new TraceIndexException($"a trap record holds an impossible trap at step {step}");
            seen[cause]++;
            markers[i] = new TrapMarker(step, pc, (byte)(cause & 0x7f), (cause & 0x80) != 0, (PrivilegeLevel)(modes >> 4), (PrivilegeLevel)(modes & 0xf));
        }
        if (!r.AtEnd) throw new TraceIndexException($"a trap record through step {through} has bytes after its traps");
        foreach (var c in summary.Causes)
            if (seen[c.Cause] != c.Count) throw new TraceIndexException($"a trap record through step {through} holds other causes than it counts");
        return markers;
    }

    /// <summary>Distinct causes: 64 exception and 64 interrupt causes.</summary>
    private const int MaxCauses = 128;

    /// <summary>Values of a cause byte.</summary>
    private const int CauseBytes = 256;

    private static byte CauseByte(in TrapMarker m) => (byte)(m.Cause | (m.Interrupt ? 0x80 : 0));

    private static bool IsMode(int mode) => mode is (int)PrivilegeLevel.User or (int)PrivilegeLevel.Supervisor or (int)PrivilegeLevel.Machine;
}
