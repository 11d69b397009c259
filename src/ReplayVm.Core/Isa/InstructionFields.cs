namespace ReplayVm.Core.Isa;

/// <summary>
/// An encoding looked up in the table, with its operand fields extracted: register numbers as
/// encoded (0..31; a compressed instruction's as its expansion has them), the immediate as the
/// base instruction means it (sign-extended offsets, shift amounts, CSR number, U-type value with
/// its low 12 bits zero), and the rounding-mode field.
/// </summary>
public readonly record struct InstructionFields(
    InstructionSpec? Spec, CompressedSpec? Compressed, uint Raw, int Length,
    byte Rd, byte Rs1, byte Rs2, byte Rs3, long Imm, byte Rm)
{
    /// <summary>Whether the table knows the encoding as an instruction (a reserved RVC row is known but not an instruction).</summary>
    public bool IsInstruction => Spec is not null;
}
