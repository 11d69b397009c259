// The hand-written decoders the instruction table replaced, kept verbatim (renamed) as the reference
// the table-driven decoder is checked against on every encoding class (see DecoderAgreementProperties).
using ReplayVm.Core.Hart;

namespace ReplayVm.Core.Tests.Isa.Reference;

/// <summary>
/// Turns a 32-bit encoding into a <see cref="DecodedInstruction"/> (unprivileged spec ch. 2
/// "RV32I Base Integer Instruction Set", ch. 5 "RV64I", ch. 7 "M", ch. 8 "A", ch. 9/10 Zicsr and
/// Zifencei; privileged spec ch. 3.3 for the system instructions). Anything not recognised decodes
/// to <see cref="Opcode.Illegal"/>: the executor raises an illegal-instruction trap for it.
/// </summary>
internal static class ReferenceDecoder
{
    /// <summary>Destination registers of value 0 are redirected here; see <see cref="DecodedInstruction"/>.</summary>
    internal static byte Dest(uint register)
    {
        byte r = (byte)(register & 31);
        return r == 0 ? ReplayVm.Core.Hart.Hart.ZeroSink : r;
    }


    private static byte Rs1(uint raw) => (byte)((raw >> 15) & 31);
    private static byte Rs2(uint raw) => (byte)((raw >> 20) & 31);

    public static long ImmI(uint raw) => (int)raw >> 20;
    public static long ImmS(uint raw) => ((int)raw >> 25 << 5) | (int)((raw >> 7) & 0x1f);
    public static long ImmB(uint raw) =>
        ((int)raw >> 31 << 12) | (int)((raw >> 7) & 1) << 11 | (int)((raw >> 25) & 0x3f) << 5 | (int)((raw >> 8) & 0xf) << 1;
    public static long ImmU(uint raw) => (int)(raw & 0xffff_f000);
    public static long ImmJ(uint raw) =>
        ((int)raw >> 31 << 20) | (int)(raw & 0xff000) | (int)((raw >> 20) & 1) << 11 | (int)((raw >> 21) & 0x3ff) << 1;

    public static DecodedInstruction Decode(uint raw)
    {
        var d = DecodeFields(raw);
        if (d.Op == Opcode.Illegal) d.Imm = (d.Length == 2 ? raw & 0xFFFF : raw);
        return d;
    }

    private static DecodedInstruction DecodeFields(uint raw)
    {
        var d = new DecodedInstruction { Imm = raw, Length = 4, Op = Opcode.Illegal };
        if ((raw & 3) != 3) return ReferenceCompressedDecoder.Decode((ushort)raw);
        uint funct3 = (raw >> 12) & 7, funct7 = raw >> 25;
        byte rd = Dest(raw >> 7), rs1 = Rs1(raw), rs2 = Rs2(raw);
        switch ((raw >> 2) & 0x1f)
        {
            case 0x0D: return Make(Opcode.Lui, raw, rd, 0, 0, ImmU(raw));
            case 0x05: return Make(Opcode.Auipc, raw, rd, 0, 0, ImmU(raw));
            case 0x1B: return Make(Opcode.Jal, raw, rd, 0, 0, ImmJ(raw));
            case 0x19:
                if (funct3 != 0) break;
                return Make(Opcode.Jalr, raw, rd, rs1, 0, ImmI(raw));
            case 0x18:
            {
                Opcode op = funct3 switch
                {
                    0 => Opcode.Beq, 1 => Opcode.Bne, 4 => Opcode.Blt, 5 => Opcode.Bge, 6 => Opcode.Bltu, 7 => Opcode.Bgeu,
                    _ => Opcode.Illegal,
                };
                return Make(op, raw, 0, rs1, rs2, ImmB(raw));
            }
            case 0x00:
            {
                Opcode op = funct3 switch
                {
                    0 => Opcode.Lb, 1 => Opcode.Lh, 2 => Opcode.Lw, 3 => Opcode.Ld, 4 => Opcode.Lbu, 5 => Opcode.Lhu, 6 => Opcode.Lwu,
                    _ => Opcode.Illegal,
                };
                return Make(op, raw, rd, rs1, 0, ImmI(raw));
            }
            case 0x08:
            {
                Opcode op = funct3 switch { 0 => Opcode.Sb, 1 => Opcode.Sh, 2 => Opcode.Sw, 3 => Opcode.Sd, _ => Opcode.Illegal };
                return Make(op, raw, 0, rs1, rs2, ImmS(raw));
            }
            case 0x04: return DecodeOpImm(raw, funct3, rd, rs1);
            case 0x06: return DecodeOpImm32(raw, funct3, rd, rs1);
            case 0x0C: return Make(DecodeOp(funct3, funct7), raw, rd, rs1, rs2, 0);
            case 0x0E: return Make(DecodeOp32(funct3, funct7), raw, rd, rs1, rs2, 0);
            case 0x03:
                // FENCE's unused fields are reserved for future use and must be ignored (spec 2.7);
                // FENCE.I likewise ignores rd, rs1 and imm (Zifencei ch.).
                if (funct3 == 0) return Make(Opcode.Fence, raw, 0, 0, 0, 0);
                if (funct3 == 1) return Make(Opcode.FenceI, raw, 0, 0, 0, 0);
                break;
            case 0x1C: return DecodeSystem(raw, funct3, rd, rs1, rs2);
            case 0x0B: return DecodeAmo(raw, funct3, rd, rs1, rs2);
            case 0x01 or 0x09 or 0x10 or 0x11 or 0x12 or 0x13 or 0x14: return ReferenceFloatDecoder.Decode(raw);
        }
        return d;
    }

    private static DecodedInstruction Make(Opcode op, uint raw, byte rd, byte rs1, byte rs2, long imm) =>
        new() { Op = op, Rd = rd, Rs1 = rs1, Rs2 = rs2, Imm = imm, Length = 4 };

    private static DecodedInstruction DecodeOpImm(uint raw, uint funct3, byte rd, byte rs1)
    {
        long imm = ImmI(raw);
        uint funct6 = raw >> 26;
        Opcode op = funct3 switch
        {
            0 => Opcode.Addi, 2 => Opcode.Slti, 3 => Opcode.Sltiu, 4 => Opcode.Xori, 6 => Opcode.Ori, 7 => Opcode.Andi,
            // RV64 shifts take a 6-bit shamt; the remaining upper bits must be zero (or 0b010000 for SRAI).
            1 => funct6 == 0 ? Opcode.Slli : Opcode.Illegal,
            5 => funct6 == 0 ? Opcode.Srli : funct6 == 0x10 ? Opcode.Srai : Opcode.Illegal,
            _ => Opcode.Illegal,
        };
        if (funct3 is 1 or 5) imm &= 63;
        return Make(op, raw, rd, rs1, 0, imm);
    }

    private static DecodedInstruction DecodeOpImm32(uint raw, uint funct3, byte rd, byte rs1)
    {
        long imm = ImmI(raw);
        uint funct7 = raw >> 25;
        Opcode op = funct3 switch
        {
            0 => Opcode.Addiw,
            1 => funct7 == 0 ? Opcode.Slliw : Opcode.Illegal,
            5 => funct7 == 0 ? Opcode.Srliw : funct7 == 0x20 ? Opcode.Sraiw : Opcode.Illegal,
            _ => Opcode.Illegal,
        };
        if (funct3 is 1 or 5) imm &= 31;
        return Make(op, raw, rd, rs1, 0, imm);
    }

    private static Opcode DecodeOp(uint funct3, uint funct7) => funct7 switch
    {
        0x00 => funct3 switch
        {
            0 => Opcode.Add, 1 => Opcode.Sll, 2 => Opcode.Slt, 3 => Opcode.Sltu,
            4 => Opcode.Xor, 5 => Opcode.Srl, 6 => Opcode.Or, _ => Opcode.And,
        },
        0x20 => funct3 switch { 0 => Opcode.Sub, 5 => Opcode.Sra, _ => Opcode.Illegal },
        0x01 => funct3 switch
        {
            0 => Opcode.Mul, 1 => Opcode.Mulh, 2 => Opcode.Mulhsu, 3 => Opcode.Mulhu,
            4 => Opcode.Div, 5 => Opcode.Divu, 6 => Opcode.Rem, _ => Opcode.Remu,
        },
        _ => Opcode.Illegal,
    };

    private static Opcode DecodeOp32(uint funct3, uint funct7) => funct7 switch
    {
        0x00 => funct3 switch { 0 => Opcode.Addw, 1 => Opcode.Sllw, 5 => Opcode.Srlw, _ => Opcode.Illegal },
        0x20 => funct3 switch { 0 => Opcode.Subw, 5 => Opcode.Sraw, _ => Opcode.Illegal },
        0x01 => funct3 switch
        {
            0 => Opcode.Mulw, 4 => Opcode.Divw, 5 => Opcode.Divuw, 6 => Opcode.Remw, 7 => Opcode.Remuw,
            _ => Opcode.Illegal,
        },
        _ => Opcode.Illegal,
    };

    private static DecodedInstruction DecodeSystem(uint raw, uint funct3, byte rd, byte rs1, byte rs2)
    {
        long csr = raw >> 20;
        switch (funct3)
        {
            case 0:
                switch (raw)
                {
                    case 0x0000_0073: return Make(Opcode.Ecall, raw, 0, 0, 0, 0);
                    case 0x0010_0073: return Make(Opcode.Ebreak, raw, 0, 0, 0, 0);
                    case 0x3020_0073: return Make(Opcode.Mret, raw, 0, 0, 0, 0);
                    case 0x1020_0073: return Make(Opcode.Sret, raw, 0, 0, 0, 0);
                    case 0x1050_0073: return Make(Opcode.Wfi, raw, 0, 0, 0, 0);
                }
                if (raw >> 25 == 0x09 && ((raw >> 7) & 31) == 0) return Make(Opcode.SfenceVma, raw, 0, rs1, rs2, 0);
                break;
            case 1: return Make(Opcode.Csrrw, raw, rd, rs1, 0, csr);
            case 2: return Make(Opcode.Csrrs, raw, rd, rs1, 0, csr);
            case 3: return Make(Opcode.Csrrc, raw, rd, rs1, 0, csr);
            // For the immediate forms Rs1 carries the 5-bit zimm.
            case 5: return Make(Opcode.Csrrwi, raw, rd, rs1, 0, csr);
            case 6: return Make(Opcode.Csrrsi, raw, rd, rs1, 0, csr);
            case 7: return Make(Opcode.Csrrci, raw, rd, rs1, 0, csr);
        }
        return new DecodedInstruction { Op = Opcode.Illegal, Imm = raw, Length = 4 };
    }

    private static DecodedInstruction DecodeAmo(uint raw, uint funct3, byte rd, byte rs1, byte rs2)
    {
        uint funct5 = raw >> 27;
        bool word = funct3 == 2;
        if (funct3 is not (2 or 3)) return new DecodedInstruction { Op = Opcode.Illegal, Imm = raw, Length = 4 };
        Opcode op = funct5 switch
        {
            0x02 => ((raw >> 20) & 31) == 0 ? (word ? Opcode.LrW : Opcode.LrD) : Opcode.Illegal,
            0x03 => word ? Opcode.ScW : Opcode.ScD,
            0x01 => word ? Opcode.AmoswapW : Opcode.AmoswapD,
            0x00 => word ? Opcode.AmoaddW : Opcode.AmoaddD,
            0x04 => word ? Opcode.AmoxorW : Opcode.AmoxorD,
            0x0C => word ? Opcode.AmoandW : Opcode.AmoandD,
            0x08 => word ? Opcode.AmoorW : Opcode.AmoorD,
            0x10 => word ? Opcode.AmominW : Opcode.AmominD,
            0x14 => word ? Opcode.AmomaxW : Opcode.AmomaxD,
            0x18 => word ? Opcode.AmominuW : Opcode.AmominuD,
            0x1C => word ? Opcode.AmomaxuW : Opcode.AmomaxuD,
            _ => Opcode.Illegal,
        };
        return Make(op, raw, rd, rs1, rs2, 0);
    }
}
