using System.Text;
using ReplayVm.Debugger.Disassembly;
using ReplayVm.Debugger.Symbols;
using ReplayVm.Core.Hart;
using ReplayVm.Replay.Timeline;
using ReplayVm.Tui.Session;

namespace ReplayVm.Tui.Panes;

/// <summary>
/// The text of each pane, computed from a <see cref="DebugSession"/> without any UI so it can be
/// tested directly; the Terminal.Gui views only show these strings.
/// </summary>
public static class PaneText
{
    /// <summary>CSRs worth a glance while stepping a bare-metal or kernel guest.</summary>
    private static readonly int[] KeyCsrs = [0x300, 0x341, 0x342, 0x343, 0x305, 0x180];

    /// <summary>
    /// Disassembly around pc: up to <paramref name="before"/> instructions above it, the pc line
    /// marked "=>", breakpoints "*". With DWARF line info, as <c>objdump -S</c> does, a
    /// "shell.c:42  source text" line (or just "shell.c:42" when the file is not on this machine)
    /// precedes each instruction whose line differs from the one before it.
    /// </summary>
    public static string Code(DebugSession session, int before = 6, int after = 14)
    {
        var hart = session.Hart;
        ulong pc = hart.Pc;
        ulong start = AlignedStart(session, pc, before);
        var text = new StringBuilder();
        ulong address = start;
        SourceLocation? previous = null;
        for (int line = 0; line < before + after + 1; line++)
        {
            if (session.Symbols.NameAt(address) is { } label && !label.Contains('+'))
                text.Append($"<{label}>:\n");
            var location = session.Lines.LineAt(address);
            if (location is { Line: > 0 } && (previous is null || previous.File.Path != location.File.Path || previous.Line != location.Line))
                text.Append(session.Sources.Line(location.File, location.Line) is { } source
                    ? $"{location}  {source.Trim()}\n"
                    : $"{location}\n");
            previous = location;
            string marker = (address == pc ? "=>" : "  ") + (session.HasBreakpointAt(address) ? "*" : " ");
            if (!TryFetch(session, address, out uint word, out int length))
            {
                text.Append($"{marker} 0x{address:x}:  (not readable)\n");
                break;
            }
            string encoding = length == 4 ? word.ToString("x8") : $"    {word:x4}";
            text.Append($"{marker} 0x{address:x}:  {encoding}  {RiscvDisassembler.Disassemble(word, address, session.Symbols.NameAt)}\n");
            address += (ulong)length;
        }
        return text.ToString();
    }

    /// <summary>
    /// A start address from which decoding forward lands exactly on pc, as far back as
    /// <paramref name="lines"/> instructions: with compressed instructions (unprivileged spec 1.5)
    /// going backwards is ambiguous, so candidates are tried from furthest back.
    /// </summary>
    private static ulong AlignedStart(DebugSession session, ulong pc, int lines)
    {
        if (lines <= 0) return pc;
        // Exact where a symbol says where the function starts: decode forward from there. Guessing
        // backwards can land on pc through the middle of an instruction.
        if (FunctionStart(session, pc) is { } here && (here < pc ? here : pc > 0 ? FunctionStart(session, pc - 1) : null) is { } start
            && start < pc && pc - start <= 1 << 16)
        {
            var starts = new Queue<ulong>();
            ulong address = start;
            while (address < pc && TryFetch(session, address, out _, out int length))
            {
                starts.Enqueue(address);
                if (starts.Count > lines) starts.Dequeue();
                address += (ulong)length;
            }
            if (address == pc)
                return starts.Count == lines ? starts.Peek() : AlignedStart(session, start, lines - starts.Count);
        }
        for (ulong back = (ulong)lines * 4; back > 0; back -= 2)
        {
            if (back > pc) continue;
            ulong address = pc - back;
            int count = 0;
            while (address < pc && count <= lines && TryFetch(session, address, out _, out int length))
            {
                address += (ulong)length;
                count++;
            }
            if (address == pc && count <= lines) return pc - back;
        }
        return pc;
    }

    /// <summary>The start of the symbol <paramref name="address"/> lies in, if the ELF names one.</summary>
    private static ulong? FunctionStart(DebugSession session, ulong address) =>
        session.Symbols.NameAt(address) is { } name && session.Symbols.Find(name.Split('+')[0]) is { } start && start <= address ? start : null;

    private static bool TryFetch(DebugSession session, ulong address, out uint word, out int length)
    {
        word = 0;
        length = 0;
        Span<byte> bytes = stackalloc byte[4];
        if (!session.ReadMemory(address, bytes[..2])) return false;
        length = RiscvDisassembler.Length((ushort)(bytes[0] | bytes[1] << 8));
        if (length == 4 && !session.ReadMemory(address + 2, bytes[2..])) return false;
        word = length == 4 ? BitConverter.ToUInt32(bytes) : (uint)(bytes[0] | bytes[1] << 8);
        return true;
    }

    /// <summary>pc, x1..x31 by ABI name (a "*" after a value that changed on the last move), and a few CSRs.</summary>
    public static string Registers(DebugSession session)
    {
        var hart = session.Hart;
        var text = new StringBuilder();
        text.Append($"pc   {hart.Pc:x16}{(session.PcChanged ? "*" : " ")}");
        if (session.Symbols.NameAt(hart.Pc) is { } name) text.Append($" <{name}>");
        text.Append('\n');
        for (int i = 1; i < 32; i++)
        {
            text.Append($"{Debugger.Disassembly.Registers.X(i),-4} {hart.GetX(i):x16}{(session.Changed(i) ? "*" : " ")}");
            text.Append(i % 2 == 0 ? "\n" : "  ");
        }
        text.Append('\n');
        text.Append($"mode {hart.Mode}\n");
        foreach (int csr in KeyCsrs)
            if (hart.TryReadCsr((uint)csr, out ulong value)) text.Append($"{CsrNames.Format(csr),-8} {value:x16}\n");
        return text.ToString();
    }

    /// <summary>
    /// A hex + ASCII dump of <paramref name="lines"/> rows at <paramref name="address"/>: 16 bytes a
    /// row, or 8 or 4 when <paramref name="width"/> (the pane's columns) is too narrow for 16, so
    /// the ASCII column always shows. The address column is 8 digits when every address fits.
    /// </summary>
    public static string Memory(DebugSession session, ulong address, int lines = 8, int width = 200)
    {
        var text = new StringBuilder();
        bool wide = address + (ulong)(lines * 16) > uint.MaxValue;
        int addressWidth = wide ? 16 : 8;
        // A row of n bytes takes address + 2 + 3n (+1 for the middle gap at 16) + 1 + n columns.
        int perRow = 16;
        while (perRow > 4 && addressWidth + 2 + 4 * perRow + (perRow == 16 ? 2 : 1) > width) perRow /= 2;
        Span<byte> row = stackalloc byte[perRow];
        for (int line = 0; line < lines; line++)
        {
            ulong at = address + (ulong)(line * perRow);
            string where = at.ToString(wide ? "x16" : "x8", System.Globalization.CultureInfo.InvariantCulture);
            if (!VirtualMemoryView.Read(session.Hart, at, row))
            {
                text.Append($"{where}  (not mapped)\n");
                continue;
            }
            text.Append($"{where}  ");
            for (int i = 0; i < perRow; i++) text.Append($"{row[i]:x2}{(i == 7 && perRow == 16 ? "  " : " ")}");
            text.Append(' ');
            foreach (byte b in row) text.Append(b is >= 0x20 and < 0x7F ? (char)b : '.');
            text.Append('\n');
        }
        return text.ToString();
    }

    /// <summary>Bar cell marks, in the order they win when several fall in one cell (the position always shows).</summary>
    public const char PositionMark = '#', BreakpointHitMark = 'B', InputMark = 'i', TrapMark = 't', InterruptMark = '!', EmptyMark = '-';

    /// <summary>
    /// The whole recording as a bar of <paramref name="width"/> cells: "step 1234 / 31000" (and how far
    /// the trap index has got), then "[--i--t--!--#--B--]" with the position '#', breakpoint hits
    /// 'B', input events 'i', traps 't' (exceptions and ecalls) and interrupts '!', then a legend
    /// with counts. Step s sits in cell floor(s·(w−1)/end); <see cref="TimelineStepAt"/> is the inverse.
    /// </summary>
    public static string Timeline(DebugSession session, int width = 60)
    {
        width = Math.Max(width, 10);
        ulong end = Math.Max(session.End, 1);
        var bar = new StringBuilder(new string(EmptyMark, width));
        var index = session.Index;
        if (index is not null)
        {
            for (int cell = 0; cell < width; cell++)
            {
                ulong from = TimelineStepAt(cell, width, end), to = cell == width - 1 ? ulong.MaxValue : TimelineStepAt(cell + 1, width, end);
                if (index.Any(TrapMarkerKinds.Interrupts, from, to)) bar[cell] = InterruptMark;
                if (index.Any(TrapMarkerKinds.Traps, from, to)) bar[cell] = TrapMark;
            }
        }
        foreach (ulong input in session.Timeline.InputEventSteps) bar[TimelineCell(input, width, end)] = InputMark;
        foreach (ulong hit in session.BreakpointHits) bar[TimelineCell(hit, width, end)] = BreakpointHitMark;
        bar[TimelineCell(session.Position, width, end)] = PositionMark;

        // The legend leaves out '#': the position is the highlighted cell, and the first line says where it is.
        var legend = new StringBuilder($"{InputMark} input ({session.Timeline.InputEventSteps.Count})");
        if (index is not null)
            legend.Append($"  {TrapMark} trap ({index.Count(TrapMarkerKinds.Traps)})  {InterruptMark} interrupt ({index.Count(TrapMarkerKinds.Interrupts)})");
        legend.Append($"  {BreakpointHitMark} breakpoint hit ({session.BreakpointHits.Count})");
        return $"step {session.Position} / {session.End}{IndexStatus(index)}{SidecarStatus(session.SidecarBuild)}\n[{bar}]\n{legend}";
    }

    /// <summary>
    /// The status line while a long movement runs: "running… [######----------] 37%, about 4 s
    /// left (Esc cancels)", the estimate from the rate so far (none until there is one).
    /// </summary>
    public static string RunProgress(double fraction, TimeSpan elapsed, int width = 16)
    {
        fraction = Math.Clamp(double.IsNaN(fraction) ? 0 : fraction, 0, 1);
        int filled = (int)Math.Round(fraction * width);
        string bar = new string('#', filled) + new string('-', width - filled);
        string left = fraction > 0.01 && fraction < 1 && elapsed > TimeSpan.FromMilliseconds(200)
            ? $", about {FormatDuration(elapsed.TotalSeconds * (1 - fraction) / fraction)} left"
            : "";
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"running… [{bar}] {fraction * 100:0}%{left} (Esc cancels)");
    }

    /// <summary>A build's progress beside the timeline bar: the share done and, once measured, its pace and the time left.</summary>
    internal static string Indexing(double progress, (double StepsPerSecond, TimeSpan Left)? pace)
    {
        string share = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Math.Round(progress * 100):0}%");
        return pace is var (rate, left)
            ? $"  (indexing: {share}, {FormatRate(rate)} steps/s, about {FormatDuration(left.TotalSeconds)} left)"
            : $"  (indexing: {share})";
    }

    /// <summary>A step rate in three significant figures with an SI prefix: "212 M", "9.87 k".</summary>
    internal static string FormatRate(double perSecond) => perSecond switch
    {
        >= 1e9 => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{perSecond / 1e9:0.##} G"),
        >= 1e6 => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{perSecond / 1e6:0.#} M"),
        >= 1e3 => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{perSecond / 1e3:0.#} k"),
        _ => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{perSecond:0}"),
    };

    private static string FormatDuration(double seconds) => seconds switch
    {
        < 1 => "1 s",
        < 90 => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{seconds:0} s"),
        _ => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{seconds / 60:0} min"),
    };

    /// <summary>A sidecar being built behind the session: how far (seeks get faster as it grows), or why it stopped.</summary>
    private static string SidecarStatus(ReplayVm.Replay.TraceIndex.BackgroundIndexBuild? build) => build?.State switch
    {
        null or ReplayVm.Replay.TraceIndex.IndexBuildState.Complete => "",
        ReplayVm.Replay.TraceIndex.IndexBuildState.Running => Indexing(build.Progress, build.Pace),
        ReplayVm.Replay.TraceIndex.IndexBuildState.Cancelled => "",
        _ => $"  (index not built: {build.Error})",
    };

    private static string IndexStatus(TimelineIndex? index) => index?.State switch
    {
        null or TimelineIndexState.Complete => "",
        TimelineIndexState.Running => $"  (finding traps: {index.Progress:P0})",
        TimelineIndexState.Cancelled => "  (trap search stopped)",
        _ => $"  (trap search failed: {index.Error})",
    };

    /// <summary>The bar cell (0 .. width−1) that shows <paramref name="step"/> in a recording of <paramref name="end"/> steps.</summary>
    public static int TimelineCell(ulong step, int width, ulong end)
    {
        width = Math.Max(width, 10);
        end = Math.Max(end, 1);
        return (int)Math.Min((ulong)(width - 1), (ulong)((UInt128)step * (ulong)(width - 1) / end));
    }

    /// <summary>
    /// The first step bar cell <paramref name="cell"/> shows (for click-to-seek): the inverse of
    /// <see cref="TimelineCell"/>, so the position marker lands exactly on the clicked cell.
    /// Cells past the bar's last map to the end.
    /// </summary>
    public static ulong TimelineStepAt(int cell, int width, ulong end)
    {
        width = Math.Max(width, 10);
        end = Math.Max(end, 1);
        if (cell <= 0) return 0;
        ulong span = (ulong)(width - 1);
        if ((ulong)cell >= span) return end;
        return (ulong)(((UInt128)(ulong)cell * end + span - 1) / span);
    }

    public static string Breakpoints(DebugSession session) =>
        session.Points.Count == 0 ? "(none: F9 or b SYMBOL)" : string.Join('\n', session.Points.Select(p => p.ToString()));
}
