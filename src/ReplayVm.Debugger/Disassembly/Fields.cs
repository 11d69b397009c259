namespace ReplayVm.Debugger.Disassembly;

/// <summary>
/// Field extraction for the 32-bit base formats (RISC-V unprivileged spec, chapter 2.2/2.3,
/// "Base Instruction Formats" and "Immediate Encoding Variants").
/// </summary>
internal readonly struct Fields(uint word)
{
    public uint Word { get; } = word;

    public int Opcode => (int)(Word & 0x7F);
    public int Rd => (int)((Word >> 7) & 31);
    public int Funct3 => (int)((Word >> 12) & 7);
    public int Rs1 => (int)((Word >> 15) & 31);
    public int Rs2 => (int)((Word >> 20) & 31);
    public int Rs3 => (int)(Word >> 27);
    public int Funct7 => (int)(Word >> 25);
    public int Funct2 => (int)((Word >> 25) & 3);

    /// <summary>I-type immediate: inst[31:20], sign-extended.</summary>
    public int ImmI => (int)Word >> 20;

    /// <summary>S-type immediate: inst[31:25] | inst[11:7], sign-extended.</summary>
    public int ImmS => ((int)Word >> 25 << 5) | Rd;

    /// <summary>B-type immediate: inst[31|7|30:25|11:8] scaled by 2, sign-extended.</summary>
    public int ImmB =>
        ((int)Word >> 31 << 12)
        | (int)((Word >> 7) & 1) << 11
        | (int)((Word >> 25) & 0x3F) << 5
        | (int)((Word >> 8) & 0xF) << 1;

    /// <summary>U-type immediate field inst[31:12], unshifted (objdump prints this 20-bit value).</summary>
    public uint ImmU20 => Word >> 12;

    /// <summary>J-type immediate: inst[31|19:12|20|30:21] scaled by 2, sign-extended.</summary>
    public int ImmJ =>
        ((int)Word >> 31 << 20)
        | (int)((Word >> 12) & 0xFF) << 12
        | (int)((Word >> 20) & 1) << 11
        | (int)((Word >> 21) & 0x3FF) << 1;

    public int Csr => (int)(Word >> 20);
}
