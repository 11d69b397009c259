namespace ReplayVm.Core.Isa;

/// <summary>
/// One operand of an instruction, in the order the assembler writes them. Which operands a row has
/// also says which encoding fields it uses: register operands name their file (x or f), and the
/// immediate operands name the immediate format (unprivileged spec 2.3 "Immediate Encoding Variants").
/// </summary>
public enum Operand : byte
{
    /// <summary>x[rd], bits 11:7, written.</summary>
    Rd,
    /// <summary>f[rd], bits 11:7, written.</summary>
    Fd,
    /// <summary>x[rs1], bits 19:15, read.</summary>
    Rs1,
    /// <summary>f[rs1], read.</summary>
    Fs1,
    /// <summary>x[rs2], bits 24:20, read.</summary>
    Rs2,
    /// <summary>f[rs2], read.</summary>
    Fs2,
    /// <summary>f[rs3], bits 31:27 (the fused multiply-adds), read.</summary>
    Fs3,
    /// <summary>I-type immediate, bits 31:20, sign-extended.</summary>
    Imm12,
    /// <summary>RV64 shift amount, bits 25:20.</summary>
    Shamt6,
    /// <summary>32-bit shift amount (the *W shifts), bits 24:20.</summary>
    Shamt5,
    /// <summary>U-type immediate, bits 31:12, placed at 31:12 and sign-extended.</summary>
    Upper20,
    /// <summary>pc + B-type offset.</summary>
    BranchTarget,
    /// <summary>pc + J-type offset.</summary>
    JumpTarget,
    /// <summary>"imm(x[rs1])" with an I-type offset: loads, JALR.</summary>
    LoadAddress,
    /// <summary>"imm(x[rs1])" with an S-type offset: stores.</summary>
    StoreAddress,
    /// <summary>"(x[rs1])": the A extension's address, no offset.</summary>
    AtomicAddress,
    /// <summary>The aq and rl bits (26, 25) of the A extension, written as a mnemonic suffix.</summary>
    Ordering,
    /// <summary>CSR number, bits 31:20, unsigned.</summary>
    Csr,
    /// <summary>The Zicsr immediate forms' 5-bit zero-extended source, in the rs1 field.</summary>
    Zimm,
    /// <summary>Rounding mode, bits 14:12: 5 and 6 are reserved (illegal to execute), 7 is dynamic.</summary>
    RoundingMode,
    /// <summary>FENCE's predecessor and successor sets, bits 27:24 and 23:20.</summary>
    FenceSets,
}
