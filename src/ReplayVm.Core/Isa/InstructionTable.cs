using System.Runtime.CompilerServices;
using ReplayVm.Core.Hart;

namespace ReplayVm.Core.Isa;

/// <summary>
/// Finds an encoding's row in <see cref="Rv64gc"/> and extracts its fields. Rows are bucketed by
/// major opcode and funct3 (32-bit) or by quadrant and funct3 (16-bit), so a lookup is one index
/// and a short first-match scan of mask/match pairs; rows that leave funct3 free (it holds a rounding
/// mode or immediate bits) sit in all eight buckets of their opcode.
/// </summary>
public static class InstructionTable
{
    private enum Immediate : byte { None, I, S, B, J, U, Shamt6, Shamt5, Csr }

    /// <summary>A row flattened for the scan: the fields a decode needs, in one small struct.</summary>
    private readonly struct Row(InstructionSpec spec)
    {
        public readonly uint Mask = spec.Mask;
        public readonly uint Match = spec.Match;
        public readonly Immediate Imm = ImmediateOf(spec);
        public readonly bool Rs1 = spec.Rs1 != RegisterFile.None || spec.OperandSpan.Contains(Operand.Zimm);
        public readonly bool Rs2 = spec.Rs2 != RegisterFile.None;
        public readonly bool Rs3 = spec.Rs3 != RegisterFile.None;
        public readonly bool Rd = spec.Destination != RegisterFile.None;
        public readonly bool Rm = spec.HasRoundingMode;
        public readonly InstructionSpec Spec = spec;
    }

    private readonly struct CompressedRow(CompressedSpec spec)
    {
        public readonly ushort Mask = spec.Mask;
        public readonly ushort Match = spec.Match;
        public readonly CompressedSpec Spec = spec;
    }

    private static readonly Row[][] Wide = BuildWide();
    private static readonly CompressedRow[][] Narrow = BuildNarrow();

    private static Immediate ImmediateOf(InstructionSpec spec)
    {
        foreach (var operand in spec.OperandSpan)
        {
            switch (operand)
            {
                case Operand.Imm12 or Operand.LoadAddress: return Immediate.I;
                case Operand.StoreAddress: return Immediate.S;
                case Operand.BranchTarget: return Immediate.B;
                case Operand.JumpTarget: return Immediate.J;
                case Operand.Upper20: return Immediate.U;
                case Operand.Shamt6: return Immediate.Shamt6;
                case Operand.Shamt5: return Immediate.Shamt5;
                case Operand.Csr: return Immediate.Csr;
            }
        }
        return Immediate.None;
    }

    // The buckets are arrays grown in place, not lists: a List<T> over a struct of ours has a static
    // constructor that no precompiled image holds, JIT-compiled in every process that decodes.
    private static Row[][] BuildWide()
    {
        var buckets = NewBuckets<Row>(256);
        foreach (var spec in Rv64gc.Instructions)
        {
            if ((spec.Mask & 0x7F) != 0x7F || (spec.Match & 3) != 3) throw new InvalidOperationException($"row {spec} does not fix a 32-bit major opcode");
            for (uint funct3 = 0; funct3 < 8; funct3++)
                if (((funct3 << 12) & spec.Mask) == (spec.Match & 0x7000 & spec.Mask))
                    Append(ref buckets[WideBucket(spec.Match | funct3 << 12)], new Row(spec));
        }
        return buckets;
    }

    private static CompressedRow[][] BuildNarrow()
    {
        var buckets = NewBuckets<CompressedRow>(32);
        foreach (var spec in Rv64gc.Compressed)
        {
            if ((spec.Mask & 0xE003) != 0xE003) throw new InvalidOperationException($"row {spec.Name} does not fix quadrant and funct3");
            Append(ref buckets[NarrowBucket(spec.Match)], new CompressedRow(spec));
        }
        return buckets;
    }

    private static T[][] NewBuckets<T>(int count)
    {
        var buckets = new T[count][];
        for (int i = 0; i < count; i++) buckets[i] = new T[0];
        return buckets;
    }

    private static void Append<T>(ref T[] bucket, T row)
    {
        Array.Resize(ref bucket, bucket.Length + 1);
        bucket[^1] = row;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int WideBucket(uint word) => (int)(((word >> 2) & 0x1F) << 3 | ((word >> 12) & 7));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int NarrowBucket(uint parcel) => (int)((parcel & 3) << 3 | ((parcel >> 13) & 7));

    /// <summary>
    /// The row of <paramref name="raw"/> (a 32-bit word, or a 16-bit parcel in the low half when its low
    /// bits are not 11) and its fields; <see cref="InstructionFields.Spec"/> is null when no row matches.
    /// </summary>
    public static InstructionFields Lookup(uint raw)
    {
        if ((raw & 3) != 3) return LookupCompressed((ushort)raw);
        foreach (ref readonly Row row in Wide[WideBucket(raw)].AsSpan())
            if ((raw & row.Mask) == row.Match) return Extract(in row, raw);
        return new InstructionFields(null, null, raw, 4, 0, 0, 0, 0, 0, 0);
    }

    private static InstructionFields Extract(in Row row, uint raw) => new(
        row.Spec, null, raw, 4,
        row.Rd ? (byte)((raw >> 7) & 31) : (byte)0,
        row.Rs1 ? (byte)((raw >> 15) & 31) : (byte)0,
        row.Rs2 ? (byte)((raw >> 20) & 31) : (byte)0,
        row.Rs3 ? (byte)(raw >> 27) : (byte)0,
        ImmediateValue(row.Imm, raw),
        row.Rm ? (byte)((raw >> 12) & 7) : (byte)0);

    private static long ImmediateValue(Immediate kind, uint raw) => kind switch
    {
        Immediate.I => (int)raw >> 20,
        Immediate.S => ((int)raw >> 25 << 5) | (int)((raw >> 7) & 0x1F),
        Immediate.B => ((int)raw >> 31 << 12) | (int)((raw >> 7) & 1) << 11 | (int)((raw >> 25) & 0x3F) << 5 | (int)((raw >> 8) & 0xF) << 1,
        Immediate.J => ((int)raw >> 31 << 20) | (int)(raw & 0xFF000) | (int)((raw >> 20) & 1) << 11 | (int)((raw >> 21) & 0x3FF) << 1,
        Immediate.U => (int)(raw & 0xFFFF_F000),
        Immediate.Shamt6 => (raw >> 20) & 63,
        Immediate.Shamt5 => (raw >> 20) & 31,
        Immediate.Csr => raw >> 20,
        _ => 0,
    };

    private static InstructionFields LookupCompressed(ushort parcel)
    {
        foreach (ref readonly CompressedRow row in Narrow[NarrowBucket(parcel)].AsSpan())
        {
            if ((parcel & row.Mask) != row.Match) continue;
            var c = row.Spec;
            if (c.Base is null) return new InstructionFields(null, c, parcel, 2, 0, 0, 0, 0, 0, 0);
            return new InstructionFields(c.Base, c, parcel, 2,
                Register(c.Rd, parcel), Register(c.Rs1, parcel), Register(c.Rs2, parcel), 0, CompressedImmediateValue(c.Immediate, parcel), 0);
        }
        return new InstructionFields(null, null, parcel, 2, 0, 0, 0, 0, 0, 0);
    }

    private static uint Bits(uint v, int hi, int lo) => (v >> lo) & ((1u << (hi - lo + 1)) - 1);

    private static long SignExtend(uint value, int bits) => (long)((ulong)value << (64 - bits)) >> (64 - bits);

    private static byte Register(CompressedRegister source, uint c) => source switch
    {
        CompressedRegister.Ra => 1,
        CompressedRegister.Sp => 2,
        CompressedRegister.Bits11To7 => (byte)Bits(c, 11, 7),
        CompressedRegister.Bits6To2 => (byte)Bits(c, 6, 2),
        CompressedRegister.Prime9To7 => (byte)(8 + Bits(c, 9, 7)),
        CompressedRegister.Prime4To2 => (byte)(8 + Bits(c, 4, 2)),
        _ => 0,
    };

    private static long CompressedImmediateValue(CompressedImmediate kind, uint c) => kind switch
    {
        CompressedImmediate.Signed6 => SignExtend(Bits(c, 12, 12) << 5 | Bits(c, 6, 2), 6),
        CompressedImmediate.Shamt6 => Bits(c, 12, 12) << 5 | Bits(c, 6, 2),
        CompressedImmediate.Addi4spn => Bits(c, 12, 11) << 4 | Bits(c, 10, 7) << 6 | Bits(c, 6, 6) << 2 | Bits(c, 5, 5) << 3,
        CompressedImmediate.Addi16sp => SignExtend(Bits(c, 12, 12) << 9 | Bits(c, 6, 6) << 4 | Bits(c, 5, 5) << 6 | Bits(c, 4, 3) << 7 | Bits(c, 2, 2) << 5, 10),
        CompressedImmediate.Lui => SignExtend(Bits(c, 12, 12) << 17 | Bits(c, 6, 2) << 12, 18),
        CompressedImmediate.WordOffset => Bits(c, 12, 10) << 3 | Bits(c, 6, 6) << 2 | Bits(c, 5, 5) << 6,
        CompressedImmediate.DoubleOffset => Bits(c, 12, 10) << 3 | Bits(c, 6, 5) << 6,
        CompressedImmediate.WordSpLoad => Bits(c, 12, 12) << 5 | Bits(c, 6, 4) << 2 | Bits(c, 3, 2) << 6,
        CompressedImmediate.DoubleSpLoad => Bits(c, 12, 12) << 5 | Bits(c, 6, 5) << 3 | Bits(c, 4, 2) << 6,
        CompressedImmediate.WordSpStore => Bits(c, 12, 9) << 2 | Bits(c, 8, 7) << 6,
        CompressedImmediate.DoubleSpStore => Bits(c, 12, 10) << 3 | Bits(c, 9, 7) << 6,
        CompressedImmediate.Jump => SignExtend(
            Bits(c, 12, 12) << 11 | Bits(c, 11, 11) << 4 | Bits(c, 10, 9) << 8 | Bits(c, 8, 8) << 10 |
            Bits(c, 7, 7) << 6 | Bits(c, 6, 6) << 7 | Bits(c, 5, 3) << 1 | Bits(c, 2, 2) << 5, 12),
        CompressedImmediate.Branch => SignExtend(
            Bits(c, 12, 12) << 8 | Bits(c, 11, 10) << 3 | Bits(c, 6, 5) << 6 | Bits(c, 4, 3) << 1 | Bits(c, 2, 2) << 5, 9),
        _ => 0,
    };

    /// <summary>
    /// The hart's decode (see <see cref="Hart.DecodedInstruction"/>): the row's <see cref="Opcode"/> and fields,
    /// an integer destination of x0 redirected to <see cref="Hart.Hart.ZeroSink"/>. Anything the table
    /// does not know, a reserved encoding, a reserved rounding mode (5, 6) or a row the hart does not
    /// implement decodes to <see cref="Opcode.Illegal"/> with the raw bits in Imm; it never throws.
    /// </summary>
    public static DecodedInstruction Decode(uint raw)
    {
        var f = Lookup(raw);
        var spec = f.Spec;
        if (spec is null || spec.Op == Opcode.Illegal || (spec.HasRoundingMode && f.Compressed is null && f.Rm is 5 or 6))
            return new DecodedInstruction { Op = Opcode.Illegal, Imm = f.Length == 2 ? raw & 0xFFFF : raw, Length = (byte)f.Length };
        byte rd = f.Rd;
        if (spec.Destination == RegisterFile.Integer && rd == 0) rd = Hart.Hart.ZeroSink;
        return new DecodedInstruction { Op = spec.Op, Rd = rd, Rs1 = f.Rs1, Rs2 = f.Rs2, Rs3 = f.Rs3, Imm = f.Imm, Rm = f.Rm, Length = (byte)f.Length };
    }
}
