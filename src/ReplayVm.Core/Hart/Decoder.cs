using ReplayVm.Core.Isa;

namespace ReplayVm.Core.Hart;

/// <summary>
/// The hart's decoder: a 32-bit word, or a 16-bit parcel in the low half, to a
/// <see cref="DecodedInstruction"/>, derived from the instruction table (<see cref="Rv64gc"/>,
/// looked up by <see cref="InstructionTable"/>). Compressed instructions decode to the base
/// operation they expand to. Anything not recognised decodes to <see cref="Opcode.Illegal"/>
/// (the executor raises an illegal-instruction trap for it); decoding never throws.
/// </summary>
public static class Decoder
{
    public static DecodedInstruction Decode(uint raw) => InstructionTable.Decode(raw);
}
