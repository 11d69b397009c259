// The hand-written decoders the instruction table replaced, kept verbatim (renamed) as the reference
// the table-driven decoder is checked against on every encoding class (see DecoderAgreementProperties).
using ReplayVm.Core.Hart;

namespace ReplayVm.Core.Tests.Isa.Reference;

/// <summary>
/// Expands a 16-bit RVC parcel into the base operation it stands for (unprivileged spec ch. 16
/// "C" Standard Extension, tables 16.5–16.7 for RV64). Reserved encodings and those of absent
/// extensions (C.FLD and friends while F/D are absent) decode as illegal.
/// </summary>
internal static class ReferenceCompressedDecoder
{
    private static uint Bits(uint v, int hi, int lo) => (v >> lo) & ((1u << (hi - lo + 1)) - 1);
    private static byte Prime(uint v, int lo) => (byte)(8 + ((v >> lo) & 7));
    private static long SignExtend(uint value, int bits) => (long)((ulong)value << (64 - bits)) >> (64 - bits);

    private static DecodedInstruction Make(Opcode op, uint raw, byte rd, byte rs1, byte rs2, long imm) =>
        new() { Op = op, Rd = rd, Rs1 = rs1, Rs2 = rs2, Imm = imm, Length = 2 };

    private static DecodedInstruction Illegal(uint raw) => new() { Op = Opcode.Illegal, Imm = raw, Length = 2 };

    public static DecodedInstruction Decode(ushort parcel)
    {
        uint c = parcel;
        uint funct3 = c >> 13;
        byte rdFull = (byte)Bits(c, 11, 7), rs2Full = (byte)Bits(c, 6, 2);
        switch (c & 3)
        {
            case 0:
                switch (funct3)
                {
                    case 0: // C.ADDI4SPN: nzuimm[5:4|9:6|2|3]
                    {
                        uint imm = Bits(c, 12, 11) << 4 | Bits(c, 10, 7) << 6 | Bits(c, 6, 6) << 2 | Bits(c, 5, 5) << 3;
                        return imm == 0 ? Illegal(c) : Make(Opcode.Addi, c, Prime(c, 2), 2, 0, imm);
                    }
                    case 1 or 5: return ReferenceFloatDecoder.DecodeCompressed(parcel); // C.FLD, C.FSD
                    case 2: return Make(Opcode.Lw, c, Prime(c, 2), Prime(c, 7), 0, OffsetW(c));
                    case 3: return Make(Opcode.Ld, c, Prime(c, 2), Prime(c, 7), 0, OffsetD(c));
                    case 6: return Make(Opcode.Sw, c, 0, Prime(c, 7), Prime(c, 2), OffsetW(c));
                    case 7: return Make(Opcode.Sd, c, 0, Prime(c, 7), Prime(c, 2), OffsetD(c));
                }
                return Illegal(c);
            case 1:
            {
                long imm6 = SignExtend(Bits(c, 12, 12) << 5 | Bits(c, 6, 2), 6);
                switch (funct3)
                {
                    case 0: return Make(Opcode.Addi, c, ReferenceDecoder.Dest(rdFull), rdFull, 0, imm6); // C.ADDI / C.NOP
                    case 1: return rdFull == 0 ? Illegal(c) : Make(Opcode.Addiw, c, rdFull, rdFull, 0, imm6);
                    case 2: return Make(Opcode.Addi, c, ReferenceDecoder.Dest(rdFull), 0, 0, imm6); // C.LI
                    case 3:
                        if (rdFull == 2)
                        {
                            // C.ADDI16SP: nzimm[9|4|6|8:7|5]
                            uint v = Bits(c, 12, 12) << 9 | Bits(c, 6, 6) << 4 | Bits(c, 5, 5) << 6 | Bits(c, 4, 3) << 7 | Bits(c, 2, 2) << 5;
                            return v == 0 ? Illegal(c) : Make(Opcode.Addi, c, 2, 2, 0, SignExtend(v, 10));
                        }
                        else
                        {
                            uint v = Bits(c, 12, 12) << 17 | Bits(c, 6, 2) << 12;
                            return v == 0 ? Illegal(c) : Make(Opcode.Lui, c, ReferenceDecoder.Dest(rdFull), 0, 0, SignExtend(v, 18));
                        }
                    case 4:
                    {
                        byte rd = Prime(c, 7), rs2 = Prime(c, 2);
                        long shamt = Bits(c, 12, 12) << 5 | Bits(c, 6, 2);
                        switch (Bits(c, 11, 10))
                        {
                            case 0: return Make(Opcode.Srli, c, rd, rd, 0, shamt);
                            case 1: return Make(Opcode.Srai, c, rd, rd, 0, shamt);
                            case 2: return Make(Opcode.Andi, c, rd, rd, 0, imm6);
                        }
                        Opcode op = (Bits(c, 12, 12) << 2 | Bits(c, 6, 5)) switch
                        {
                            0 => Opcode.Sub, 1 => Opcode.Xor, 2 => Opcode.Or, 3 => Opcode.And,
                            4 => Opcode.Subw, 5 => Opcode.Addw, _ => Opcode.Illegal,
                        };
                        return op == Opcode.Illegal ? Illegal(c) : Make(op, c, rd, rd, rs2, 0);
                    }
                    case 5: return Make(Opcode.Jal, c, ReplayVm.Core.Hart.Hart.ZeroSink, 0, 0, JumpOffset(c)); // C.J
                    case 6: return Make(Opcode.Beq, c, 0, Prime(c, 7), 0, BranchOffset(c));
                    default: return Make(Opcode.Bne, c, 0, Prime(c, 7), 0, BranchOffset(c));
                }
            }
            case 2:
                switch (funct3)
                {
                    case 0: return Make(Opcode.Slli, c, ReferenceDecoder.Dest(rdFull), rdFull, 0, Bits(c, 12, 12) << 5 | Bits(c, 6, 2));
                    case 1 or 5: return ReferenceFloatDecoder.DecodeCompressed(parcel); // C.FLDSP, C.FSDSP
                    case 2: // C.LWSP: uimm[5|4:2|7:6]
                    {
                        if (rdFull == 0) return Illegal(c);
                        uint off = Bits(c, 12, 12) << 5 | Bits(c, 6, 4) << 2 | Bits(c, 3, 2) << 6;
                        return Make(Opcode.Lw, c, rdFull, 2, 0, off);
                    }
                    case 3: // C.LDSP: uimm[5|4:3|8:6]
                    {
                        if (rdFull == 0) return Illegal(c);
                        uint off = Bits(c, 12, 12) << 5 | Bits(c, 6, 5) << 3 | Bits(c, 4, 2) << 6;
                        return Make(Opcode.Ld, c, rdFull, 2, 0, off);
                    }
                    case 4:
                        if (Bits(c, 12, 12) == 0)
                        {
                            if (rs2Full == 0)
                                return rdFull == 0 ? Illegal(c) : Make(Opcode.Jalr, c, ReplayVm.Core.Hart.Hart.ZeroSink, rdFull, 0, 0); // C.JR
                            return Make(Opcode.Add, c, ReferenceDecoder.Dest(rdFull), 0, rs2Full, 0); // C.MV
                        }
                        if (rs2Full == 0)
                        {
                            if (rdFull == 0) return Make(Opcode.Ebreak, c, 0, 0, 0, 0);
                            return Make(Opcode.Jalr, c, 1, rdFull, 0, 0); // C.JALR
                        }
                        return Make(Opcode.Add, c, ReferenceDecoder.Dest(rdFull), rdFull, rs2Full, 0); // C.ADD
                    case 6: // C.SWSP: uimm[5:2|7:6]
                        return Make(Opcode.Sw, c, 0, 2, rs2Full, Bits(c, 12, 9) << 2 | Bits(c, 8, 7) << 6);
                    case 7: // C.SDSP: uimm[5:3|8:6]
                        return Make(Opcode.Sd, c, 0, 2, rs2Full, Bits(c, 12, 10) << 3 | Bits(c, 9, 7) << 6);
                }
                return Illegal(c);
        }
        return Illegal(c);
    }

    // C.LW/C.SW: uimm[5:3] = c[12:10], uimm[2] = c[6], uimm[6] = c[5]
    private static long OffsetW(uint c) => Bits(c, 12, 10) << 3 | Bits(c, 6, 6) << 2 | Bits(c, 5, 5) << 6;
    // C.LD/C.SD: uimm[5:3] = c[12:10], uimm[7:6] = c[6:5]
    private static long OffsetD(uint c) => Bits(c, 12, 10) << 3 | Bits(c, 6, 5) << 6;

    // C.J: offset[11|4|9:8|10|6|7|3:1|5]
    private static long JumpOffset(uint c) => SignExtend(
        Bits(c, 12, 12) << 11 | Bits(c, 11, 11) << 4 | Bits(c, 10, 9) << 8 | Bits(c, 8, 8) << 10 |
        Bits(c, 7, 7) << 6 | Bits(c, 6, 6) << 7 | Bits(c, 5, 3) << 1 | Bits(c, 2, 2) << 5, 12);

    // C.BEQZ/C.BNEZ: offset[8|4:3] = c[12|11:10], offset[7:6|2:1|5] = c[6:5|4:3|2]
    private static long BranchOffset(uint c) => SignExtend(
        Bits(c, 12, 12) << 8 | Bits(c, 11, 10) << 3 | Bits(c, 6, 5) << 6 | Bits(c, 4, 3) << 1 | Bits(c, 2, 2) << 5, 9);
}
