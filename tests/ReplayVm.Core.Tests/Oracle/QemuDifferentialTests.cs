using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace ReplayVm.Core.Tests.Oracle;

/// <summary>FsCheck arbitraries for the differential test. No shrinker: the harness minimises a failing program itself.</summary>
public static class DifferentialArbitraries
{
    public const int ProgramsPerBatch = 40;

    public static Arbitrary<ProgramBatch> Batches() =>
        RandomProgramGen.Batch(ProgramsPerBatch, minItems: 140, maxItems: 200).ToArbitrary();
}

/// <summary>
/// The project's reference check: random valid RV64IMAC + Zicsr programs must leave exactly the
/// same registers, CSRs, trap log and memory on ReplayVm as on QEMU 7.2's virt board.
/// A failure names the seed (FsCheck "Replay") and keeps the failing sources on disk.
/// </summary>
public class QemuDifferentialTests
{
    [Property(Arbitrary = [typeof(DifferentialArbitraries)], MaxTest = 8, QuietOnSuccess = true)]
    public void Random_programs_leave_the_same_state_as_on_qemu(ProgramBatch batch)
    {
        var report = DifferentialHarness.Check(batch);
        Assert.True(report == null, report);
    }
}
