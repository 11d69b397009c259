namespace ReplayVm.Debugger.Disassembly;

/// <summary>
/// Disassembles RV64GC (RV64IMAFD + C + Zicsr + Zifencei + the privileged instructions) into the text
/// GNU objdump 2.40 prints by default: aliases preferred, "mnemonic\toperands", ABI register names,
/// absolute hex branch targets. Encodings objdump does not decode print as ".4byte 0x..." / ".2byte 0x...".
/// </summary>
public static class RiscvDisassembler
{
    /// <summary>
    /// Length in bytes of the instruction whose low 16 bits are <paramref name="low16"/>: 2 unless the
    /// two lowest bits are 11 (spec 1.5, "Base Instruction-Length Encoding"). Longer encodings
    /// (bits [4:2] = 111) are outside RV64GC and reported as 4.
    /// </summary>
    public static int Length(ushort low16) => (low16 & 3) == 3 ? 4 : 2;

    /// <summary>
    /// Text of one instruction. <paramref name="instruction"/> holds the 32-bit word, or a compressed
    /// parcel in its low half; <paramref name="pc"/> is its address, used for branch and jump targets;
    /// <paramref name="symbolize"/> may name a target address, which is then appended as " &lt;name&gt;".
    /// </summary>
    public static string Disassemble(uint instruction, ulong pc, Func<ulong, string?>? symbolize = null)
    {
        if (Length((ushort)instruction) == 2)
            return CompressedDecoder.Decode(instruction & 0xFFFF, pc, symbolize) ?? Text.Unknown16(instruction);
        return DecodeWide(new Fields(instruction), pc, symbolize) ?? Text.Unknown32(instruction);
    }

    /// <summary>Dispatch on the major opcode (spec chapter 34, "RV32/64G Instruction Set Listings").</summary>
    private static string? DecodeWide(Fields f, ulong pc, Func<ulong, string?>? symbolize) => f.Opcode switch
    {
        0x03 => IntegerDecoder.Load(f),
        0x07 => FloatDecoder.Load(f),
        0x0F => SystemDecoder.MiscMem(f),
        0x13 => IntegerDecoder.OpImm(f),
        0x17 => IntegerDecoder.Auipc(f),
        0x1B => IntegerDecoder.OpImm32(f),
        0x23 => IntegerDecoder.Store(f),
        0x27 => FloatDecoder.Store(f),
        0x2F => AtomicDecoder.Decode(f),
        0x33 => IntegerDecoder.Op(f),
        0x37 => IntegerDecoder.Lui(f),
        0x3B => IntegerDecoder.Op32(f),
        0x43 or 0x47 or 0x4B or 0x4F => FloatDecoder.FusedMultiplyAdd(f),
        0x53 => FloatDecoder.OpFp(f),
        0x63 => IntegerDecoder.Branch(f, pc, symbolize),
        0x67 => IntegerDecoder.Jalr(f),
        0x6F => IntegerDecoder.Jal(f, pc, symbolize),
        0x73 => SystemDecoder.System(f),
        _ => null,
    };
}
