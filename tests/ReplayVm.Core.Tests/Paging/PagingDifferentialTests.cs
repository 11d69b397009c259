using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace ReplayVm.Core.Tests.Paging;

/// <summary>FsCheck arbitraries: a batch of program seeds (each seed determines one whole program).</summary>
public static class PagingArbitraries
{
    public const int ProgramsPerBatch = 24;

    public static Arbitrary<PagingBatch> Batches() =>
        Gen.ArrayOf(Gen.Choose(0, int.MaxValue), ProgramsPerBatch).Select(s => new PagingBatch(s)).ToArbitrary();
}

/// <summary>
/// Sv39/Sv48/Sv57 translation, A/D updates, PMP, MPRV/SUM/MXR and trap delegation must behave exactly
/// as on QEMU 7.2's virt board. A failure names the FsCheck seed and each disagreeing program's
/// own seed (<see cref="PagingProgramGenerator.Generate"/> rebuilds it), and keeps its source.
/// </summary>
public class PagingDifferentialTests
{
    [Property(Arbitrary = [typeof(PagingArbitraries)], MaxTest = 5, QuietOnSuccess = true)]
    public void Random_page_tables_and_accesses_behave_as_on_qemu(PagingBatch batch)
    {
        var report = PagingHarness.Check(batch.Seeds.Select(PagingProgramGenerator.Generate).ToList());
        Assert.True(report == null, report);
    }

    /// <summary>The same with five-level tables (Sv57, privileged spec 4.5), which QEMU 7.2's hart also takes.</summary>
    [Property(Arbitrary = [typeof(PagingArbitraries)], MaxTest = 2, QuietOnSuccess = true)]
    public void Random_sv57_page_tables_and_accesses_behave_as_on_qemu(PagingBatch batch)
    {
        var report = PagingHarness.Check(batch.Seeds.Select(PagingProgramGenerator.GenerateSv57).ToList());
        Assert.True(report == null, report);
    }

    /// <summary>
    /// Seeds of programs that once disagreed, checked on every run. PAGING_SEEDS (comma-separated)
    /// replaces the list, to re-check programs from a failure report.
    /// </summary>
    [Fact]
    public void Programs_from_fixed_seeds_behave_as_on_qemu()
    {
        var env = Environment.GetEnvironmentVariable("PAGING_SEEDS");
        int[] seeds = string.IsNullOrWhiteSpace(env) ? FixedSeeds : env.Split(',').Select(int.Parse).ToArray();
        var report = PagingHarness.Check(seeds.Select(PagingProgramGenerator.Generate).ToList());
        Assert.True(report == null, report);
    }

    private static readonly int[] FixedSeeds = [1208531, 261653069, 171495173, 112004093, 563248072, 1508490642];

    /// <summary>
    /// A seed must keep naming the same program, in any process and after any change elsewhere: failure
    /// reports and <see cref="FixedSeeds"/> reproduce programs by seed alone. So the programs of the
    /// fixed seeds are pinned by digest (a change to the generator that changes them must re-pin them
    /// deliberately, and then re-check that the old seeds still find what they found), and different
    /// seeds give different programs.
    /// </summary>
    [Fact]
    public void Generated_programs_are_deterministic()
    {
        string Digest(int seed) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(PagingProgramGenerator.Generate(seed).Source)))[..16];
        Assert.True(PinnedDigests.SequenceEqual(FixedSeeds.Select(Digest)), "digests now: " + string.Join(", ", FixedSeeds.Select(Digest)));
        Assert.Equal(FixedSeeds.Length, FixedSeeds.Select(Digest).Distinct().Count());
        Assert.NotEqual(Digest(42), Digest(43));
    }

    private static readonly string[] PinnedDigests =
        ["B7C944E84003BAD1", "AF11E66362502A3F", "5D723617DE5C7BE4", "62F059FA7C69DC7E", "97B288683E509CA0", "3319904F345A8A7B"];
}
