using System.Globalization;

namespace ReplayVm.Debugger.Disassembly;

/// <summary>Formatting shared by the decoders, in GNU objdump's layout: mnemonic, a tab, operands joined by commas.</summary>
internal static class Text
{
    public static string Insn(string mnemonic) => mnemonic;

    public static string Insn(string mnemonic, string operands) => mnemonic + "\t" + operands;

    public static string Insn(string mnemonic, string a, string b) => mnemonic + "\t" + a + "," + b;

    public static string Insn(string mnemonic, string a, string b, string c) =>
        mnemonic + "\t" + a + "," + b + "," + c;

    public static string Dec(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>Memory operand "imm(base)" as objdump prints loads, stores and jalr.</summary>
    public static string Mem(int offset, int baseReg) => Dec(offset) + "(" + Registers.X(baseReg) + ")";

    /// <summary>An absolute branch/jump target: bare hex (no 0x), then " &lt;name&gt;" when a symbol is known.</summary>
    public static string Target(ulong pc, long offset, Func<ulong, string?>? symbolize)
    {
        ulong target = pc + (ulong)offset;
        string hex = target.ToString("x", CultureInfo.InvariantCulture);
        string? name = symbolize?.Invoke(target);
        return name is null ? hex : hex + " <" + name + ">";
    }

    /// <summary>objdump's rendering of a 4-byte parcel it cannot decode.</summary>
    public static string Unknown32(uint word) => ".4byte\t" + Hex(word);

    /// <summary>objdump's rendering of a 2-byte parcel it cannot decode.</summary>
    public static string Unknown16(uint parcel) => ".2byte\t" + Hex(parcel & 0xFFFF);
}
