using System.Globalization;
using ReplayVm.Debugger.Disassembly;
using ReplayVm.Replay.Diff;
using ReplayVm.Tui.Session;

namespace ReplayVm.Tui.Views;

/// <summary>
/// The diff window's pane contents: both runs' values side by side, a value that differs between
/// them drawn in the <see cref="TextStyle.Changed"/> style and followed by "!" (so it shows without
/// colour too). Values are compared as they stand, so the marks hold at any offset.
/// </summary>
public static class DiffLines
{
    public const string Differs = "!";

    public static IReadOnlyList<StyledLine> Registers(DiffSession session, StateDivergence? differences)
    {
        var (a, b) = (session.A.Hart, session.B.Hart);
        var lines = new List<StyledLine> { StyledLine.Plain($"{"",-8} {"A",-17} {"B",-17}", TextStyle.Heading) };
        lines.Add(Row("pc", a.Pc, b.Pc));
        for (int i = 1; i < 32; i++) lines.Add(Row(Debugger.Disassembly.Registers.X(i), a.GetX(i), b.GetX(i)));
        lines.Add(StyledLine.Plain("-- privilege and CSRs --", TextStyle.Heading));
        lines.Add(Row("priv", (ulong)a.Mode, (ulong)b.Mode, value => ((Core.Hart.PrivilegeLevel)value).ToString()));
        var shown = new HashSet<uint>();
        foreach (var (number, name) in RegisterLines.KeyCsrs)
        {
            shown.Add((uint)number);
            lines.Add(Row(name, a.ReadCsr((uint)number), b.ReadCsr((uint)number)));
        }
        // Every other CSR that differs here (counters, mip, ...), found by the comparison.
        foreach (var csr in differences?.Csrs ?? [])
            if (shown.Add(csr.Id)) lines.Add(Row(CsrNames.Format((int)csr.Id), a.ReadCsr(csr.Id), b.ReadCsr(csr.Id)));
        lines.Add(StyledLine.Plain("-- floating point (differing) --", TextStyle.Heading));
        for (int i = 0; i < 32; i++)
            if (a.GetF(i) != b.GetF(i)) lines.Add(Row(Debugger.Disassembly.Registers.F(i), a.GetF(i), b.GetF(i)));
        return lines;
    }

    private static StyledLine Row(string name, ulong a, ulong b, Func<ulong, string>? format = null)
    {
        format ??= value => value.ToString("x16", CultureInfo.InvariantCulture);
        bool differs = a != b;
        var style = differs ? TextStyle.Changed : TextStyle.Normal;
        string mark = differs ? Differs : " ";
        return new StyledLine([new Span($"{name,-8} "), new Span($"{format(a),-16}{mark}", style), new Span(" "), new Span($"{format(b),-16}{mark}", style)]);
    }

    /// <summary>Rows of 8 bytes from <paramref name="address"/> in each run (virtual addresses, as each hart sees them), differing bytes marked.</summary>
    public static IReadOnlyList<StyledLine> Memory(DiffSession session, ulong address, int rows, int width)
    {
        const int perRow = 8;
        bool ascii = width >= 92;
        var lines = new List<StyledLine>();
        Span<byte> rowA = stackalloc byte[perRow], rowB = stackalloc byte[perRow];
        for (int row = 0; row < rows; row++)
        {
            ulong at = address + (ulong)(row * perRow);
            bool okA = session.A.ReadMemory(at, rowA), okB = session.B.ReadMemory(at, rowB);
            var spans = new List<Span> { new($"{at:x12}  A ") };
            Bytes(spans, rowA, okA, rowB, okB);
            spans.Add(new Span(" | B "));
            Bytes(spans, rowB, okB, rowA, okA);
            bool rowDiffers = okA != okB || okA && !rowA.SequenceEqual(rowB);
            if (ascii)
            {
                spans.Add(new Span(" "));
                Text(spans, rowA, okA, rowB);
                spans.Add(new Span(" "));
                Text(spans, rowB, okB, rowA);
            }
            spans.Add(new Span(rowDiffers ? " " + Differs : "", TextStyle.Changed));
            lines.Add(new StyledLine(spans));
        }
        return lines;
    }

    private static void Bytes(List<Span> spans, ReadOnlySpan<byte> mine, bool readable, ReadOnlySpan<byte> other, bool otherReadable)
    {
        for (int i = 0; i < mine.Length; i++)
        {
            if (!readable)
            {
                spans.Add(new Span("?? ", otherReadable ? TextStyle.Changed : TextStyle.Normal));
                continue;
            }
            bool differs = !otherReadable || mine[i] != other[i];
            spans.Add(new Span(mine[i].ToString("x2", CultureInfo.InvariantCulture), differs ? TextStyle.Changed : TextStyle.Normal));
            spans.Add(new Span(" "));
        }
    }

    private static void Text(List<Span> spans, ReadOnlySpan<byte> mine, bool readable, ReadOnlySpan<byte> other)
    {
        for (int i = 0; i < mine.Length; i++)
        {
            char c = !readable ? ' ' : mine[i] is >= 0x20 and < 0x7F ? (char)mine[i] : '.';
            spans.Add(new Span(c.ToString(), readable && mine[i] != other[i] ? TextStyle.Changed : TextStyle.Normal));
        }
    }

    /// <summary>Bytes of console output drawn at most (the panes show the end of it).</summary>
    private const int ConsoleBytesShown = 16 * 1024;

    /// <summary>
    /// Each run's console as it was at its step, from the first byte where the two differ drawn
    /// marked; and that byte's index (null when the outputs are equal).
    /// </summary>
    public static (IReadOnlyList<StyledLine> A, IReadOnlyList<StyledLine> B, long? FirstDifference) Consoles(DiffSession session)
    {
        var a = session.A.Timeline.Output;
        var b = session.B.Timeline.Output;
        int common = 0;
        while (common < a.Count && common < b.Count && a[common] == b[common]) common++;
        long? first = common == a.Count && common == b.Count ? null : common;
        return (Console(a, common), Console(b, common), first);
    }

    private static List<StyledLine> Console(IReadOnlyList<byte> bytes, int firstDifference)
    {
        var lines = new List<StyledLine>();
        var spans = new List<Span>();
        var run = new System.Text.StringBuilder();
        var style = TextStyle.Normal;
        void Flush()
        {
            if (run.Length > 0) spans.Add(new Span(run.ToString(), style));
            run.Clear();
        }
        for (int i = Math.Max(0, bytes.Count - ConsoleBytesShown); i < bytes.Count; i++)
        {
            byte c = bytes[i];
            var want = i >= firstDifference ? TextStyle.Changed : TextStyle.Normal;
            if (want != style)
            {
                Flush();
                style = want;
            }
            if (c == '\n')
            {
                Flush();
                lines.Add(new StyledLine(spans.ToList()));
                spans.Clear();
            }
            else if (c == '\t' || c is >= 0x20 and < 0x7F) run.Append((char)c);
            // Carriage returns and other control bytes would confuse the pane: dropped, as in the debugger's console.
        }
        Flush();
        lines.Add(new StyledLine(spans.ToList()));
        return lines;
    }

    /// <summary>
    /// The latest input difference at or before the current step in words ("B received 'wurld',
    /// A received 'world'"), then each run's input events near its step; an event the other run
    /// did not receive alike is marked.
    /// </summary>
    public static IReadOnlyList<StyledLine> Inputs(DiffSession session)
    {
        var lines = new List<StyledLine>();
        ulong here = Math.Max(session.A.Position, session.B.Position);
        if (InputLog.LastDifferenceAtOrBefore(session.Pair.InputsA, session.Pair.InputsB, here) is { } last)
            lines.Add(StyledLine.Plain($"inputs last differ at step {last.Step}: A {DiffSession.Input(last.A)}, B {DiffSession.Input(last.B)}", TextStyle.Changed));
        else
            lines.Add(StyledLine.Plain($"the inputs are the same up to step {here}"));
        var nearA = session.InputsNear(sideB: false);
        var nearB = session.InputsNear(sideB: true);
        var allA = new HashSet<InputEventSummary>(session.Pair.InputsA.Near(session.A.Position, 8, 8));
        var allB = new HashSet<InputEventSummary>(session.Pair.InputsB.Near(session.B.Position, 8, 8));
        lines.Add(StyledLine.Plain($"A (step {session.A.Position}):", TextStyle.Heading));
        foreach (var e in nearA) lines.Add(Event(e, allB.Contains(e)));
        lines.Add(StyledLine.Plain($"B (step {session.B.Position}):", TextStyle.Heading));
        foreach (var e in nearB) lines.Add(Event(e, allA.Contains(e)));
        return lines;
    }

    private static StyledLine Event(InputEventSummary e, bool same) =>
        same ? StyledLine.Plain($"  {e}") : new StyledLine([new Span($"  {e} {Differs}", TextStyle.Changed)]);
}
