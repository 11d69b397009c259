namespace ReplayVm.Core.Hart;

/// <summary>
/// One instruction decoded once and kept in the per-page decode cache. Register fields are already
/// resolved so the executor does no bit-twiddling: a destination of x0 is redirected to the
/// scratch slot 32 (see <see cref="Hart.ZeroSink"/>), so writes need no "rd != 0" test.
/// </summary>
public struct DecodedInstruction
{
    public long Imm;
    /// <summary>The raw encoding (16-bit parcel for compressed); illegal-instruction traps report it in mtval.</summary>
    public uint Raw;
    public Opcode Op;
    public byte Rd;
    public byte Rs1;
    public byte Rs2;
    /// <summary>2 or 4.</summary>
    public byte Length;
}
