namespace ReplayVm.Tui.Session;

public enum DebugPointKind { Breakpoint, Watchpoint }

/// <summary>A numbered breakpoint (at a pc) or write/read watchpoint (over a range), as <c>info b</c> lists it.</summary>
public sealed record DebugPoint(int Number, DebugPointKind Kind, ulong Address, ulong Length, string? Symbol)
{
    public override string ToString()
    {
        string where = Symbol is null ? $"0x{Address:x}" : $"0x{Address:x} <{Symbol}>";
        return Kind == DebugPointKind.Breakpoint ? $"{Number}  break  {where}" : $"{Number}  watch  {where} ({Length} bytes)";
    }
}

/// <summary>The text a command produced and whether it is an error (shown as one line).</summary>
public sealed record CommandResult(string Text, bool IsError = false)
{
    public static CommandResult Error(string message) => new(message, IsError: true);
}
