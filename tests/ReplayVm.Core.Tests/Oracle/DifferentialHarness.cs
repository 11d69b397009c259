using System.Collections.Concurrent;
using System.Text;

namespace ReplayVm.Core.Tests.Oracle;

/// <summary>
/// Builds generated programs, runs each on QEMU and on ReplayVm, and compares the state dumps.
/// Work is spread over all cores; each program's gcc + QEMU round trip is independent.
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
        Parallel.For(0, batch.Programs.Length, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            i =>
            {
                var source = Path.Combine(dir, $"p{i:D3}.S");
                verdicts.Add(new ProgramVerdict(i, source, CheckOne(batch.Programs[i], source)));
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

    /// <summary>Null if QEMU and ReplayVm leave the same dump after running the program rendered into <paramref name="sourcePath"/>.</summary>
    public static string? CheckOne(RandomProgram program, string sourcePath)
    {
        File.WriteAllText(sourcePath, OracleProgramWriter.Render(program));
        var elfPath = Path.ChangeExtension(sourcePath, ".elf");
        GuestToolchain.BuildElf(sourcePath, elfPath);

        var qemu = QemuVirt.Run(elfPath, QemuTimeout);
        if (qemu.TimedOut || qemu.ExitCode != 0)
            return $"QEMU did not finish the program cleanly (exit {qemu.ExitCode}, timed out {qemu.TimedOut}): a generator bug. {qemu.Stderr.Trim()}";

        ReplayVmOutcome ours;
        try
        {
            ours = ReplayVmRunner.Run(File.ReadAllBytes(elfPath), MaxGuestInstructions);
        }
        catch (Exception e)
        {
            return $"ReplayVm threw {e.GetType().Name}: {e.Message}";
        }

        var diff = OracleDump.Compare(qemu.Stdout, ours.Console);
        if (diff != null) return diff + $" [replayvm stopped: {ours.Result.Reason} {ours.Result.Detail}]";
        if (ours.Result.Reason != StopReason.GuestExit || ours.Result.ExitCode != 0)
            return $"same dump, but ReplayVm ended with {ours.Result.Reason} (exit {ours.Result.ExitCode}, {ours.Result.Detail}) where QEMU exited 0";
        return null;
    }

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
