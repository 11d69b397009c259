using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using ReplayVm.Core.Tests.Oracle;

namespace ReplayVm.Core.Tests.Paging;

/// <summary>
/// Builds paging test guests, runs each on QEMU and on ReplayVm (reusing the Oracle harness's
/// toolchain, QEMU and machine runners), and compares the dumps line by line.
/// </summary>
public static class PagingHarness
{
    private const ulong MaxGuestInstructions = 5_000_000;
    private static readonly TimeSpan QemuTimeout = TimeSpan.FromSeconds(20);

    /// <summary>Where sources of disagreeing programs are kept.</summary>
    public static string KeptDirectory { get; } = Path.Combine(Path.GetTempPath(), "replayvm-paging");

    /// <summary>Null if every program agrees; otherwise one line per disagreeing program (first five), sources kept.</summary>
    public static string? Check(IReadOnlyList<PagingProgram> programs)
    {
        ExternalTools.Require(ExternalTools.Gcc);
        ExternalTools.Require(ExternalTools.Qemu);
        var dir = Directory.CreateTempSubdirectory("replayvm-paging-").FullName;
        var problems = new ConcurrentDictionary<int, string>();
        // Processes, not CPU in this process, dominate: a few more workers than cores keeps them busy.
        Parallel.For(0, programs.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount * 2 }, i =>
        {
            var source = Path.Combine(dir, $"seed{programs[i].Seed}.S");
            var problem = CheckSource(programs[i].Source, source, programs[i].Describe, programs[i].DumpLines);
            if (problem != null) problems[i] = problem;
        });
        if (problems.IsEmpty)
        {
            Directory.Delete(dir, recursive: true);
            return null;
        }
        Directory.CreateDirectory(KeptDirectory);
        var report = new StringBuilder();
        report.AppendLine($"{problems.Count} of {programs.Count} paging programs differ between QEMU and ReplayVm:");
        foreach (var (i, problem) in problems.OrderBy(p => p.Key).Take(5))
        {
            var kept = Path.Combine(KeptDirectory, $"seed{programs[i].Seed}.S");
            File.Copy(Path.Combine(dir, $"seed{programs[i].Seed}.S"), kept, overwrite: true);
            report.AppendLine($"  seed {programs[i].Seed} ({programs[i].Summary}), kept as {kept}: {problem}");
        }
        Directory.Delete(dir, recursive: true);
        return report.ToString();
    }

    /// <summary>
    /// Null when QEMU and ReplayVm print the same dump for <paramref name="sourceText"/> (written to
    /// <paramref name="sourcePath"/>); else the first differing line, named by <paramref name="describe"/>.
    /// QEMU's dump must be whole (<paramref name="dumpLines"/> lines of 16 hex digits for its trap
    /// count): two empty or equally cut-off consoles are never agreement.
    /// </summary>
    public static string? CheckSource(string sourceText, string sourcePath, Func<int, long, string> describe, Func<long, int> dumpLines)
    {
        File.WriteAllText(sourcePath, sourceText);
        var elfPath = Path.ChangeExtension(sourcePath, ".elf");
        GuestToolchain.BuildElf(sourcePath, elfPath);
        var qemu = QemuVirt.Run(elfPath, QemuTimeout);
        if (qemu.TimedOut || qemu.ExitCode != 0)
            return $"QEMU did not finish cleanly (exit {qemu.ExitCode}, timed out {qemu.TimedOut}): a generator bug. {qemu.Stderr.Trim()}";

        ReplayVmOutcome ours;
        try { ours = ReplayVmRunner.Run(File.ReadAllBytes(elfPath), MaxGuestInstructions); }
        catch (Exception e) { return $"ReplayVm threw {e.GetType().Name}: {e.Message}"; }

        var expected = Lines(qemu.Stdout);
        var actual = Lines(ours.Console);
        long trapCount = expected.Length > 0 && long.TryParse(expected[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var c) ? c : 0;
        if (DumpIncompleteness(expected, dumpLines) is { } problem) return $"QEMU's dump is incomplete ({problem}): a harness or generator bug";
        for (int i = 0; i < Math.Max(expected.Length, actual.Length); i++)
        {
            string e = i < expected.Length ? expected[i] : "<missing>";
            string a = i < actual.Length ? actual[i] : "<missing>";
            if (e != a)
                return $"dump line {i} ({describe(i, trapCount)}): qemu {e}, replayvm {a} [replayvm stopped: {ours.Result.Reason} {ours.Result.Detail}]";
        }
        if (ours.Result.Reason != StopReason.GuestExit || ours.Result.ExitCode != 0)
            return $"same dump, but ReplayVm ended with {ours.Result.Reason} ({ours.Result.Detail})";
        return null;
    }

    /// <summary>Null when <paramref name="lines"/> is a whole dump: every line 16 hex digits, as many as its trap count (line 0) makes.</summary>
    public static string? DumpIncompleteness(string[] lines, Func<long, int> dumpLines)
    {
        if (lines.Length == 0) return "no lines";
        int bad = Array.FindIndex(lines, l => l.Length != 16 || !ulong.TryParse(l, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out _));
        if (bad >= 0) return $"line {bad} is not 16 hex digits: '{lines[bad]}'";
        long trapCount = long.Parse(lines[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        int expected = dumpLines(trapCount);
        return lines.Length == expected ? null : $"{lines.Length} lines where {trapCount} traps make {expected}";
    }

    public static string[] Lines(byte[] console) =>
        Encoding.ASCII.GetString(console).Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
