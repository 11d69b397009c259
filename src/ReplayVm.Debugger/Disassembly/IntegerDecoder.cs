using static ReplayVm.Debugger.Disassembly.Registers;
using static ReplayVm.Debugger.Disassembly.Text;

namespace ReplayVm.Debugger.Disassembly;

/// <summary>
/// RV64I and the M extension (unprivileged spec chapters 2, 4 "RV64I" and 7 "M"), printed with the
/// aliases GNU objdump 2.40 prefers by default (li, mv, nop, j, ret, beqz, neg, sext.w, ...).
/// Note that objdump 2.40 prints immediate ALU forms under their register-form names
/// ("add a0,a1,1" for addi, "sll a0,a0,0x3" for slli), except slti/sltiu.
/// </summary>
internal static class IntegerDecoder
{
    private static readonly string[] LoadNames = ["lb", "lh", "lw", "ld", "lbu", "lhu", "lwu"];
    private static readonly string[] StoreNames = ["sb", "sh", "sw", "sd"];
    private static readonly string?[] BranchNames = ["beq", "bne", null, null, "blt", "bge", "bltu", "bgeu"];
    private static readonly string[] MulDivNames = ["mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu"];
    private static readonly string?[] MulDivWordNames = ["mulw", null, null, null, "divw", "divuw", "remw", "remuw"];

    public static string? Load(Fields f) =>
        f.Funct3 < LoadNames.Length ? Insn(LoadNames[f.Funct3], X(f.Rd), Mem(f.ImmI, f.Rs1)) : null;

    public static string? Store(Fields f) =>
        f.Funct3 < StoreNames.Length ? Insn(StoreNames[f.Funct3], X(f.Rs2), Mem(f.ImmS, f.Rs1)) : null;

    public static string Lui(Fields f) => Insn("lui", X(f.Rd), Hex(f.ImmU20));

    public static string Auipc(Fields f) => Insn("auipc", X(f.Rd), Hex(f.ImmU20));

    public static string? OpImm(Fields f)
    {
        int imm = f.ImmI;
        string rd = X(f.Rd), rs1 = X(f.Rs1);
        switch (f.Funct3)
        {
            case 0:
                if (f.Rd == 0 && f.Rs1 == 0 && imm == 0) return Insn("nop");
                if (f.Rs1 == 0) return Insn("li", rd, Dec(imm));
                if (imm == 0) return Insn("mv", rd, rs1);
                return Insn("add", rd, rs1, Dec(imm));
            case 1:
                // RV64 slli: funct6 = 000000, 6-bit shamt (spec 4.2.1).
                return (f.Word >> 26) == 0 ? Insn("sll", rd, rs1, Hex((uint)(imm & 0x3F))) : null;
            case 2:
                return Insn("slti", rd, rs1, Dec(imm));
            case 3:
                return imm == 1 ? Insn("seqz", rd, rs1) : Insn("sltiu", rd, rs1, Dec(imm));
            case 4:
                return imm == -1 ? Insn("not", rd, rs1) : Insn("xor", rd, rs1, Dec(imm));
            case 5:
                return (f.Word >> 26) switch
                {
                    0x00 => Insn("srl", rd, rs1, Hex((uint)(imm & 0x3F))),
                    0x10 => Insn("sra", rd, rs1, Hex((uint)(imm & 0x3F))),
                    _ => null,
                };
            case 6:
                return Insn("or", rd, rs1, Dec(imm));
            default:
                return imm == 0xFF ? Insn("zext.b", rd, rs1) : Insn("and", rd, rs1, Dec(imm));
        }
    }

    public static string? OpImm32(Fields f)
    {
        string rd = X(f.Rd), rs1 = X(f.Rs1);
        switch (f.Funct3)
        {
            case 0:
                return f.ImmI == 0 ? Insn("sext.w", rd, rs1) : Insn("addw", rd, rs1, Dec(f.ImmI));
            case 1:
                return f.Funct7 == 0 ? Insn("sllw", rd, rs1, Hex((uint)f.Rs2)) : null;
            case 5:
                return f.Funct7 switch
                {
                    0x00 => Insn("srlw", rd, rs1, Hex((uint)f.Rs2)),
                    0x20 => Insn("sraw", rd, rs1, Hex((uint)f.Rs2)),
                    _ => null,
                };
            default:
                return null;
        }
    }

    public static string? Op(Fields f)
    {
        string rd = X(f.Rd), rs1 = X(f.Rs1), rs2 = X(f.Rs2);
        switch (f.Funct7)
        {
            case 0x00:
                return f.Funct3 switch
                {
                    0 => Insn("add", rd, rs1, rs2),
                    1 => Insn("sll", rd, rs1, rs2),
                    2 => f.Rs2 == 0 ? Insn("sltz", rd, rs1)
                        : f.Rs1 == 0 ? Insn("sgtz", rd, rs2)
                        : Insn("slt", rd, rs1, rs2),
                    3 => f.Rs1 == 0 ? Insn("snez", rd, rs2) : Insn("sltu", rd, rs1, rs2),
                    4 => Insn("xor", rd, rs1, rs2),
                    5 => Insn("srl", rd, rs1, rs2),
                    6 => Insn("or", rd, rs1, rs2),
                    _ => Insn("and", rd, rs1, rs2),
                };
            case 0x20:
                return f.Funct3 switch
                {
                    0 => f.Rs1 == 0 ? Insn("neg", rd, rs2) : Insn("sub", rd, rs1, rs2),
                    5 => Insn("sra", rd, rs1, rs2),
                    _ => null,
                };
            case 0x01:
                return Insn(MulDivNames[f.Funct3], rd, rs1, rs2);
            default:
                return null;
        }
    }

    public static string? Op32(Fields f)
    {
        string rd = X(f.Rd), rs1 = X(f.Rs1), rs2 = X(f.Rs2);
        switch (f.Funct7)
        {
            case 0x00:
                return f.Funct3 switch
                {
                    0 => Insn("addw", rd, rs1, rs2),
                    1 => Insn("sllw", rd, rs1, rs2),
                    5 => Insn("srlw", rd, rs1, rs2),
                    _ => null,
                };
            case 0x20:
                return f.Funct3 switch
                {
                    0 => f.Rs1 == 0 ? Insn("negw", rd, rs2) : Insn("subw", rd, rs1, rs2),
                    5 => Insn("sraw", rd, rs1, rs2),
                    _ => null,
                };
            case 0x01:
                string? name = MulDivWordNames[f.Funct3];
                return name is null ? null : Insn(name, rd, rs1, rs2);
            default:
                return null;
        }
    }

    public static string? Branch(Fields f, ulong pc, Func<ulong, string?>? symbolize)
    {
        string? name = BranchNames[f.Funct3];
        if (name is null) return null;
        string target = Target(pc, f.ImmB, symbolize);
        string rs1 = X(f.Rs1), rs2 = X(f.Rs2);
        // Zero-operand aliases (spec 2.5 / assembler pseudo-instruction table).
        switch (f.Funct3)
        {
            case 0 when f.Rs2 == 0: return Insn("beqz", rs1, target);
            case 1 when f.Rs2 == 0: return Insn("bnez", rs1, target);
            case 4 when f.Rs2 == 0: return Insn("bltz", rs1, target);
            case 4 when f.Rs1 == 0: return Insn("bgtz", rs2, target);
            // objdump tries blez before bgez, so "bge zero,zero" prints as blez.
            case 5 when f.Rs1 == 0: return Insn("blez", rs2, target);
            case 5 when f.Rs2 == 0: return Insn("bgez", rs1, target);
        }
        return Insn(name, rs1, rs2, target);
    }

    public static string Jal(Fields f, ulong pc, Func<ulong, string?>? symbolize)
    {
        string target = Target(pc, f.ImmJ, symbolize);
        return f.Rd switch
        {
            0 => Insn("j", target),
            1 => Insn("jal", target),
            _ => Insn("jal", X(f.Rd), target),
        };
    }

    public static string? Jalr(Fields f)
    {
        if (f.Funct3 != 0) return null;
        int imm = f.ImmI;
        if (f.Rd == 0 && f.Rs1 == 1 && imm == 0) return Insn("ret");
        if (f.Rd == 0) return Insn("jr", imm == 0 ? X(f.Rs1) : Mem(imm, f.Rs1));
        if (f.Rd == 1) return Insn("jalr", imm == 0 ? X(f.Rs1) : Mem(imm, f.Rs1));
        return imm == 0 ? Insn("jalr", X(f.Rd), X(f.Rs1)) : Insn("jalr", X(f.Rd), Mem(imm, f.Rs1));
    }
}
