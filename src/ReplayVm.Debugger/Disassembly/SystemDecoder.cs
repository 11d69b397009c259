using static ReplayVm.Debugger.Disassembly.Registers;
using static ReplayVm.Debugger.Disassembly.Text;

namespace ReplayVm.Debugger.Disassembly;

/// <summary>
/// MISC-MEM (fence, fence.tso, Zifencei fence.i), SYSTEM (ecall/ebreak, privileged returns, wfi,
/// sfence.vma) and Zicsr, with objdump's CSR pseudo-instructions (csrr, csrw, frflags, rdcycle, ...).
/// </summary>
internal static class SystemDecoder
{
    public static string? MiscMem(Fields f)
    {
        if (f.Funct3 == 1)
            // Zifencei (spec chapter 3): every other field is reserved and must be zero.
            return (f.Word & ~0x707Fu) == 0 ? Insn("fence.i") : null;
        if (f.Funct3 != 0 || f.Rd != 0 || f.Rs1 != 0) return null;

        int fm = (int)(f.Word >> 28);
        int pred = (int)((f.Word >> 24) & 0xF);
        int succ = (int)((f.Word >> 20) & 0xF);
        if (fm == 8)
            // FENCE.TSO is fm=1000 with pred=succ=RW (spec 2.7); other fm=1000 encodings are not named.
            return pred == 0x3 && succ == 0x3 ? Insn("fence.tso") : null;
        if (fm != 0) return null;
        if (pred == 0xF && succ == 0xF) return Insn("fence");
        return Insn("fence", FenceSet(pred), FenceSet(succ));
    }

    /// <summary>The i/o/r/w ordering set of a fence; objdump prints an empty set as "unknown".</summary>
    private static string FenceSet(int bits)
    {
        if (bits == 0) return "unknown";
        Span<char> chars = stackalloc char[4];
        int n = 0;
        if ((bits & 8) != 0) chars[n++] = 'i';
        if ((bits & 4) != 0) chars[n++] = 'o';
        if ((bits & 2) != 0) chars[n++] = 'r';
        if ((bits & 1) != 0) chars[n++] = 'w';
        return new string(chars[..n]);
    }

    public static string? System(Fields f) => f.Funct3 == 0 ? Privileged(f) : f.Funct3 == 4 ? null : Csr(f);

    private static string? Privileged(Fields f)
    {
        switch (f.Word)
        {
            case 0x00000073: return Insn("ecall");
            case 0x00100073: return Insn("ebreak");
            case 0x10200073: return Insn("sret");
            case 0x30200073: return Insn("mret");
            case 0x10500073: return Insn("wfi");
            case 0x7B200073: return Insn("dret"); // debug spec 4.8
            // Returns from earlier privileged specs that objdump 2.40 still decodes (N extension, 1.9.1 hret).
            case 0x00200073: return Insn("uret");
            case 0x20200073: return Insn("hret");
        }
        // SFENCE.VM rs1 from privileged spec 1.9.1 (replaced by sfence.vma in 1.10); objdump still decodes it.
        if ((f.Word & 0xFFF07FFF) == 0x10400073)
            return f.Rs1 != 0 ? Insn("sfence.vm", X(f.Rs1)) : Insn("sfence.vm");
        // SFENCE.VMA rs1, rs2 (privileged spec 4.2.1): funct7 = 0001001, rd = 0.
        if (f.Funct7 == 0x09 && f.Rd == 0)
        {
            if (f.Rs2 != 0) return Insn("sfence.vma", X(f.Rs1), X(f.Rs2));
            return f.Rs1 != 0 ? Insn("sfence.vma", X(f.Rs1)) : Insn("sfence.vma");
        }
        return null;
    }

    private const int Fflags = 0x001, Frm = 0x002, Fcsr = 0x003;
    private const int Cycle = 0xC00, Time = 0xC01, Instret = 0xC02;

    /// <summary>"csrrw zero, cycle, zero": writing a read-only CSR always traps, so it is the canonical 32-bit unimp.</summary>
    private const uint Unimp32 = 0xC0001073;

    private static string Csr(Fields f)
    {
        if (f.Word == Unimp32) return Insn("unimp");

        int csr = f.Csr;
        string csrName = CsrNames.Format(csr);
        string rd = X(f.Rd);
        bool immediate = f.Funct3 >= 5;
        // For the immediate forms the rs1 field is a 5-bit zero-extended immediate (Zicsr, spec 9.1).
        string source = immediate ? Dec(f.Rs1) : X(f.Rs1);

        switch (f.Funct3 & 3)
        {
            case 1: // csrrw / csrrwi
                // objdump has a one-operand form only for the register writes (fsflags a0), not fsflagsi.
                if (FloatCsrWrite(csr, immediate) is { } fwrite)
                    return f.Rd == 0 && !immediate ? Insn(fwrite, source) : Insn(fwrite, rd, source);
                return f.Rd == 0 ? Insn("csrw", csrName, source) : Insn("csrrw", rd, csrName, source);
            case 2: // csrrs / csrrsi
                if (!immediate && f.Rs1 == 0)
                    return ReadAlias(csr) is { } read ? Insn(read, rd) : Insn("csrr", rd, csrName);
                return f.Rd == 0 ? Insn("csrs", csrName, source) : Insn("csrrs", rd, csrName, source);
            default: // csrrc / csrrci
                return f.Rd == 0 ? Insn("csrc", csrName, source) : Insn("csrrc", rd, csrName, source);
        }
    }

    /// <summary>Pseudo-instructions for reading a CSR (unprivileged spec, Zicsr / F "fcsr" aliases).</summary>
    private static string? ReadAlias(int csr) => csr switch
    {
        Fflags => "frflags",
        Frm => "frrm",
        Fcsr => "frcsr",
        Cycle => "rdcycle",
        Time => "rdtime",
        Instret => "rdinstret",
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
