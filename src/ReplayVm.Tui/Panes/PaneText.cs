using System.Text;
using ReplayVm.Debugger.Disassembly;
using ReplayVm.Core.Hart;
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

    /// <summary>Disassembly around pc: up to <paramref name="before"/> lines above it, the pc line marked "=>", breakpoints "*".</summary>
    public static string Code(DebugSession session, int before = 6, int after = 14)
    {
        var hart = session.Hart;
        ulong pc = hart.Pc;
        ulong start = AlignedStart(session, pc, before);
        var text = new StringBuilder();
        ulong address = start;
        for (int line = 0; line < before + after + 1; line++)
        {
            if (session.Symbols.NameAt(address) is { } label && !label.Contains('+'))
                text.Append($"<{label}>:\n");
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

    /// <summary>A hex + ASCII dump of <paramref name="lines"/> × 16 bytes at <paramref name="address"/>.</summary>
    public static string Memory(DebugSession session, ulong address, int lines = 8)
    {
        var text = new StringBuilder();
        Span<byte> row = stackalloc byte[16];
        for (int line = 0; line < lines; line++)
        {
            ulong at = address + (ulong)(line * 16);
            if (!VirtualMemoryView.Read(session.Hart, at, row))
            {
                text.Append($"{at:x16}  (not mapped)\n");
                continue;
            }
            text.Append($"{at:x16}  ");
            for (int i = 0; i < 16; i++) text.Append($"{row[i]:x2}{(i == 7 ? "  " : " ")}");
            text.Append(' ');
            foreach (byte b in row) text.Append(b is >= 0x20 and < 0x7F ? (char)b : '.');
            text.Append('\n');
        }
        return text.ToString();
    }

    /// <summary>"step 1234 / 31000" over a bar of <paramref name="width"/> cells with the position marked.</summary>
    public static string Timeline(DebugSession session, int width = 60)
    {
        width = Math.Max(width, 10);
        ulong end = Math.Max(session.End, 1);
        int cell = (int)Math.Min((ulong)(width - 1), session.Position * (ulong)(width - 1) / end);
        var bar = new StringBuilder(new string('-', width));
        foreach (ulong input in session.Timeline.InputEventSteps)
            bar[(int)Math.Min((ulong)(width - 1), input * (ulong)(width - 1) / end)] = 'i';
        bar[cell] = '#';
        return $"step {session.Position} / {session.End}\n[{bar}]";
    }

    public static string Breakpoints(DebugSession session) =>
        session.Points.Count == 0 ? "(none: F9 or b SYMBOL)" : string.Join('\n', session.Points.Select(p => p.ToString()));
}
