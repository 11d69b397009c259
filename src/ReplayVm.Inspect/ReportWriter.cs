using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ReplayVm.Inspect;

/// <summary>Formats an <see cref="InspectionReport"/>: a short human form, or one JSON object.</summary>
public static class ReportWriter
{
    /// <summary>ABI register names, x0..x31.</summary>
    public static readonly string[] AbiNames =
    [
        "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
        "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
    ];

    /// <summary>Frames shown per thread in the human form (JSON has them all, up to 200).</summary>
    public const int HumanFrames = 12;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static string ToJson(InspectionReport report) => JsonSerializer.Serialize(report, Json);

    public static string ToText(InspectionReport report)
    {
        var s = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        s.Append(inv, $"{report.Target}: .NET {report.RuntimeVersion}, replayvm {report.Command ?? "(command unknown)"}, ")
            .Append(report.Machines.Count == 1 ? "1 machine" : $"{report.Machines.Count} machines").Append('\n');
        foreach (var note in report.Notes) s.Append("note: ").Append(note).Append('\n');
        for (int i = 0; i < report.Machines.Count; i++)
        {
            var m = report.Machines[i];
            s.Append('\n').Append(inv, $"machine {i + 1}: {m.Role}, step {m.Step}, privilege {m.Privilege}, RAM {m.RamSize >> 20} MiB")
                .Append(m.WaitingForInterrupt ? ", in wfi" : "")
                .Append(m.ExecutingGuestCode ? ", executing guest code (registers may include the instruction at pc)" : "").Append('\n');
            s.Append(inv, $"  pc  0x{m.Pc:x16}").Append(m.Symbol is { } sym ? $" <{sym}>" : "")
                .Append(m.Instruction is { } ins ? $"  {ins.Replace('\t', ' ')}" : "  (instruction not shown: pc outside RAM, unmapped, or not in the dump)").Append('\n');
            for (int r = 1; r < 32; r += 4)
            {
                s.Append(' ');
                for (int c = r; c < Math.Min(r + 4, 32); c++) s.Append(inv, $" {AbiNames[c],4} 0x{m.X[c]:x16}");
                s.Append('\n');
            }
            var nonzeroF = Enumerable.Range(0, 32).Where(r => m.F[r] != 0).ToList();
            s.Append("  f: ").Append(nonzeroF.Count == 0 ? "all zero" : string.Join(' ', nonzeroF.Select(r => $"f{r}=0x{m.F[r]:x}"))).Append('\n');
            s.Append("  csr:");
            foreach (var csr in m.Csrs) s.Append(inv, $" {csr.Name}=0x{csr.Value:x}");
            s.Append('\n');
            s.Append("  pending interrupts: ").Append(m.PendingInterrupts.Count == 0 ? "none" : string.Join(", ", m.PendingInterrupts)).Append('\n');
            if (m.Recording is { } rec)
                s.Append(inv, $"  trace {rec.TracePath ?? "(not a file)"}: {rec.EventsLogged} events logged, {rec.EventsWritten} written, ")
                    .Append(inv, $"{rec.EventsNotFlushed} not yet flushed (last event at step {rec.LastEventStep})\n");
            s.Append(inv, $"  console ({m.ConsoleBytes} bytes printed), last lines:\n");
            foreach (var line in LastLines(m.ConsoleTail, 8)) s.Append("  | ").Append(line).Append('\n');
        }
        s.Append('\n').Append(inv, $"{report.Threads.Count} managed threads:\n");
        foreach (var t in report.Threads)
        {
            s.Append(inv, $"thread {t.ManagedId} (os {t.OsId})").Append(t.Name is { } n ? $" \"{n}\"" : "").Append(t.IsFinalizer ? " finalizer" : "").Append('\n');
            foreach (var frame in t.Frames.Take(HumanFrames)) s.Append("    ").Append(frame).Append('\n');
            if (t.Frames.Count > HumanFrames) s.Append(inv, $"    ... {t.Frames.Count - HumanFrames} more frames (--json has them)\n");
        }
        return s.ToString();
    }

    /// <summary>The last <paramref name="count"/> lines of console text, control characters made visible.</summary>
    public static IEnumerable<string> LastLines(string text, int count)
    {
        var lines = text.Replace("\r\n", "\n").Split('\n');
        return lines.Skip(Math.Max(0, lines.Length - count)).Select(Visible);
    }

    private static string Visible(string line)
    {
        // A guest printing without newlines would make one 4 KiB line: its end is what matters.
        const int width = 160;
        if (line.Length > width) line = "..." + line[^(width - 3)..];
        var s = new StringBuilder(line.Length);
        foreach (char c in line)
            if (c == '\r') continue;
            else if (c < 0x20 || c == 0x7F) s.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
            else s.Append(c);
        return s.ToString();
    }
}
