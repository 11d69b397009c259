using ReplayVm.Core.Hart;

namespace ReplayVm.Core.Isa;

/// <summary>
/// One row of the 32-bit instruction table: an encoding (the bits fixed by <see cref="Mask"/> equal
/// <see cref="Match"/>), its assembler mnemonic and operands, the <see cref="Opcode"/> the hart
/// executes it as, and what it reads and writes. Rows are data; the decoder, the disassembler and
/// the register-write watches are derived from them.
/// </summary>
public sealed class InstructionSpec
{
    internal InstructionSpec(string mnemonic, uint mask, uint match, Opcode op, Operand[] operands, MemoryAccess memory, SpecFlags flags)
    {
        Mnemonic = mnemonic;
        Mask = mask;
        Match = match;
        Op = op;
        _operands = operands;
        Memory = memory;
        Flags = flags;
        foreach (var operand in operands)
        {
            switch (operand)
            {
                case Operand.Rd: Destination = RegisterFile.Integer; break;
                case Operand.Fd: Destination = RegisterFile.Float; break;
                case Operand.Rs1 or Operand.LoadAddress or Operand.StoreAddress or Operand.AtomicAddress: Rs1 = RegisterFile.Integer; break;
                case Operand.Fs1: Rs1 = RegisterFile.Float; break;
                case Operand.Rs2: Rs2 = RegisterFile.Integer; break;
                case Operand.Fs2: Rs2 = RegisterFile.Float; break;
                case Operand.Fs3: Rs3 = RegisterFile.Float; break;
                case Operand.RoundingMode: HasRoundingMode = true; break;
            }
        }
    }

    /// <summary>The assembler name, without the A extension's ordering suffix (see <see cref="Operand.Ordering"/>).</summary>
    public string Mnemonic { get; }

    public uint Mask { get; }

    public uint Match { get; }

    /// <summary>What the hart executes; <see cref="Opcode.Illegal"/> for encodings only a disassembler names
    /// (instructions of other privileged-spec versions or of the debug spec, which this hart does not implement).</summary>
    public Opcode Op { get; }

    /// <summary>Operands in assembler order.</summary>
    public IReadOnlyList<Operand> Operands => _operands;

    /// <summary>
    /// <see cref="Operands"/> as the array it is. The decoder's tables are built from it when a
    /// process first decodes: searched through the interface, an enum array goes through the
    /// runtime's generic array-interface code, which no precompiled image holds (eight methods
    /// JIT-compiled in every process that decodes).
    /// </summary>
    internal ReadOnlySpan<Operand> OperandSpan => _operands;

    private readonly Operand[] _operands;

    public MemoryAccess Memory { get; }

    public SpecFlags Flags { get; }

    /// <summary>The register file rd is written in, or <see cref="RegisterFile.None"/>.</summary>
    public RegisterFile Destination { get; }

    /// <summary>Register files of the sources rs1, rs2 and rs3 (None when the field is no register read).</summary>
    public RegisterFile Rs1 { get; }

    public RegisterFile Rs2 { get; }

    public RegisterFile Rs3 { get; }

    /// <summary>Bits 14:12 hold a rounding mode: 5 and 6 are reserved, so such an encoding is illegal to execute.</summary>
    public bool HasRoundingMode { get; }

    public bool Matches(uint word) => (word & Mask) == Match;

    public override string ToString() => Mnemonic;
}

/// <summary>Properties of a row that matter to only one of its consumers.</summary>
[Flags]
public enum SpecFlags : byte
{
    None = 0,
    /// <summary>The hart executes this encoding, but assemblers never produce it (reserved fields not zero),
    /// so disassemblers show it as data, as GNU objdump does.</summary>
    NotAssembled = 1,
    /// <summary>The result is exact, so the rounding mode has no effect; objdump only names the encoding with rm = 000.</summary>
    ExactResult = 2,
}
