using ReplayVm.Replay.Timeline;

namespace ReplayVm.Tui.Session;

/// <summary>
/// gdb's <c>until LOCATION</c> and <c>advance LOCATION</c>: run forwards to a location, or until the
/// current frame returns. LOCATION is what <c>b</c> takes (FUNCTION, FILE:LINE, LINE, *ADDR), except
/// that a function with line information means its body after the prologue, as gdb's linespec does.
/// </summary>
public sealed partial class DebugSession
{
    /// <summary>until LOCATION: the location only in the current frame (recursive calls run on); advance: in any frame.</summary>
    public TimelineStop RunToLocation(IReadOnlyCollection<ulong> targets, bool anywhere, CancellationToken cancel = default, IProgress<double>? progress = null) =>
        Move(() => Stepper.RunToLocation(targets, anywhere, cancel, BreakpointAddresses, WatchRanges, progress));

    private CommandResult RunToLocation(string verb, string argument, bool anywhere, CancellationToken cancel, IProgress<double>? progress)
    {
        if (argument.Length == 0) return CommandResult.Error($"{verb}: Argument required (a location: FUNCTION, FILE:LINE, LINE or *ADDRESS).");
        var (targets, error) = ResolveLocation(verb, argument);
        if (error is not null) return CommandResult.Error(error);
        return Moved(RunToLocation(targets, anywhere, cancel, progress));
    }

    /// <summary>The addresses a location names, or an error starting with <paramref name="verb"/>.</summary>
    private (IReadOnlyList<ulong> Addresses, string? Error) ResolveLocation(string verb, string argument)
    {
        if (argument.StartsWith('*'))
            return TryAddress(argument[1..], out ulong address) ? ([address], null) : ([], $"{verb}: bad address '{argument[1..]}'");
        if (AddressParser.TryParseLineSpec(argument, out string? file, out int line))
        {
            var resolved = ResolveLine(verb, file, line);
            return (resolved.Addresses, resolved.Error);
        }
        if (!TrySymbolOrNumber(argument, out ulong target)) return ([], $"{verb}: Function \"{argument}\" not defined.");
        // A function's name means its first line after the prologue (gdb's linespec); "main+8" or a number means the address.
        bool function = Symbols.Find(argument) == target && Info.FunctionAt(target) is not null && Lines.RangeAt(target) is not null;
        return ([function ? Stepper.PostPrologue(target) : target], null);
    }
}
