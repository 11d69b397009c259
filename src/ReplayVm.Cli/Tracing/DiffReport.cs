using System.Text;
using ReplayVm.Core.Hart;
using ReplayVm.Core.Loading;
using ReplayVm.Debugger.Disassembly;
using ReplayVm.Replay;
using ReplayVm.Replay.Diff;

namespace ReplayVm.Cli.Tracing;

/// <summary>
/// <see cref="TraceDiff"/>'s result as text (symbols from the ELF images of trace <paramref name="a"/>, whose setup B shares when states are compared): where the two replays part (step, pc, the instruction,
/// privilege mode), what differs (registers by ABI name, CSRs by name, memory ranges, other
/// state) before and after that step, the input events near it and each side's console position.
/// </summary>
internal sealed class DiffReport(TraceFile a, TraceDiffResult result)
{
    private readonly StringBuilder _text = new();

    public override string ToString()
    {
        _text.Clear();
        switch (result.Outcome)
        {
            case TraceDiffOutcome.Identical:
                Line($"identical: {result.Summary}");
                break;
            case TraceDiffOutcome.SetupDiffers:
                Line("differ: the traces describe different machines");
                foreach (var difference in result.SetupDifferences) Line($"  {difference}");
                if (result.Divergence is { } divergence) Divergence(divergence);
                else if (result.Ending is { } ending) Line($"differ at step {result.Step}: {ending.Message}");
                break;
            case TraceDiffOutcome.EndDiffers:
                Line($"differ at step {result.Step}: {result.Ending!.Message}");
                break;
            case TraceDiffOutcome.StateDiffers:
                Divergence(result.Divergence!);
                break;
        }
        foreach (var note in result.Notes) Line($"note: {note}");
        return _text.ToString();
    }

    private void Divergence(StateDivergence d)
    {
        var symbols = Symbolizer(a.Header.Setup);
        Line($"differ at step {d.Step}: after {d.Step - 1} steps the machines were equal; step {d.Step} parts them");
        Row("pc", $"0x{d.Pc:x16}" + (symbols(d.Pc) is { } name ? $" <{name}>" : ""));
        Row("instruction", d.InstructionBits is { } bits
            ? $"{RiscvDisassembler.Disassemble(bits, d.Pc, symbols)}    ({Hex(bits, RiscvDisassembler.Length((ushort)bits))})"
            : "(unreadable)");
        Row("mode", $"{Mode(d.Mode)} before the step; after it A is in {Mode(d.A.Mode)} at 0x{d.A.Pc:x}, B in {Mode(d.B.Mode)} at 0x{d.B.Pc:x}");

        Values("registers", d.IntegerRegisters, i => Registers.X((int)i));
        Values("float registers", d.FloatRegisters, i => Registers.F((int)i));
        Values("CSRs", d.Csrs, id => CsrNames.Format((int)id));
        if (d.Other.Count > 0)
        {
            Line("other state (A / B after the step):");
            foreach (var o in d.Other) Line($"  {o.Name,-14} 0x{o.A:x} / 0x{o.B:x}");
        }
        if (d.Memory.Count > 0)
        {
            Line("memory (after the step; first bytes of each range):");
            foreach (var m in d.Memory)
            {
                Line($"  0x{m.Address:x} .. +{m.Length}");
                if (m.Before is { } before) Line($"    before {Bytes(before)}");
                Line($"    A      {Bytes(m.A)}");
                Line($"    B      {Bytes(m.B)}");
            }
        }
        Inputs("A", d.NearbyInputA);
        Inputs("B", d.NearbyInputB);
        Row("console A", Console(d.A));
        Row("console B", Console(d.B));
    }

    private void Values(string title, IReadOnlyList<ValueDifference> values, Func<uint, string> name)
    {
        if (values.Count == 0) return;
        Line($"{title} (before -> after the step):");
        foreach (var v in values)
            Line($"  {name(v.Id),-9} A {Value(v.BeforeA)} -> {Value(v.AfterA)}   B {Value(v.BeforeB)} -> {Value(v.AfterB)}");
    }

    private void Inputs(string side, IReadOnlyList<InputEventSummary> events)
    {
        if (events.Count == 0)
        {
            Row($"inputs {side}", "(none near)");
            return;
        }
        Line($"inputs {side} nearest the step:");
        foreach (var e in events) Line($"  {e}");
    }

    private static string Console(MachinePosition position)
    {
        string tail = Encoding.ASCII.GetString(position.ConsoleTail.Select(c => c is >= 0x20 and < 0x7F ? c : (byte)'.').ToArray());
        return $"{position.ConsoleBytes} bytes printed" + (tail.Length > 0 ? $", ending \"{tail}\"" : "");
    }

    /// <summary>Names addresses from the symbol tables of the ELF images the trace carries.</summary>
    private static Func<ulong, string?> Symbolizer(MachineSetup setup)
    {
        var elves = new List<ElfImage>();
        foreach (var image in setup.Images)
        {
            try
            {
                elves.Add(ElfImage.Parse(image.Bytes));
            }
            catch (GuestImageException)
            {
                // A raw image has no symbols.
            }
        }
        return address => elves.Select(e => e.SymbolAt(address)).FirstOrDefault(s => s is not null);
    }

    private static string Mode(PrivilegeLevel mode) => mode switch
    {
        PrivilegeLevel.Machine => "M",
        PrivilegeLevel.Supervisor => "S",
        PrivilegeLevel.User => "U",
        _ => mode.ToString(),
    };

    private static string Value(ulong? value) => value is { } v ? $"0x{v:x16}" : "(none)";

    private static string Hex(uint bits, int length) => length == 2 ? $"{bits & 0xFFFF:x4}" : $"{bits:x8}";

    private static string Bytes(byte[] bytes) => string.Join(' ', bytes.Select(x => x.ToString("x2")));

    private void Row(string label, string value) => Line($"{label,-13}{value}");

    private void Line(string text) => _text.Append(text).Append('\n');
}
