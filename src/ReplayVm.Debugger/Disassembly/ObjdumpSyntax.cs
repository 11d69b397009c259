using System.Text;
using ReplayVm.Core.Isa;
using static ReplayVm.Debugger.Disassembly.Registers;
using static ReplayVm.Debugger.Disassembly.Text;

namespace ReplayVm.Debugger.Disassembly;

/// <summary>
/// How GNU objdump 2.40 writes a table row: its preferred aliases (li, mv, nop, j, ret, beqz, neg,
/// sext.w, csrr, frflags, fmv.s, ...; assembler pseudo-instruction table of the unprivileged spec),
/// and its quirks: immediate ALU forms under their register-form names ("add a0,a1,1" for addi,
/// "sll a0,a0,0x3" for slli) except slti/sltiu, no rounding mode when it is dyn, and "unknown" for
/// the reserved ones. Returns null for what objdump prints as data.
/// </summary>
internal static class ObjdumpSyntax
{
    private const int DynamicRounding = 7;
    private static readonly string[] RoundingNames = ["rne", "rtz", "rdn", "rup", "rmm", "unknown", "unknown"];

    /// <summary>"csrrw zero, cycle, zero": writing a read-only CSR always traps, so it is the canonical 32-bit unimp.</summary>
    private const uint Unimp32 = 0xC0001073;

    private const int Fflags = 0x001, Frm = 0x002, Fcsr = 0x003;

    public static string? Format(in InstructionFields f, ulong pc, Func<ulong, string?>? symbolize)
    {
        if (f.Compressed?.Text is { } template) return Template(template, f);
        if (f.Spec is not { } spec || (spec.Flags & SpecFlags.NotAssembled) != 0) return null;
        if ((spec.Flags & SpecFlags.ExactResult) != 0 && f.Rm != 0) return null;
        return Alias(spec, f, pc, symbolize) ?? Plain(spec, f, pc, symbolize);
    }

    /// <summary>A compressed row's own text (HINTs and the like): placeholders filled from its expansion.</summary>
    private static string Template(string template, in InstructionFields f)
    {
        var text = new StringBuilder(template)
            .Replace("{rd}", X(f.Rd)).Replace("{rs1}", X(f.Rs1)).Replace("{rs2}", X(f.Rs2))
            .Replace("{imm}", Dec(f.Imm)).Replace("{shamt}", Hex((ulong)f.Imm)).Replace("{hex20}", Hex((ulong)(f.Imm >> 12) & 0xFFFFF))
            .ToString();
        int space = text.IndexOf(' ');
        return space < 0 ? text : text[..space] + "\t" + text[(space + 1)..];
    }

    /// <summary>The mnemonic objdump uses for a row in its general form.</summary>
    private static string Mnemonic(InstructionSpec spec, in InstructionFields f)
    {
        string name = spec.Mnemonic switch
        {
            "addi" => "add", "xori" => "xor", "ori" => "or", "andi" => "and",
            "slli" => "sll", "srli" => "srl", "srai" => "sra",
            "addiw" => "addw", "slliw" => "sllw", "srliw" => "srlw", "sraiw" => "sraw",
            var other => other,
        };
        if (spec.Operands.Contains(Operand.Ordering))
            name += ((f.Raw >> 25) & 3) switch { 0 => "", 1 => ".rl", 2 => ".aq", _ => ".aqrl" };
        return name;
    }

    /// <summary>Every operand as the row lists it.</summary>
    private static string Plain(InstructionSpec spec, in InstructionFields f, ulong pc, Func<ulong, string?>? symbolize)
    {
        var operands = new List<string>(spec.Operands.Count);
        foreach (var operand in spec.Operands)
        {
            string? text = operand switch
            {
                Operand.Rd => X(f.Rd),
                Operand.Fd => F(f.Rd),
                Operand.Rs1 => X(f.Rs1),
                Operand.Fs1 => F(f.Rs1),
                Operand.Rs2 => X(f.Rs2),
                Operand.Fs2 => F(f.Rs2),
                Operand.Fs3 => F(f.Rs3),
                Operand.Imm12 => Dec(f.Imm),
                Operand.Shamt6 or Operand.Shamt5 => Hex((ulong)f.Imm),
                Operand.Upper20 => Hex((ulong)(f.Imm >> 12) & 0xFFFFF),
                Operand.BranchTarget or Operand.JumpTarget => Target(pc, f.Imm, symbolize),
                Operand.LoadAddress or Operand.StoreAddress => Mem((int)f.Imm, f.Rs1),
                Operand.AtomicAddress => "(" + X(f.Rs1) + ")",
                Operand.Csr => CsrNames.Format((int)f.Imm),
                Operand.Zimm => Dec(f.Rs1),
                Operand.RoundingMode => (spec.Flags & SpecFlags.ExactResult) != 0 || f.Rm == DynamicRounding ? null : RoundingNames[f.Rm],
                Operand.FenceSets => FenceSets(f.Raw),
                _ => null,
            };
            if (text is not null) operands.Add(text);
        }
        string mnemonic = Mnemonic(spec, f);
        return operands.Count == 0 ? Insn(mnemonic) : Insn(mnemonic, string.Join(',', operands));
    }

    /// <summary>FENCE's sets, or nothing for the full fence (iorw,iorw); objdump prints an empty set as "unknown".</summary>
    private static string? FenceSets(uint raw)
    {
        int pred = (int)((raw >> 24) & 0xF), succ = (int)((raw >> 20) & 0xF);
        if (pred == 0xF && succ == 0xF) return null;
        return Set(pred) + "," + Set(succ);

        static string Set(int bits)
        {
            if (bits == 0) return "unknown";
            var chars = new StringBuilder(4);
            if ((bits & 8) != 0) chars.Append('i');
            if ((bits & 4) != 0) chars.Append('o');
            if ((bits & 2) != 0) chars.Append('r');
            if ((bits & 1) != 0) chars.Append('w');
            return chars.ToString();
        }
    }

    /// <summary>objdump's preferred alias for this instance, or null to print the general form.</summary>
    private static string? Alias(InstructionSpec spec, in InstructionFields f, ulong pc, Func<ulong, string?>? symbolize)
    {
        string rd = X(f.Rd), rs1 = X(f.Rs1), rs2 = X(f.Rs2);
        long imm = f.Imm;
        switch (spec.Mnemonic)
        {
            case "addi":
                if (f.Rd == 0 && f.Rs1 == 0 && imm == 0) return Insn("nop");
                if (f.Rs1 == 0) return Insn("li", rd, Dec(imm));
                return imm == 0 ? Insn("mv", rd, rs1) : null;
            case "sltiu": return imm == 1 ? Insn("seqz", rd, rs1) : null;
            case "xori": return imm == -1 ? Insn("not", rd, rs1) : null;
            case "andi": return imm == 0xFF ? Insn("zext.b", rd, rs1) : null;
            case "addiw": return imm == 0 ? Insn("sext.w", rd, rs1) : null;
            case "slt":
                if (f.Rs2 == 0) return Insn("sltz", rd, rs1);
                return f.Rs1 == 0 ? Insn("sgtz", rd, rs2) : null;
            case "sltu": return f.Rs1 == 0 ? Insn("snez", rd, rs2) : null;
            case "sub": return f.Rs1 == 0 ? Insn("neg", rd, rs2) : null;
            case "subw": return f.Rs1 == 0 ? Insn("negw", rd, rs2) : null;
            case "beq": return f.Rs2 == 0 ? Insn("beqz", rs1, Target(pc, imm, symbolize)) : null;
            case "bne": return f.Rs2 == 0 ? Insn("bnez", rs1, Target(pc, imm, symbolize)) : null;
            case "blt":
                if (f.Rs2 == 0) return Insn("bltz", rs1, Target(pc, imm, symbolize));
                return f.Rs1 == 0 ? Insn("bgtz", rs2, Target(pc, imm, symbolize)) : null;
            case "bge":
                // objdump tries blez before bgez, so "bge zero,zero" prints as blez.
                if (f.Rs1 == 0) return Insn("blez", rs2, Target(pc, imm, symbolize));
                return f.Rs2 == 0 ? Insn("bgez", rs1, Target(pc, imm, symbolize)) : null;
            case "jal":
                if (f.Rd == 0) return Insn("j", Target(pc, imm, symbolize));
                return f.Rd == 1 ? Insn("jal", Target(pc, imm, symbolize)) : null;
            case "jalr":
            {
                if (f.Rd == 0 && f.Rs1 == 1 && imm == 0) return Insn("ret");
                string target = imm == 0 ? rs1 : Mem((int)imm, f.Rs1);
                if (f.Rd == 0) return Insn("jr", target);
                if (f.Rd == 1) return Insn("jalr", target);
                return imm == 0 ? Insn("jalr", rd, rs1) : null;
            }
            case "sfence.vma":
                if (f.Rs2 != 0) return null;
                return f.Rs1 != 0 ? Insn("sfence.vma", rs1) : Insn("sfence.vma");
            case "sfence.vm":
                return f.Rs1 != 0 ? Insn("sfence.vm", rs1) : Insn("sfence.vm");
            case "csrrw" or "csrrwi" or "csrrs" or "csrrsi" or "csrrc" or "csrrci":
                return Csr(spec.Mnemonic, f);
            case "fsgnj.s" or "fsgnj.d" or "fsgnjn.s" or "fsgnjn.d" or "fsgnjx.s" or "fsgnjx.d":
            {
                // fmv/fneg/fabs when both sources are the same register (spec 11.6).
                if (f.Rs1 != f.Rs2) return null;
                string op = spec.Mnemonic[..^2] switch { "fsgnj" => "fmv", "fsgnjn" => "fneg", _ => "fabs" };
                return Insn(op + spec.Mnemonic[^2..], F(f.Rd), F(f.Rs1));
            }
        }
        return null;
    }

    /// <summary>Zicsr with objdump's CSR pseudo-instructions (csrr, csrw, frflags, rdcycle, ...).</summary>
    private static string Csr(string mnemonic, in InstructionFields f)
    {
        if (f.Raw == Unimp32) return Insn("unimp");
        int csr = (int)f.Imm;
        string csrName = CsrNames.Format(csr);
        string rd = X(f.Rd);
        bool immediate = mnemonic.EndsWith('i');
        // For the immediate forms the rs1 field is a 5-bit zero-extended immediate (Zicsr, spec 9.1).
        string source = immediate ? Dec(f.Rs1) : X(f.Rs1);
        switch (mnemonic[..5])
        {
            case "csrrw":
                // objdump has a one-operand form only for the register writes (fsflags a0), not fsflagsi.
                if (FloatCsrWrite(csr, immediate) is { } fwrite)
                    return f.Rd == 0 && !immediate ? Insn(fwrite, source) : Insn(fwrite, rd, source);
                return f.Rd == 0 ? Insn("csrw", csrName, source) : Insn("csrrw", rd, csrName, source);
            case "csrrs":
                if (!immediate && f.Rs1 == 0)
                    return ReadAlias(csr) is { } read ? Insn(read, rd) : Insn("csrr", rd, csrName);
                return f.Rd == 0 ? Insn("csrs", csrName, source) : Insn("csrrs", rd, csrName, source);
            default:
                return f.Rd == 0 ? Insn("csrc", csrName, source) : Insn("csrrc", rd, csrName, source);
        }
    }

    /// <summary>Pseudo-instructions for reading a CSR (unprivileged spec, Zicsr / F "fcsr" aliases).</summary>
    private static string? ReadAlias(int csr) => csr switch
    {
        Fflags => "frflags",
        Frm => "frrm",
        Fcsr => "frcsr",
        0xC00 => "rdcycle",
        0xC01 => "rdtime",
        0xC02 => "rdinstret",
        _ => null,
    };

    private static string? FloatCsrWrite(int csr, bool immediate) => (csr, immediate) switch
    {
        (Fflags, false) => "fsflags",
        (Fflags, true) => "fsflagsi",
        (Frm, false) => "fsrm",
        (Frm, true) => "fsrmi",
        (Fcsr, false) => "fscsr",
        _ => null,
    };
}
