using static ReplayVm.Debugger.Disassembly.Registers;
using static ReplayVm.Debugger.Disassembly.Text;

namespace ReplayVm.Debugger.Disassembly;

/// <summary>
/// The C extension for RV64 (unprivileged spec chapter 16, "RVC Instruction Set Listings").
/// objdump prints most compressed instructions as their 32-bit expansion (with the expansion's
/// aliases, e.g. "add a0,sp,8" for c.addi4spn), and the HINT encodings under their c.* names.
/// </summary>
internal static class CompressedDecoder
{
    public static string? Decode(uint parcel, ulong pc, Func<ulong, string?>? symbolize)
    {
        var c = new CompressedFields(parcel & 0xFFFF);
        return c.Quadrant switch
        {
            0 => Quadrant0(c),
            1 => Quadrant1(c, pc, symbolize),
            _ => Quadrant2(c),
        };
    }

    private static string? Quadrant0(CompressedFields c)
    {
        switch (c.Funct3)
        {
            case 0:
                if (c.Bits == 0) return Insn("unimp"); // the all-zero parcel is defined illegal (spec 16.1)
                // c.addi4spn: nzuimm[5:4|9:6|2|3] in bits 12:5; zero is reserved.
                int nzuimm = (int)(c.Field(11, 2) << 4 | c.Field(7, 4) << 6 | c.Field(6, 1) << 2 | c.Field(5, 1) << 3);
                return nzuimm == 0 ? null : Insn("add", X(c.RdPrime), "sp", Dec(nzuimm));
            case 1: return Insn("fld", F(c.RdPrime), Mem(c.DoubleOffset, c.Rs1Prime));
            case 2: return Insn("lw", X(c.RdPrime), Mem(c.WordOffset, c.Rs1Prime));
            case 3: return Insn("ld", X(c.RdPrime), Mem(c.DoubleOffset, c.Rs1Prime));
            case 5: return Insn("fsd", F(c.RdPrime), Mem(c.DoubleOffset, c.Rs1Prime));
            case 6: return Insn("sw", X(c.RdPrime), Mem(c.WordOffset, c.Rs1Prime));
            case 7: return Insn("sd", X(c.RdPrime), Mem(c.DoubleOffset, c.Rs1Prime));
            default: return null;
        }
    }

    private static string? Quadrant1(CompressedFields c, ulong pc, Func<ulong, string?>? symbolize)
    {
        int rd = c.Rd;
        switch (c.Funct3)
        {
            case 0: // c.addi; rd = 0 is c.nop, whose nonzero immediates are HINTs
                if (rd == 0) return c.Imm6 == 0 ? Insn("nop") : Insn("c.nop", Dec(c.Imm6));
                return Insn("add", X(rd), X(rd), Dec(c.Imm6));
            case 1: // c.addiw (RV64); rd = 0 is reserved
                if (rd == 0) return null;
                return c.Imm6 == 0 ? Insn("sext.w", X(rd), X(rd)) : Insn("addw", X(rd), X(rd), Dec(c.Imm6));
            case 2: // c.li; rd = 0 is a HINT
                return rd == 0 ? Insn("c.li", "zero", Dec(c.Imm6)) : Insn("li", X(rd), Dec(c.Imm6));
            case 3:
                if (rd == 2)
                {
                    // c.addi16sp: nzimm[9|4|6|8:7|5] in bits 12|6|5|4:3|2.
                    int imm = (int)(c.Field(6, 1) << 4 | c.Field(5, 1) << 6 | c.Field(3, 2) << 7 | c.Field(2, 1) << 5);
                    if (c.Field(12, 1) != 0) imm -= 1 << 9;
                    return Insn("add", "sp", "sp", Dec(imm));
                }
                // c.lui: nzimm[17|16:12]; objdump prints the 20-bit upper immediate. Zero is reserved.
                if (c.Imm6 == 0) return null;
                string upper = Hex((uint)c.Imm6 & 0xFFFFF);
                return rd == 0 ? Insn("c.lui", "zero", upper) : Insn("lui", X(rd), upper);
            case 4:
                return Arithmetic(c);
            case 5:
                return Insn("j", Target(pc, c.JumpOffset, symbolize));
            case 6:
                return Insn("beqz", X(c.Rs1Prime), Target(pc, c.BranchOffset, symbolize));
            default:
                return Insn("bnez", X(c.Rs1Prime), Target(pc, c.BranchOffset, symbolize));
        }
    }

    /// <summary>Quadrant 1, funct3 = 100: shifts, andi and the register-register group on rd'.</summary>
    private static string? Arithmetic(CompressedFields c)
    {
        string rd = X(c.Rs1Prime);
        int shamt = (int)(c.Field(12, 1) << 5 | c.Field(2, 5));
        switch (c.Field(10, 2))
        {
            case 0: return shamt == 0 ? Insn("c.srli64", rd) : Insn("srl", rd, rd, Hex((uint)shamt));
            case 1: return shamt == 0 ? Insn("c.srai64", rd) : Insn("sra", rd, rd, Hex((uint)shamt));
            case 2: return Insn("and", rd, rd, Dec(c.Imm6));
        }
        string rs2 = X(c.RdPrime);
        return (c.Field(12, 1), c.Field(5, 2)) switch
        {
            (0, 0) => Insn("sub", rd, rd, rs2),
            (0, 1) => Insn("xor", rd, rd, rs2),
            (0, 2) => Insn("or", rd, rd, rs2),
            (0, 3) => Insn("and", rd, rd, rs2),
            (1, 0) => Insn("subw", rd, rd, rs2),
            (1, 1) => Insn("addw", rd, rd, rs2),
            _ => null,
        };
    }

    private static string? Quadrant2(CompressedFields c)
    {
        int rd = c.Rd, rs2 = c.Rs2;
        switch (c.Funct3)
        {
            case 0: // c.slli; rd = 0 is a HINT, shamt = 0 is the RV128 c.slli64 HINT
                int shamt = (int)(c.Field(12, 1) << 5 | c.Field(2, 5));
                if (shamt == 0) return Insn("c.slli64", X(rd));
                return rd == 0 ? Insn("c.slli", "zero", Hex((uint)shamt)) : Insn("sll", X(rd), X(rd), Hex((uint)shamt));
            case 1: return Insn("fld", F(rd), Mem(c.DoubleSpLoadOffset, 2));
            case 2: return rd == 0 ? null : Insn("lw", X(rd), Mem(c.WordSpLoadOffset, 2));
            case 3: return rd == 0 ? null : Insn("ld", X(rd), Mem(c.DoubleSpLoadOffset, 2));
            case 4:
                return JumpMoveAdd(c, rd, rs2);
            case 5: return Insn("fsd", F(rs2), Mem(c.DoubleSpStoreOffset, 2));
            case 6: return Insn("sw", X(rs2), Mem(c.WordSpStoreOffset, 2));
            default: return Insn("sd", X(rs2), Mem(c.DoubleSpStoreOffset, 2));
        }
    }

    /// <summary>Quadrant 2, funct3 = 100: c.jr, c.mv, c.ebreak, c.jalr, c.add.</summary>
    private static string? JumpMoveAdd(CompressedFields c, int rd, int rs2)
    {
        if (c.Field(12, 1) == 0)
        {
            if (rs2 == 0)
            {
                if (rd == 0) return null; // c.jr with rs1 = 0 is reserved
                return rd == 1 ? Insn("ret") : Insn("jr", X(rd));
            }
            return rd == 0 ? Insn("c.mv", "zero", X(rs2)) : Insn("mv", X(rd), X(rs2));
        }
        if (rs2 == 0) return rd == 0 ? Insn("ebreak") : Insn("jalr", X(rd));
        return rd == 0 ? Insn("c.add", "zero", X(rs2)) : Insn("add", X(rd), X(rd), X(rs2));
    }
}

/// <summary>Field extraction for the 16-bit RVC formats (spec 16.2, "Compressed Instruction Formats").</summary>
internal readonly struct CompressedFields(uint bits)
{
    public uint Bits { get; } = bits;

    public uint Field(int low, int width) => (Bits >> low) & ((1u << width) - 1);

    public int Quadrant => (int)(Bits & 3);
    public int Funct3 => (int)(Bits >> 13);
    public int Rd => (int)Field(7, 5);
    public int Rs2 => (int)Field(2, 5);

    /// <summary>The 3-bit register fields name x8..x15 / f8..f15.</summary>
    public int RdPrime => 8 + (int)Field(2, 3);
    public int Rs1Prime => 8 + (int)Field(7, 3);

    /// <summary>imm[5] in bit 12 and imm[4:0] in bits 6:2, sign-extended (CI format).</summary>
    public int Imm6 => (int)(Field(12, 1) != 0 ? Field(2, 5) - 32 : Field(2, 5));

    /// <summary>c.lw/c.sw: uimm[5:3] in bits 12:10, uimm[2] in bit 6, uimm[6] in bit 5.</summary>
    public int WordOffset => (int)(Field(10, 3) << 3 | Field(6, 1) << 2 | Field(5, 1) << 6);

    /// <summary>c.ld/c.sd/c.fld/c.fsd: uimm[5:3] in bits 12:10, uimm[7:6] in bits 6:5.</summary>
    public int DoubleOffset => (int)(Field(10, 3) << 3 | Field(5, 2) << 6);

    /// <summary>c.lwsp: uimm[5] in bit 12, uimm[4:2] in bits 6:4, uimm[7:6] in bits 3:2.</summary>
    public int WordSpLoadOffset => (int)(Field(12, 1) << 5 | Field(4, 3) << 2 | Field(2, 2) << 6);

    /// <summary>c.ldsp/c.fldsp: uimm[5] in bit 12, uimm[4:3] in bits 6:5, uimm[8:6] in bits 4:2.</summary>
    public int DoubleSpLoadOffset => (int)(Field(12, 1) << 5 | Field(5, 2) << 3 | Field(2, 3) << 6);

    /// <summary>c.swsp: uimm[5:2] in bits 12:9, uimm[7:6] in bits 8:7.</summary>
    public int WordSpStoreOffset => (int)(Field(9, 4) << 2 | Field(7, 2) << 6);

    /// <summary>c.sdsp/c.fsdsp: uimm[5:3] in bits 12:10, uimm[8:6] in bits 9:7.</summary>
    public int DoubleSpStoreOffset => (int)(Field(10, 3) << 3 | Field(7, 3) << 6);

    /// <summary>c.j: offset[11|4|9:8|10|6|7|3:1|5] in bits 12:2, sign-extended.</summary>
    public int JumpOffset
    {
        get
        {
            int offset = (int)(Field(12, 1) << 11 | Field(11, 1) << 4 | Field(9, 2) << 8 | Field(8, 1) << 10
                | Field(7, 1) << 6 | Field(6, 1) << 7 | Field(3, 3) << 1 | Field(2, 1) << 5);
            return (offset << 20) >> 20;
        }
    }

    /// <summary>c.beqz/c.bnez: offset[8|4:3] in bits 12:10, offset[7:6|2:1|5] in bits 6:2, sign-extended.</summary>
    public int BranchOffset
    {
        get
        {
            int offset = (int)(Field(12, 1) << 8 | Field(10, 2) << 3 | Field(5, 2) << 6 | Field(3, 2) << 1 | Field(2, 1) << 5);
            return (offset << 23) >> 23;
        }
    }
}
