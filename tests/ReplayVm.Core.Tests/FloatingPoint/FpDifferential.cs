using System.Text;
using ReplayVm.Core.Input;
using ReplayVm.Core.Loading;
using ReplayVm.Core.Tests.Oracle;

namespace ReplayVm.Core.Tests.FloatingPoint;

/// <summary>
/// Runs a batch of cases on QEMU and on ReplayVm and lists the cases whose result bits or fflags
/// differ. Uses the oracle harness's tool lookup and runners (missing tools fail the test, naming
/// the Debian package) and toolchain, building for rv64gc: these guests need F and D.
/// </summary>
public static class FpDifferential
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Null when both agree on every case; otherwise a report of the first differences.</summary>
    public static string? Check(IReadOnlyList<FpCase> batch)
    {
        // The cases of one instruction side by side (a stable sort: within one, in batch order):
        // the program runs each such run as one loop.
        IReadOnlyList<FpCase> cases = batch.OrderBy(c => Array.IndexOf(FpOperation.All, c.Op)).ThenBy(c => c.Rm).ToArray();
        var dir = Directory.CreateTempSubdirectory("replayvm-fp-").FullName;
        var source = Path.Combine(dir, "fp.S");
        var elf = Path.Combine(dir, "fp.elf");
        File.WriteAllText(source, FpProgramWriter.Render(cases));
        // rv64gc: these guests need F and D. Relaxation as gcc does by default.
        GuestToolchain.BuildElf(source, elf, march: "rv64gc", mabi: "lp64d", relax: true);

        var serial = Path.Combine(dir, "qemu-serial.txt");
        var qemu = QemuVirt.RunToFile(elf, serial, Timeout);
        if (qemu.TimedOut || qemu.ExitCode != 0)
            return $"QEMU did not finish {source} cleanly (exit {qemu.ExitCode}, timed out {qemu.TimedOut}): {qemu.Stderr.Trim()}";
        ReplayVmOutcome ours;
        try
        {
            // Both engines (ReplayVmRunner checks they agree to the state hash), then QEMU against them.
            // A bound, not a budget: printing a case's record takes about 500 instructions.
            ours = ReplayVmRunner.Run(File.ReadAllBytes(elf), (ulong)cases.Count * 1000 + 2_000_000);
        }
        catch (Exception e)
        {
            return $"ReplayVm threw {e.GetType().Name} ({source}): {e.Message}";
        }
        var result = ours.Result;
        if (TrapReport(ours.Console) is { } trap) return $"ReplayVm trapped: {trap} ({source})";
        if (result.Reason != StopReason.GuestExit) return $"ReplayVm stopped with {result.Reason} ({result.Detail}) ({source})";

        var qemuConsole = File.ReadAllBytes(serial);
        if (TrapReport(qemuConsole) is { } qemuTrap) return $"QEMU trapped: {qemuTrap} — a generator bug ({source})";
        var expected = ParseRecords(qemuConsole);
        var actual = ParseRecords(ours.Console);
        if (expected.Count != cases.Count)
            return $"QEMU printed {expected.Count} records for {cases.Count} cases ({source})";
        var report = new StringBuilder();
        int differences = 0;
        for (int i = 0; i < cases.Count; i++)
        {
            var got = i < actual.Count ? actual[i] : ((ulong, ulong)?)null;
            if (got == expected[i]) continue;
            if (differences++ < 15)
                report.AppendLine($"  {cases[i]}: QEMU {Format(expected[i])}, ReplayVm {(got is { } g ? Format(g) : $"nothing (stopped: {ours.Result.Reason} {ours.Result.Detail})")}");
        }
        if (differences == 0)
        {
            Directory.Delete(dir, recursive: true);
            return null;
        }
        return $"{differences} of {cases.Count} cases differ (program kept at {source}):\n{report}";
    }

    private static string Format((ulong Result, ulong Flags) r) => $"0x{r.Result:x16} flags={FlagNames(r.Flags)}";

    public static string FlagNames(ulong flags)
    {
        var names = new[] { "NX", "UF", "OF", "DZ", "NV" };
        var set = Enumerable.Range(0, 5).Where(i => ((flags >> i) & 1) != 0).Select(i => names[i]).ToList();
        return set.Count == 0 ? "-" : string.Join("|", set);
    }

    /// <summary>The guest's trap handler prints "T mcause mepc mtval".</summary>
    private static string? TrapReport(byte[] console) =>
        Encoding.ASCII.GetString(console).Split('\n').FirstOrDefault(l => l.StartsWith("T ")) is { } line
            ? "mcause/mepc/mtval " + line[2..].Trim()
            : null;

    private static List<(ulong, ulong)> ParseRecords(byte[] console)
    {
        var records = new List<(ulong, ulong)>();
        foreach (var line in Encoding.ASCII.GetString(console).Split('\n'))
        {
            var parts = line.Trim().Split(' ');
            if (parts.Length == 2 && parts[0].Length == 16 && parts[1].Length == 16 &&
                ulong.TryParse(parts[0], System.Globalization.NumberStyles.HexNumber, null, out ulong r) &&
                ulong.TryParse(parts[1], System.Globalization.NumberStyles.HexNumber, null, out ulong f))
                records.Add((r, f));
        }
        return records;
    }
}
