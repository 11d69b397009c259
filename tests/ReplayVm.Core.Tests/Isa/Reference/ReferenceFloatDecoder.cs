// The hand-written decoders the instruction table replaced, kept verbatim (renamed) as the reference
// the table-driven decoder is checked against on every encoding class (see DecoderAgreementProperties).
using ReplayVm.Core.Hart;

namespace ReplayVm.Core.Tests.Isa.Reference;

/// <summary>
/// Decodes the F and D extensions' encodings (unprivileged spec ch. 11 "F", ch. 12 "D", and
/// 16.3 for the RVC forms C.FLD, C.FSD, C.FLDSP, C.FSDSP).
///
/// Register numbers of floating-point destinations stay 0..31 (f0 is an ordinary register); only
/// integer destinations get the x0 remapping of <see cref="ReferenceDecoder.Dest"/>. <see cref="DecodedInstruction.Rm"/>
/// carries the rm field for instructions that have one and 0 (RNE, always legal) for the rest; the
/// reserved static modes 5 and 6 decode as illegal, while 7 (dynamic) is resolved when executed.
/// </summary>
internal static class ReferenceFloatDecoder
{
    /// <summary>How far the double-precision block of <see cref="Opcode"/> sits after the single one.</summary>
    private const int DoubleOffset = Opcode.FmaddD - Opcode.FmaddS;

    public static DecodedInstruction Decode(uint raw)
    {
        uint funct3 = (raw >> 12) & 7;
        byte rd = (byte)((raw >> 7) & 31), rs1 = (byte)((raw >> 15) & 31), rs2 = (byte)((raw >> 20) & 31);
        switch ((raw >> 2) & 0x1f)
        {
            case 0x01: // LOAD-FP
                if (funct3 is not (2 or 3)) break;
                return Make(funct3 == 2 ? Opcode.Flw : Opcode.Fld, rd, rs1, 0, ReferenceDecoder.ImmI(raw));
            case 0x09: // STORE-FP
                if (funct3 is not (2 or 3)) break;
                return Make(funct3 == 2 ? Opcode.Fsw : Opcode.Fsd, 0, rs1, rs2, ReferenceDecoder.ImmS(raw));
            case 0x10 or 0x11 or 0x12 or 0x13: // MADD, MSUB, NMSUB, NMADD (R4-type)
            {
                uint fmt = (raw >> 25) & 3;
                if (fmt > 1 || funct3 is 5 or 6) break;
                var op = (Opcode)((int)Opcode.FmaddS + (int)((raw >> 2) & 0x1f) - 0x10 + (fmt == 1 ? DoubleOffset : 0));
                var d = Make(op, rd, rs1, rs2, 0, (byte)funct3);
                d.Rs3 = (byte)(raw >> 27);
                return d;
            }
            case 0x14: return DecodeOpFp(raw, funct3, rd, rs1, rs2);
        }
        return Illegal(raw);
    }

    /// <summary>The OP-FP major opcode, selected by funct5 (bits 31:27) and fmt (26:25) (spec tables 24.x "RV32F/RV64F").</summary>
    private static DecodedInstruction DecodeOpFp(uint raw, uint funct3, byte rd, byte rs1, byte rs2)
    {
        uint fmt = (raw >> 25) & 3, funct5 = raw >> 27;
        if (fmt > 1) return Illegal(raw);
        int offset = fmt == 1 ? DoubleOffset : 0;
        bool rmValid = funct3 is not (5 or 6);
        byte rm = (byte)funct3;
        byte intRd = ReferenceDecoder.Dest(rd);

        DecodedInstruction Arith(Opcode single, byte dest, byte roundingMode) => Make((Opcode)((int)single + offset), dest, rs1, rs2, 0, roundingMode);

        switch (funct5)
        {
            case 0x00 when rmValid: return Arith(Opcode.FaddS, rd, rm);
            case 0x01 when rmValid: return Arith(Opcode.FsubS, rd, rm);
            case 0x02 when rmValid: return Arith(Opcode.FmulS, rd, rm);
            case 0x03 when rmValid: return Arith(Opcode.FdivS, rd, rm);
            case 0x0B when rmValid && rs2 == 0: return Arith(Opcode.FsqrtS, rd, rm);
            case 0x04 when funct3 <= 2: return Arith((Opcode)((int)Opcode.FsgnjS + (int)funct3), rd, 0);
            case 0x05 when funct3 <= 1: return Arith((Opcode)((int)Opcode.FminS + (int)funct3), rd, 0);
            case 0x08 when rmValid && fmt == 0 && rs2 == 1: return Make(Opcode.FcvtSD, rd, rs1, 0, 0, rm);
            case 0x08 when rmValid && fmt == 1 && rs2 == 0: return Make(Opcode.FcvtDS, rd, rs1, 0, 0, rm);
            case 0x14 when funct3 <= 2: return Arith(funct3 switch { 0 => Opcode.FleS, 1 => Opcode.FltS, _ => Opcode.FeqS }, intRd, 0);
            case 0x18 when rmValid && rs2 <= 3: return Arith((Opcode)((int)Opcode.FcvtWS + rs2), intRd, rm);
            case 0x1A when rmValid && rs2 <= 3: return Arith((Opcode)((int)Opcode.FcvtSW + rs2), rd, rm);
            case 0x1C when rs2 == 0 && funct3 == 0: return Arith(Opcode.FmvXW, intRd, 0);
            case 0x1C when rs2 == 0 && funct3 == 1: return Arith(Opcode.FclassS, intRd, 0);
            case 0x1E when rs2 == 0 && funct3 == 0: return Arith(Opcode.FmvWX, rd, 0);
        }
        return Illegal(raw);
    }

    /// <summary>C.FLD, C.FSD (quadrant 0) and C.FLDSP, C.FSDSP (quadrant 2); spec 16.3, table 16.5.</summary>
    public static DecodedInstruction DecodeCompressed(ushort parcel)
    {
        uint c = parcel;
        bool store = (c >> 13) == 5;
        if ((c & 3) == 0)
        {
            // offset[5:3] in bits 12:10, offset[7:6] in bits 6:5; registers are f8..f15 / x8..x15.
            long offset = Bits(c, 12, 10) << 3 | Bits(c, 6, 5) << 6;
            byte rs1 = (byte)(8 + Bits(c, 9, 7)), reg = (byte)(8 + Bits(c, 4, 2));
            var d = store ? Make(Opcode.Fsd, 0, rs1, reg, offset) : Make(Opcode.Fld, reg, rs1, 0, offset);
            d.Length = 2;
            return d;
        }
        else
        {
            long offset = store
                ? Bits(c, 12, 10) << 3 | Bits(c, 9, 7) << 6 // C.FSDSP: uimm[5:3|8:6]
                : Bits(c, 12, 12) << 5 | Bits(c, 6, 5) << 3 | Bits(c, 4, 2) << 6; // C.FLDSP: uimm[5|4:3|8:6]
            var d = store ? Make(Opcode.Fsd, 0, 2, (byte)Bits(c, 6, 2), offset) : Make(Opcode.Fld, (byte)Bits(c, 11, 7), 2, 0, offset);
            d.Length = 2;
            return d;
        }
    }

    private static long Bits(uint v, int hi, int lo) => (v >> lo) & ((1u << (hi - lo + 1)) - 1);

    private static DecodedInstruction Make(Opcode op, byte rd, byte rs1, byte rs2, long imm, byte rm = 0) =>
        new() { Op = op, Rd = rd, Rs1 = rs1, Rs2 = rs2, Imm = imm, Rm = rm, Length = 4 };

    private static DecodedInstruction Illegal(uint raw) => new() { Op = Opcode.Illegal, Imm = raw, Length = 4 };
}
