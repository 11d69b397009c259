using System.Collections.Concurrent;
using System.Text;

namespace ReplayVm.Core.Tests.Oracle;

/// <summary>
/// Builds generated programs, runs them on QEMU and on ReplayVm, and compares the state dumps.
/// The programs of a batch share a few guests, one per core, run side by side: one gcc run, one
/// QEMU start-up and one ReplayVm machine serve many programs. A program that differs there is
/// checked again alone, in its own guest, for the report and the minimiser.
/// </summary>
public static class DifferentialHarness
{
    /// <summary>Generous: a body is a few hundred straight-line instructions plus a dump loop of ~20k.</summary>
    private const ulong MaxGuestInstructions = 5_000_000;

    private static readonly TimeSpan QemuTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How one program fared; <see cref="Problem"/> is null when QEMU and ReplayVm agree.</summary>
    public sealed record ProgramVerdict(int Index, string SourcePath, string? Problem);

    /// <summary>
    /// Checks every program of <paramref name="batch"/>. Returns null if all agree; otherwise a report
    /// naming each failing program's source (kept on disk, with a minimised variant) and its first
    /// differing dump line. Sources of passing batches are deleted.
    /// </summary>
    public static string? Check(ProgramBatch batch)
    {
        ExternalTools.Require(ExternalTools.Gcc);
        ExternalTools.Require(ExternalTools.Qemu);
        var dir = Directory.CreateTempSubdirectory("replayvm-oracle-").FullName;
        var verdicts = new ConcurrentBag<ProgramVerdict>();
        int guests = Math.Min(Environment.ProcessorCount, batch.Programs.Length);
        Parallel.For(0, guests, new ParallelOptions { MaxDegreeOfParallelism = guests },
            g =>
            {
                int[] share = Enumerable.Range(0, batch.Programs.Length).Where(i => i % guests == g).ToArray();
                var source = Path.Combine(dir, $"guest{g}.S");
                var problems = CheckTogether(share.Select(i => batch.Programs[i]).ToArray(), source);
                for (int j = 0; j < share.Length; j++)
                {
                    int i = share[j];
                    if (problems[j] == null)
                    {
                        verdicts.Add(new ProgramVerdict(i, source, null));
                        continue;
                    }
                    var own = Path.Combine(dir, $"p{i:D3}.S");
                    var alone = CheckOne(batch.Programs[i], own);
                    verdicts.Add(new ProgramVerdict(i, alone == null ? source : own,
                        alone ?? $"agrees alone ({own}) but not as program {j} of its guest: {problems[j]}"));
                }
            });

        var failures = verdicts.Where(v => v.Problem != null).OrderBy(v => v.Index).ToList();
        if (failures.Count == 0)
        {
            Directory.Delete(dir, recursive: true);
            return null;
        }

        var report = new StringBuilder();
        report.AppendLine($"{failures.Count} of {batch.Programs.Length} programs differ between QEMU and ReplayVm (sources kept in {dir}):");
        foreach (var f in failures.Take(5))
        {
            report.AppendLine($"  {f.SourcePath}: {f.Problem}");
            var minimal = Minimise(batch.Programs[f.Index], Path.ChangeExtension(f.SourcePath, null) + "-min.S");
            if (minimal != null) report.AppendLine($"    minimised: {minimal}");
        }
        return report.ToString();
    }

    /// <summary>
    /// Runs <paramref name="programs"/> as one guest (rendered into <paramref name="sourcePath"/>) on
    /// QEMU and on ReplayVm; per program, null if both left the same dump, otherwise why not.
    /// </summary>
    public static string?[] CheckTogether(RandomProgram[] programs, string sourcePath)
    {
        var problems = new string?[programs.Length];
        string?[] All(string problem) => Enumerable.Repeat<string?>(problem, programs.Length).ToArray();

        File.WriteAllText(sourcePath, OracleProgramWriter.Render(programs));
        var elfPath = Path.ChangeExtension(sourcePath, ".elf");
        GuestToolchain.BuildElf(sourcePath, elfPath);

        var serial = Path.ChangeExtension(sourcePath, ".serial");
        var qemu = QemuVirt.RunToFile(elfPath, serial, QemuTimeout + TimeSpan.FromSeconds(programs.Length));
        if (qemu.TimedOut || qemu.ExitCode != 0)
            return All($"QEMU did not finish the guest cleanly (exit {qemu.ExitCode}, timed out {qemu.TimedOut}): a generator bug. {qemu.Stderr.Trim()}");
        var qemuConsole = File.ReadAllBytes(serial);

        ReplayVmOutcome ours;
        try
        {
            ours = ReplayVmRunner.Run(File.ReadAllBytes(elfPath), MaxGuestInstructions * (ulong)programs.Length);
        }
        catch (Exception e)
        {
            return All($"ReplayVm threw {e.GetType().Name}: {e.Message}");
        }

        var expected = SplitDumps(qemuConsole);
        var actual = SplitDumps(ours.Console);
        for (int j = 0; j < programs.Length; j++)
        {
            var diff = OracleDump.Compare(j < expected.Count ? expected[j] : [], j < actual.Count ? actual[j] : []);
            if (diff != null) problems[j] = diff + $" [replayvm stopped: {ours.Result.Reason} {ours.Result.Detail}]";
        }
        // Every dump agreed: the rest (anything printed after the last, how the run ended) must too.
        if (problems.All(p => p == null))
        {
            if (!qemuConsole.AsSpan().SequenceEqual(ours.Console))
                problems[^1] = $"same dumps, but the consoles differ after them ({expected.Count} and {actual.Count} parts)";
            else if (ours.Result.Reason != StopReason.GuestExit || ours.Result.ExitCode != 0)
                problems[^1] = $"same dumps, but ReplayVm ended with {ours.Result.Reason} (exit {ours.Result.ExitCode}, {ours.Result.Detail}) where QEMU exited 0";
        }
        return problems;
    }

    /// <summary>A console cut into the programs' dumps at each <see cref="OracleProgramWriter.DumpEnd"/> line; anything after the last is one more part.</summary>
    public static List<byte[]> SplitDumps(byte[] console)
    {
        var parts = new List<byte[]>();
        var part = new StringBuilder();
        var lines = Encoding.ASCII.GetString(console).Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i] == OracleProgramWriter.DumpEnd)
            {
                parts.Add(Encoding.ASCII.GetBytes(part.ToString()));
                part.Clear();
            }
            else if (i < lines.Length - 1 || lines[i].Length > 0)
            {
                part.Append(lines[i]).Append('\n');
            }
        }
        if (part.Length > 0) parts.Add(Encoding.ASCII.GetBytes(part.ToString()));
        return parts;
    }

    /// <summary>Null if QEMU and ReplayVm leave the same dump after running the program rendered alone into <paramref name="sourcePath"/>.</summary>
    public static string? CheckOne(RandomProgram program, string sourcePath) => CheckTogether([program], sourcePath)[0];

    /// <summary>
    /// Delta debugging light: drop chunks of body items while the program still disagrees, halving
    /// the chunk size; bounded so a failure report stays quick. Returns the minimised source path.
    /// </summary>
    private static string? Minimise(RandomProgram program, string path, int budget = 80)
    {
        var body = program.Body.ToList();
        bool Fails(List<BodyItem> items) =>
            budget-- > 0 && CheckOne(program with { Body = items.ToArray() }, path) is { } p && !p.StartsWith("QEMU");

        for (int chunk = Math.Max(1, body.Count / 2); chunk >= 1 && budget > 0; chunk /= 2)
        {
            for (int start = 0; start < body.Count && budget > 0;)
            {
                var candidate = body.Take(start).Concat(body.Skip(start + chunk)).ToList();
                if (candidate.Count > 0 && Fails(candidate)) body = candidate;
                else start += chunk;
            }
        }
        var problem = CheckOne(program with { Body = body.ToArray() }, path);
        return problem == null ? null : $"{path} ({body.Count} items): {problem}";
    }
}
