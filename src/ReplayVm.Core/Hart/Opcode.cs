namespace ReplayVm.Core.Hart;

/// <summary>
/// Every operation the hart executes. Compressed instructions expand to the same operations
/// (RISC-V unprivileged spec, ch. "C" Standard Extension: each RVC instruction maps to a base
/// instruction). <see cref="NotDecoded"/> is zero so a freshly allocated decode cache is empty.
/// </summary>
public enum Opcode : byte
{
    NotDecoded = 0,
    Illegal,
    // RV64I
    Lui, Auipc, Jal, Jalr,
    Beq, Bne, Blt, Bge, Bltu, Bgeu,
    Lb, Lh, Lw, Ld, Lbu, Lhu, Lwu,
    Sb, Sh, Sw, Sd,
    Addi, Slti, Sltiu, Xori, Ori, Andi, Slli, Srli, Srai,
    Add, Sub, Sll, Slt, Sltu, Xor, Srl, Sra, Or, And,
    Addiw, Slliw, Srliw, Sraiw, Addw, Subw, Sllw, Srlw, Sraw,
    Fence, FenceI,
    Ecall, Ebreak, Mret, Sret, Wfi, SfenceVma,
    // Zicsr
    Csrrw, Csrrs, Csrrc, Csrrwi, Csrrsi, Csrrci,
    // M
    Mul, Mulh, Mulhsu, Mulhu, Div, Divu, Rem, Remu,
    Mulw, Divw, Divuw, Remw, Remuw,
    // A
    LrW, ScW, AmoswapW, AmoaddW, AmoxorW, AmoandW, AmoorW, AmominW, AmomaxW, AmominuW, AmomaxuW,
    LrD, ScD, AmoswapD, AmoaddD, AmoxorD, AmoandD, AmoorD, AmominD, AmomaxD, AmominuD, AmomaxuD,
    // F and D (Hart/FloatingPoint): every operation from Flw to the end of this enum is a
    // floating-point one and is executed by Hart.ExecuteFloat.
    Flw, Fld, Fsw, Fsd,
    // Single precision. The double-precision block below repeats this order exactly, so an
    // executor can handle both with one generic body (see Hart.ExecuteFloat).
    FmaddS, FmsubS, FnmsubS, FnmaddS, FaddS, FsubS, FmulS, FdivS, FsqrtS,
    FsgnjS, FsgnjnS, FsgnjxS, FminS, FmaxS, FeqS, FltS, FleS, FclassS,
    FcvtWS, FcvtWuS, FcvtLS, FcvtLuS, FcvtSW, FcvtSWu, FcvtSL, FcvtSLu, FmvXW, FmvWX,
    // Double precision, same order.
    FmaddD, FmsubD, FnmsubD, FnmaddD, FaddD, FsubD, FmulD, FdivD, FsqrtD,
    FsgnjD, FsgnjnD, FsgnjxD, FminD, FmaxD, FeqD, FltD, FleD, FclassD,
    FcvtWD, FcvtWuD, FcvtLD, FcvtLuD, FcvtDW, FcvtDWu, FcvtDL, FcvtDLu, FmvXD, FmvDX,
    // Between the formats.
    FcvtSD, FcvtDS,
}
