using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace ReplayVm.Core.Tests.FloatingPoint;

/// <summary>
/// The F/D implementation must agree bit for bit — result and fflags — with QEMU 7.2, whose
/// SoftFloat follows the RISC-V choices (canonical NaNs, tininess after rounding).
/// </summary>
public class QemuFloatDifferentialTests
{
    /// <summary>
    /// 5 programs of 3,000 random cases: the program runs each instruction's cases as one loop, so
    /// the translator compiles each of the ~220 instruction encodings once per program; the same
    /// 15,000 cases as 25 programs of 600 cost four times the compilations and QEMU start-ups.
    /// </summary>
    private const int CasesPerProgram = 3000;

    public static class Arbitraries
    {
        // No shrinker: each check is a compile and a QEMU run, and the report already names the
        // differing cases one by one.
        public static Arbitrary<FpBatch> Batches() =>
            Gen.ArrayOf(FpValues.Case, CasesPerProgram).Select(c => new FpBatch(c)).ToArbitrary();
    }

    /// <summary>A program's worth of cases; prints short so a failure report stays readable.</summary>
    public sealed record FpBatch(FpCase[] Cases)
    {
        public override string ToString() => $"batch of {Cases.Length} cases";
    }

    [Property(Arbitrary = [typeof(Arbitraries)], MaxTest = 5)]
    public void Random_batches_agree_with_qemu(FpBatch batch)
    {
        var problem = FpDifferential.Check(batch.Cases);
        Assert.True(problem == null, problem);
    }

    /// <summary>Every operation with every rounding mode over pairs of the special values, deterministically.</summary>
    [Fact]
    public void Special_value_grid_agrees_with_qemu()
    {
        var cases = new List<FpCase>();
        foreach (var op in FpOperation.All)
        {
            ulong[] Values(ValueKind k) => k switch
            {
                ValueKind.Single => FpValues.SingleSpecials.Where((_, i) => i % 2 == 0).Select(v => FpValues.Box | v).ToArray(),
                ValueKind.Double => FpValues.DoubleSpecials.Where((_, i) => i % 2 == 0).ToArray(),
                ValueKind.Integer => FpValues.IntegerSpecials,
                _ => [0],
            };
            int[] modes = op.HasRm ? [0, 1, 2, 3, 4] : [0];
            foreach (var a in Values(op.A))
            foreach (var b in op.B == ValueKind.None ? [0UL] : Values(op.B))
            foreach (var rm in modes)
            {
                // Addends for the fused forms rotate through the specials to keep the grid small.
                ulong c = op.C == ValueKind.None ? 0 : Values(op.C)[(int)((a ^ b ^ (ulong)rm) % (ulong)Values(op.C).Length)];
                cases.Add(new FpCase(op, rm, (rm + 1) % 5, a, b, c));
            }
        }
        var problems = cases.Chunk(4000).AsParallel().Select(chunk => FpDifferential.Check(chunk)).Where(p => p != null).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}
