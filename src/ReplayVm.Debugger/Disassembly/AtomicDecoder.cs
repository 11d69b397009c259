using static ReplayVm.Debugger.Disassembly.Registers;
using static ReplayVm.Debugger.Disassembly.Text;

namespace ReplayVm.Debugger.Disassembly;

/// <summary>The A extension (unprivileged spec chapter 8): lr/sc and the AMOs, with .aq/.rl/.aqrl suffixes.</summary>
internal static class AtomicDecoder
{
    public static string? Decode(Fields f)
    {
        string? width = f.Funct3 switch { 2 => ".w", 3 => ".d", _ => null };
        if (width is null) return null;

        string? op = (f.Word >> 27) switch
        {
            0x00 => "amoadd",
            0x01 => "amoswap",
            0x02 => "lr",
            0x03 => "sc",
            0x04 => "amoxor",
            0x08 => "amoor",
            0x0C => "amoand",
            0x10 => "amomin",
            0x14 => "amomax",
            0x18 => "amominu",
            0x1C => "amomaxu",
            _ => null,
        };
        if (op is null) return null;

        string ordering = ((f.Word >> 25) & 3) switch { 0 => "", 1 => ".rl", 2 => ".aq", _ => ".aqrl" };
        string mnemonic = string.Concat(op, width, ordering);
        string address = "(" + X(f.Rs1) + ")";
        if (op == "lr")
            return f.Rs2 == 0 ? Insn(mnemonic, X(f.Rd), address) : null;
        return Insn(mnemonic, X(f.Rd), X(f.Rs2), address);
    }
}
