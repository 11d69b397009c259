using System.Text;
using ReplayVm.Core.Tests.Paging;

namespace ReplayVm.Core.Tests.Oracle;

/// <summary>
/// The differential harnesses' verdict on two consoles: agreement needs a whole dump from QEMU, so
/// two empty consoles (QEMU and ReplayVm both printing nothing) or two equally cut-off ones fail.
/// </summary>
public class OracleDumpTests
{
    /// <summary>A whole random-program dump reporting <paramref name="traps"/> traps, as the guest prints it.</summary>
    private static string[] WholeDump(long traps)
    {
        int count = OracleLayout.DumpLines(traps);
        Assert.Equal(31 + 5 + 1 + (int)Math.Min(traps, 64) * 4 + 64 + 64, count); // the layout, counted by hand
        var lines = Enumerable.Range(0, count).Select(i => ((ulong)i * 0x0101_0101_0101_0101).ToString("x16")).ToArray();
        lines[31 + OracleLayout.DumpedCsrs.Length] = traps.ToString("x16");
        return lines;
    }

    private static byte[] Console(IEnumerable<string> lines) => Encoding.ASCII.GetBytes(string.Concat(lines.Select(l => l + "\n")));

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(200)]
    public void A_whole_dump_agrees_with_itself_and_not_with_a_changed_one(long traps)
    {
        var dump = WholeDump(traps);
        Assert.Null(OracleDump.Compare(Console(dump), Console(dump)));
        var changed = (string[])dump.Clone();
        changed[^1] = "ffffffffffffffff";
        Assert.Contains("sp area", OracleDump.Compare(Console(dump), Console(changed)));
    }

    [Fact]
    public void Two_empty_consoles_are_not_agreement()
    {
        Assert.Contains("QEMU's dump is incomplete", OracleDump.Compare([], []));
        Assert.Contains("QEMU's dump is incomplete", OracleDump.Compare("\n\n"u8.ToArray(), "\n\n"u8.ToArray()));
    }

    [Fact]
    public void Two_equally_cut_off_dumps_are_not_agreement()
    {
        var dump = WholeDump(2);
        foreach (int keep in new[] { 1, 36, 37, dump.Length - 1 })
        {
            var cut = Console(dump.Take(keep));
            Assert.Contains("QEMU's dump is incomplete", OracleDump.Compare(cut, cut));
        }
        // More lines than the trap count allows, or a line that is not a doubleword in hex.
        var longer = Console(dump.Append("0000000000000000"));
        Assert.Contains("QEMU's dump is incomplete", OracleDump.Compare(longer, longer));
        var garbled = (string[])dump.Clone();
        garbled[5] = "QEMU: terminating";
        Assert.Contains("not 16 hex digits", OracleDump.Compare(Console(garbled), Console(garbled)));
    }

    [Fact]
    public void A_ReplayVm_console_that_stops_early_differs_from_a_whole_qemu_dump()
    {
        var dump = WholeDump(1);
        Assert.Contains("replayvm <missing>", OracleDump.Compare(Console(dump), Console(dump.Take(dump.Length - 3))));
        Assert.NotNull(OracleDump.Compare(Console(dump), []));
    }

    [Fact]
    public void The_paging_harness_also_needs_a_whole_dump_from_qemu()
    {
        var program = new PagingProgram(1, "", ["pte a", "pte b", "result 0"], "test");
        Assert.Equal(1 + 2 * 4 + 3, program.DumpLines(2));
        string[] whole = ["0000000000000002", .. Enumerable.Repeat("0000000000000001", 8), "00000000000000aa", "00000000000000bb", "00000000000000cc"];
        Assert.Null(PagingHarness.DumpIncompleteness(whole, program.DumpLines));
        Assert.NotNull(PagingHarness.DumpIncompleteness([], program.DumpLines));
        Assert.NotNull(PagingHarness.DumpIncompleteness(whole[..^1], program.DumpLines));
        Assert.NotNull(PagingHarness.DumpIncompleteness([.. whole, "0000000000000000"], program.DumpLines));
        Assert.NotNull(PagingHarness.DumpIncompleteness(["0000000000000002", "zz"], program.DumpLines));
    }
}
