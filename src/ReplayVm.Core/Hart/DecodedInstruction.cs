namespace ReplayVm.Core.Hart;

/// <summary>
/// One instruction decoded once and kept in the per-page decode cache. Register fields are already
/// resolved so the executor does no bit-twiddling: a destination of x0 is redirected to the
/// scratch slot 32 (see <see cref="Hart.ZeroSink"/>), so writes need no "rd != 0" test.
/// </summary>
public struct DecodedInstruction
{
    /// <summary>The immediate; the CSR number for Zicsr; for <see cref="Opcode.Illegal"/>, the raw
    /// encoding, which the illegal-instruction trap reports in mtval. (Keeping the struct at 16 bytes
    /// matters: the decode cache is walked on every instruction.)</summary>
    public long Imm;
    public Opcode Op;
    public byte Rd;
    public byte Rs1;
    public byte Rs2;
    /// <summary>2 or 4.</summary>
    public byte Length;
    /// <summary>Third source register of the fused multiply-adds.</summary>
    public byte Rs3;
    /// <summary>Rounding-mode field of floating-point instructions.</summary>
    public byte Rm;
}
