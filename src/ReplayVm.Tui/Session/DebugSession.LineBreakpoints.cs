using ReplayVm.Debugger.Symbols;

namespace ReplayVm.Tui.Session;

/// <summary>"b FILE:LINE" and "b LINE": breakpoints placed through the DWARF line table.</summary>
public sealed partial class DebugSession
{
    /// <summary>How far past a line without code "b" looks for the next one that has some, as gdb moves such a breakpoint.</summary>
    private const int LineSearchLimit = 100;

    /// <summary>
    /// Breaks where <paramref name="line"/> of <paramref name="file"/> (null: the file of the
    /// current pc) starts: one breakpoint per function holding code for it (its lowest is_stmt
    /// address there), as gdb places a line breakpoint's locations. A line without code moves to
    /// the next line that has some.
    /// </summary>
    private CommandResult BreakAtLine(string? file, int line)
    {
        var resolved = ResolveLine("b", file, line);
        if (resolved.Error is { } error) return CommandResult.Error(error);
        var points = resolved.Addresses.Select(AddBreakpoint).ToList();
        return new CommandResult(string.Join("; ", points.Select(p =>
            $"breakpoint {p.Number} at 0x{p.Address:x}" + (p.Symbol is { } s ? $" <{s}>" : ""))) + $": {resolved.Where}");
    }

    /// <summary>
    /// A line location's addresses (one per function holding code for it, its lowest address
    /// there), and "shell.c:42" (with a note when the line had no code and the next one was taken),
    /// or an error starting with <paramref name="verb"/>.
    /// </summary>
    private (IReadOnlyList<ulong> Addresses, string Where, string? Error) ResolveLine(string verb, string? file, int line)
    {
        if (Lines.IsEmpty)
            return ([], "", $"{verb}: the guest has no line info{(Lines.Error is { } e ? $" ({e})" : "")}; use a SYMBOL or *ADDRESS");
        if (file is null)
        {
            if (Lines.LineAt(Hart.Pc) is not { } here)
                return ([], "", $"{verb}: no source line at pc 0x{Hart.Pc:x} to take the file from; give FILE:{line}");
            file = here.File.Path;
        }
        if (Lines.FindFiles(file).Count == 0) return ([], "", $"{verb}: no source file '{file}' in the line table");

        for (int candidate = line; candidate <= line + LineSearchLimit; candidate++)
        {
            var addresses = Lines.AddressesOf(file, candidate);
            if (addresses.Count == 0) continue;
            // One location per function: a line's code can be split by the optimizer into several runs.
            var locations = addresses.GroupBy(FunctionOf).Select(g => g.Min()).Order().ToList();
            string moved = candidate == line ? "" : $" (line {line} has no code)";
            return (locations, $"{Lines.FindFiles(file)[0].Name}:{candidate}{moved}", null);
        }
        return ([], "", $"{verb}: no code for line {line} of '{file}' (or the {LineSearchLimit} lines after it)");
    }

    /// <summary>The function an address is in ("main" for "main+0x10"), or the address itself when no symbol owns it.</summary>
    private string FunctionOf(ulong address) => Symbols.NameAt(address) is { } name
        ? name.Split('+')[0]
        : $"0x{address:x}";
}
