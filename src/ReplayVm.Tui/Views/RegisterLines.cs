using System.Globalization;
using ReplayVm.Core.Hart;
using ReplayVm.Debugger.Disassembly;
using ReplayVm.Tui.Session;

namespace ReplayVm.Tui.Views;

/// <summary>
/// The registers pane: pc and x1..x31 by ABI name, the privilege level and key CSRs, then f0..f31
/// as raw bits with their value. A value that changed on the last move is drawn in the
/// <see cref="TextStyle.Changed"/> style and followed by "*" (so it shows without colour too).
/// </summary>
public static class RegisterLines
{
    /// <summary>The CSRs shown (privileged spec 2.2's numbers): machine and supervisor trap state and satp.</summary>
    public static readonly (int Number, string Name)[] KeyCsrs =
    [
        (0x300, "mstatus"), (0x342, "mcause"), (0x341, "mepc"), (0x343, "mtval"), (0x305, "mtvec"),
        (0x180, "satp"), (0x100, "sstatus"), (0x142, "scause"), (0x141, "sepc"), (0x143, "stval"),
    ];

    /// <summary>Headings the 'r' key jumps between.</summary>
    public const string IntegerHeading = "-- integer --", CsrHeading = "-- privilege and CSRs --", FloatHeading = "-- floating point --";

    /// <summary>Two registers a row when <paramref name="width"/> holds both (46 columns), else one, so no value is ever cut.</summary>
    public static IReadOnlyList<StyledLine> Build(DebugSession session, RegisterSnapshot before, int width = 200)
    {
        int perRow = width >= 46 ? 2 : 1;
        var hart = session.Hart;
        var lines = new List<StyledLine> { StyledLine.Plain(IntegerHeading, TextStyle.Heading) };
        var pc = new List<Span> { new("pc   "), Value(hart.Pc.ToString("x16", CultureInfo.InvariantCulture), session.PcChanged) };
        string? symbol = session.Symbols.NameAt(hart.Pc) is { } name ? $"<{name}>" : null;
        // Narrow: the symbol goes on a line of its own (shortened to fit), never over the value.
        bool own = symbol is not null && 22 + 1 + symbol.Length > width;
        if (symbol is not null && !own) pc.Add(new Span(" " + symbol));
        lines.Add(new StyledLine(pc));
        if (own) lines.Add(StyledLine.Plain("     " + (5 + symbol!.Length > width ? symbol[..Math.Max(1, width - 6)] + "…" : symbol)));
        for (int i = 1; i < 32; i += perRow)
        {
            var spans = new List<Span> { new($"{Registers.X(i),-4} "), Value(Hex(hart.GetX(i)), session.Changed(i)) };
            if (perRow == 2 && i + 1 < 32)
            {
                spans.Add(new Span("  "));
                spans.Add(new Span($"{Registers.X(i + 1),-4} "));
                spans.Add(Value(Hex(hart.GetX(i + 1)), session.Changed(i + 1)));
            }
            lines.Add(new StyledLine(spans));
        }

        lines.Add(StyledLine.Plain(CsrHeading, TextStyle.Heading));
        lines.Add(new StyledLine([new Span("priv     "), Value(hart.Mode.ToString(), hart.Mode != before.Mode)]));
        foreach (var (number, csrName) in KeyCsrs)
        {
            if (!hart.TryReadCsr((uint)number, out ulong value)) continue;
            bool changed = before.Csrs.TryGetValue(number, out ulong old) && old != value;
            lines.Add(new StyledLine([new Span($"{csrName,-8} "), Value(Hex(value), changed)]));
        }

        lines.Add(StyledLine.Plain(FloatHeading, TextStyle.Heading));
        for (int i = 0; i < 32; i++)
        {
            ulong bits = hart.GetF(i);
            lines.Add(new StyledLine([new Span($"{Registers.F(i),-4} "), Value(Hex(bits), bits != before.F[i]), new Span(" " + FloatValue(bits))]));
        }
        return lines;
    }

    private static string Hex(ulong value) => value.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>The value then a one-cell change mark: "*" in the changed style, or a blank.</summary>
    private static Span Value(string text, bool changed) => changed ? new Span(text + "*", TextStyle.Changed) : new Span(text + " ");

    /// <summary>
    /// A single-precision value is NaN-boxed in the 64-bit register (upper 32 bits all ones, unprivileged
    /// spec 21.2): show it as a float; anything else as a double.
    /// </summary>
    public static string FloatValue(ulong bits)
    {
        if (bits >> 32 == 0xFFFF_FFFF)
            return "s " + BitConverter.Int32BitsToSingle((int)(uint)bits).ToString("G9", CultureInfo.InvariantCulture);
        return "d " + BitConverter.Int64BitsToDouble((long)bits).ToString("G17", CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// The FP registers, CSRs and privilege level as they were before the last move (the session itself
/// remembers only pc and the integer registers), so the pane can mark which of them changed.
/// </summary>
public sealed class RegisterSnapshot
{
    public ulong[] F { get; } = new ulong[32];
    public Dictionary<int, ulong> Csrs { get; } = [];
    public PrivilegeLevel Mode { get; private set; }

    public static RegisterSnapshot Capture(Hart hart)
    {
        var snapshot = new RegisterSnapshot { Mode = hart.Mode };
        for (int i = 0; i < 32; i++) snapshot.F[i] = hart.GetF(i);
        foreach (var (number, _) in RegisterLines.KeyCsrs)
            if (hart.TryReadCsr((uint)number, out ulong value)) snapshot.Csrs[number] = value;
        return snapshot;
    }
}
