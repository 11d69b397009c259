namespace ReplayVm.Core.Hart;

/// <summary>
/// Which register a decoded instruction writes when it retires, from its opcode alone: integer
/// results (ALU, loads, JAL/JALR, LUI/AUIPC, Zicsr, A, and the F/D compares, classifies,
/// conversions to integer and FMV.X.*) go to x[rd], floating-point results to f[rd]; stores,
/// branches, fences and the system instructions write none (unprivileged spec ch. 2, 5, 7–12;
/// privileged spec 3.3). A destination of x0 is <see cref="Hart.ZeroSink"/> after decoding, so it
/// writes nothing.
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
        void Mark(Opcode first, Opcode last, RegisterFile file)
        {
            for (int op = (int)first; op <= (int)last; op++) table[op] = file;
        }

        var x = RegisterFile.Integer;
        var f = RegisterFile.Float;
        Mark(Opcode.Lui, Opcode.Jalr, x);
        Mark(Opcode.Lb, Opcode.Lwu, x);
        Mark(Opcode.Addi, Opcode.Sraw, x);
        Mark(Opcode.Csrrw, Opcode.Csrrci, x);
        Mark(Opcode.Mul, Opcode.Remuw, x);
        Mark(Opcode.LrW, Opcode.AmomaxuD, x); // SC writes its success code too
        Mark(Opcode.Flw, Opcode.Fld, f);
        // The single- and double-precision blocks share one layout (see Opcode).
        foreach (int offset in (int[])[0, Opcode.FmaddD - Opcode.FmaddS])
        {
            Opcode At(Opcode single) => (Opcode)((int)single + offset);
            Mark(At(Opcode.FmaddS), At(Opcode.FmaxS), f);
            Mark(At(Opcode.FeqS), At(Opcode.FclassS), x);
            Mark(At(Opcode.FcvtWS), At(Opcode.FcvtLuS), x);
            Mark(At(Opcode.FcvtSW), At(Opcode.FcvtSLu), f);
            Mark(At(Opcode.FmvXW), At(Opcode.FmvXW), x);
            Mark(At(Opcode.FmvWX), At(Opcode.FmvWX), f);
        }
        Mark(Opcode.FcvtSD, Opcode.FcvtDS, f);
        return table;
    }
}
