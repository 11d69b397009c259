using System.Globalization;
using ReplayVm.Core.Hart;
using ReplayVm.Debugger.Disassembly;

namespace ReplayVm.Debugger.Timeline;

/// <summary>
/// Register names as a user types them to a debugger: x0..x31 and f0..f31, the psABI names
/// (<c>a0</c>, <c>sp</c>, <c>fp</c> for x8, <c>fa0</c>, <c>ft0</c>, ...; RISC-V psABI "Register
/// Convention"), any case, optionally written <c>$a0</c> as in gdb.
/// </summary>
public static class RegisterNames
{
    public static bool TryParse(string text, out HartRegister register)
    {
        register = default;
        string name = text.Trim().TrimStart('$').ToLowerInvariant();
        if (name.Length < 2) return false;
        if (name == "fp")
        {
            register = HartRegister.X(8);
            return true;
        }
        for (int i = 0; i < 32; i++)
        {
            if (name == Registers.X(i)) { register = HartRegister.X(i); return true; }
            if (name == Registers.F(i)) { register = HartRegister.F(i); return true; }
        }
        // x5, f12: a decimal number 0..31 without sign or leading zeros.
        if (name[0] is 'x' or 'f' && int.TryParse(name.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            && index < 32 && name.Length == 1 + index.ToString(CultureInfo.InvariantCulture).Length)
        {
            register = name[0] == 'x' ? HartRegister.X(index) : HartRegister.F(index);
            return true;
        }
        return false;
    }

    /// <summary>The psABI name, as objdump prints it (<c>a0</c>, <c>s0</c>, <c>fa0</c>).</summary>
    public static string Name(HartRegister register) => register.File switch
    {
        RegisterFile.Integer => Registers.X(register.Index),
        RegisterFile.Float => Registers.F(register.Index),
        _ => register.ToString(),
    };
}
