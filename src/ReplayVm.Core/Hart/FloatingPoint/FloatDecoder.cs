namespace ReplayVm.Core.Hart;

/// <summary>Decodes the F and D extensions' encodings (unprivileged spec ch. 11–12, 16.3 for RVC forms).</summary>
public static class FloatDecoder
{
    // Until the F/D executor lands, every floating-point encoding is illegal, as on a hart without F/D.
    public static DecodedInstruction Decode(uint raw) => new() { Op = Opcode.Illegal, Imm = raw, Length = 4 };

    public static DecodedInstruction DecodeCompressed(ushort parcel) => new() { Op = Opcode.Illegal, Imm = parcel, Length = 2 };
}
