namespace ReplayVm.Core.Isa;

/// <summary>Where an expanded register field comes from in a 16-bit parcel (unprivileged spec 16.2, "Compressed Instruction Formats").</summary>
public enum CompressedRegister : byte
{
    /// <summary>Not used by the base instruction: 0.</summary>
    None,
    /// <summary>x0.</summary>
    Zero,
    /// <summary>x1 (c.jalr's link register).</summary>
    Ra,
    /// <summary>x2 (the stack-pointer-relative forms).</summary>
    Sp,
    /// <summary>The full 5-bit field in bits 11:7 (rd / rs1).</summary>
    Bits11To7,
    /// <summary>The full 5-bit field in bits 6:2 (rs2).</summary>
    Bits6To2,
    /// <summary>x8..x15 / f8..f15 from bits 9:7 (rs1', or rd' of the CB/CA forms).</summary>
    Prime9To7,
    /// <summary>x8..x15 / f8..f15 from bits 4:2 (rd' or rs2').</summary>
    Prime4To2,
}

/// <summary>How a compressed form's immediate is scattered over the parcel (spec tables 16.1–16.3).</summary>
public enum CompressedImmediate : byte
{
    None,
    /// <summary>CI: imm[5] in 12, imm[4:0] in 6:2, sign-extended.</summary>
    Signed6,
    /// <summary>CI shift amount: shamt[5] in 12, shamt[4:0] in 6:2.</summary>
    Shamt6,
    /// <summary>C.ADDI4SPN: nzuimm[5:4|9:6|2|3] in 12:5.</summary>
    Addi4spn,
    /// <summary>C.ADDI16SP: nzimm[9] in 12, nzimm[4|6|8:7|5] in 6:2, sign-extended.</summary>
    Addi16sp,
    /// <summary>C.LUI: nzimm[17] in 12, nzimm[16:12] in 6:2, sign-extended.</summary>
    Lui,
    /// <summary>C.LW/C.SW: uimm[5:3] in 12:10, uimm[2|6] in 6:5.</summary>
    WordOffset,
    /// <summary>C.LD/C.SD/C.FLD/C.FSD: uimm[5:3] in 12:10, uimm[7:6] in 6:5.</summary>
    DoubleOffset,
    /// <summary>C.LWSP: uimm[5] in 12, uimm[4:2|7:6] in 6:2.</summary>
    WordSpLoad,
    /// <summary>C.LDSP/C.FLDSP: uimm[5] in 12, uimm[4:3|8:6] in 6:2.</summary>
    DoubleSpLoad,
    /// <summary>C.SWSP: uimm[5:2|7:6] in 12:7.</summary>
    WordSpStore,
    /// <summary>C.SDSP/C.FSDSP: uimm[5:3|8:6] in 12:7.</summary>
    DoubleSpStore,
    /// <summary>C.J: offset[11|4|9:8|10|6|7|3:1|5] in 12:2, sign-extended.</summary>
    Jump,
    /// <summary>C.BEQZ/C.BNEZ: offset[8|4:3] in 12:10, offset[7:6|2:1|5] in 6:2, sign-extended.</summary>
    Branch,
}

/// <summary>
/// One row of the 16-bit (RVC) table. An RVC instruction stands for one base instruction (spec ch. 16):
/// <see cref="Base"/> is its row, and the register and immediate sources say how to fill the base
/// instruction's fields from the parcel. Rows are matched in order, so reserved encodings and HINTs
/// are rows placed before the general form they carve out of: a row without a base is reserved
/// (illegal). <see cref="Text"/> is how objdump prints the rows it does not print as their expansion
/// (HINTs, the defined-illegal all-zero parcel): a template over {rd}, {rs1}, {rs2}, {imm}, {hex20}, {shamt}.
/// </summary>
public sealed class CompressedSpec
{
    internal CompressedSpec(string name, ushort mask, ushort match, InstructionSpec? @base,
        CompressedRegister rd, CompressedRegister rs1, CompressedRegister rs2, CompressedImmediate immediate, string? text)
    {
        Name = name;
        Mask = mask;
        Match = match;
        Base = @base;
        Rd = rd;
        Rs1 = rs1;
        Rs2 = rs2;
        Immediate = immediate;
        Text = text;
    }

    /// <summary>The RVC name (c.addi, ...), for reading the table.</summary>
    public string Name { get; }

    public ushort Mask { get; }

    public ushort Match { get; }

    /// <summary>The base instruction it expands to; null for a reserved encoding.</summary>
    public InstructionSpec? Base { get; }

    public CompressedRegister Rd { get; }

    public CompressedRegister Rs1 { get; }

    public CompressedRegister Rs2 { get; }

    public CompressedImmediate Immediate { get; }

    public string? Text { get; }

    public bool Matches(ushort parcel) => (parcel & Mask) == Match;

    public override string ToString() => Name;
}
