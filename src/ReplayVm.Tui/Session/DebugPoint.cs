namespace ReplayVm.Tui.Session;

public enum DebugPointKind { Breakpoint, Watchpoint }

/// <summary>Which accesses a watchpoint stops at, as gdb's watch, rwatch and awatch.</summary>
public enum WatchAccess { Write, Read, Access }

/// <summary>A numbered breakpoint (at a pc) or watchpoint (over a range, on writes, reads or both), as <c>info b</c> lists it.</summary>
public sealed record DebugPoint(int Number, DebugPointKind Kind, ulong Address, ulong Length, string? Symbol, WatchAccess Access = WatchAccess.Write)
{
    /// <summary>The gdb command that makes this kind of point: break, watch, rwatch or awatch.</summary>
    public string Command => Kind == DebugPointKind.Breakpoint ? "break" : Access switch
    {
        WatchAccess.Read => "rwatch",
        WatchAccess.Access => "awatch",
        _ => "watch",
    };

    public override string ToString()
    {
        string where = Symbol is null ? $"0x{Address:x}" : $"0x{Address:x} <{Symbol}>";
        return Kind == DebugPointKind.Breakpoint ? $"{Number}  break  {where}" : $"{Number}  {Command}  {where} ({Length} bytes)";
    }
}

/// <summary>The text a command produced and whether it is an error (shown as one line).</summary>
public sealed record CommandResult(string Text, bool IsError = false)
{
    public static CommandResult Error(string message) => new(message, IsError: true);
}
