using ReplayVm.Core.Isa;

namespace ReplayVm.Core.Hart;

/// <summary>
/// Which register a decoded instruction writes when it retires, from its opcode alone, as the
/// instruction table says (<see cref="InstructionSpec.Destination"/>: an rd operand in the x or f
/// file). A destination of x0 is <see cref="Hart.ZeroSink"/> after decoding, so it writes nothing.
/// </summary>
public static class RegisterDestination
{
    private static readonly RegisterFile[] FileByOpcode = BuildTable();

    /// <summary>The register <paramref name="d"/> writes if it retires, or a <see cref="RegisterFile.None"/> register.</summary>
    public static HartRegister Of(in DecodedInstruction d)
    {
        var file = FileByOpcode[(int)d.Op];
        if (file == RegisterFile.None || d.Rd >= 32) return default;
        return new HartRegister(file, d.Rd);
    }

    private static RegisterFile[] BuildTable()
    {
        var table = new RegisterFile[256];
        foreach (var spec in Rv64gc.Instructions)
        {
            if (spec.Op == Opcode.Illegal) continue;
            ref RegisterFile file = ref table[(int)spec.Op];
            if (file != RegisterFile.None && file != spec.Destination)
                throw new InvalidOperationException($"rows for {spec.Op} disagree on the destination register file");
            file = spec.Destination;
        }
        return table;
    }
}
