using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace ReplayVm.Debugger.Tests.Disassembly;

/// <summary>A batch of raw parcels: 32-bit words (low bits 11) and 16-bit compressed parcels.</summary>
public sealed record ParcelBatch(uint[] Parcels)
{
    public override string ToString() => $"{Parcels.Length} parcels, first {string.Join(' ', Parcels.Take(8).Select(p => p.ToString("x8")))}";
}

public static class ParcelBatches
{
    public const int BatchSize = 2000;

    /// <summary>The RV64GC major opcodes (spec chapter 34 opcode map), to steer half the words into decodable space.</summary>
    private static readonly uint[] MajorOpcodes =
        [0x03, 0x07, 0x0F, 0x13, 0x17, 0x1B, 0x23, 0x27, 0x2F, 0x33, 0x37, 0x3B, 0x43, 0x47, 0x4B, 0x4F, 0x53, 0x63, 0x67, 0x6F, 0x73];

    private static readonly Gen<uint> Random32 =
        from hi in Gen.Choose(0, 0xFFFF)
        from lo in Gen.Choose(0, 0xFFFF)
        select ((uint)hi << 16) | (uint)lo;

    /// <summary>Any 32-bit-length word: low bits 11, bits [4:2] not 111.</summary>
    private static readonly Gen<uint> AnyWord =
        from w in Random32
        from opcode in Gen.Elements(MajorOpcodes)
        select ((w >> 2) & 7) == 7 ? (w & ~0x7Fu) | opcode : w | 3;

    /// <summary>A word under a real major opcode, sometimes with register fields forced to zero to reach aliases.</summary>
    private static readonly Gen<uint> OpcodeWord =
        from w in Random32
        from opcode in Gen.Elements(MajorOpcodes)
        from zeroMask in Gen.Elements(0xFFFFFFFFu, 0xFE0FFFFFu, 0xFFF07FFFu, 0xFFFFF07Fu, 0x0FFFFFFFu, 0x01FFFFFFu)
        select ((w & ~0x7Fu) | opcode) & (zeroMask | 0x7F);

    private static readonly Gen<uint> Compressed =
        from p in Gen.Choose(0, 0xFFFF)
        select (p & 3) == 3 ? (uint)p ^ 1 : (uint)p;

    public static Arbitrary<ParcelBatch> Batches() =>
        Gen.ArrayOf(Gen.Frequency((2, AnyWord), (5, OpcodeWord), (3, Compressed)), BatchSize)
            .Select(parcels => new ParcelBatch(parcels))
            .ToArbitrary(); // no shrinker: each try costs an assembler and objdump run
}

public class RandomEncodingProperties
{
    /// <summary>
    /// For random encodings our text equals objdump's, including ".4byte"/".2byte" for the ones
    /// objdump does not decode. Each test case checks one batch with one objdump run.
    /// </summary>
    [Property(Arbitrary = [typeof(ParcelBatches)], MaxTest = 10)]
    public void RandomParcelsMatchObjdump(ParcelBatch batch)
    {
        var lines = ObjdumpOracle.DisassembleParcels(batch.Parcels);
        OracleComparison.AssertAllMatch(lines, minimumLines: batch.Parcels.Length);
    }
}
