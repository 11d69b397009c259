using ReplayVm.Core.Isa;

namespace ReplayVm.Debugger.Disassembly;

/// <summary>
/// Disassembles RV64GC (RV64IMAFD + C + Zicsr + Zifencei + the privileged instructions) into the text
/// GNU objdump 2.40 prints by default: aliases preferred, "mnemonic\toperands", ABI register names,
/// absolute hex branch targets. Encodings objdump does not decode print as ".4byte 0x..." / ".2byte 0x...".
/// Which instruction an encoding is, and its operands, come from Core's instruction table
/// (<see cref="Rv64gc"/>); this type only knows how objdump writes them (<see cref="ObjdumpSyntax"/>).
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
        if (Length((ushort)instruction) == 2) instruction &= 0xFFFF;
        var fields = InstructionTable.Lookup(instruction);
        return ObjdumpSyntax.Format(fields, pc, symbolize)
            ?? (fields.Length == 2 ? Text.Unknown16(instruction) : Text.Unknown32(instruction));
    }
}
