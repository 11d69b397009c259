using static ReplayVm.Debugger.Disassembly.Registers;
using static ReplayVm.Debugger.Disassembly.Text;

namespace ReplayVm.Debugger.Disassembly;

/// <summary>
/// The F and D extensions (unprivileged spec chapters 11 and 12). Only fmt S (00) and D (01) exist in RV64GC.
/// Rounding modes (spec 11.2, table "Rounding mode encoding"): objdump omits dyn (7), names 0-4 and prints
/// the reserved values 5 and 6 as "unknown".
/// </summary>
internal static class FloatDecoder
{
    private const int Dynamic = 7;
    private static readonly string[] RoundingNames = ["rne", "rtz", "rdn", "rup", "rmm", "unknown", "unknown"];

    /// <summary>Appends ",rm" to the operands unless rm is dyn.</summary>
    private static string WithRounding(string operands, int rm) =>
        rm == Dynamic ? operands : operands + "," + RoundingNames[rm];

    private static string? Suffix(int fmt) => fmt switch { 0 => ".s", 1 => ".d", _ => null };

    public static string? Load(Fields f) => f.Funct3 switch
    {
        2 => Insn("flw", F(f.Rd), Mem(f.ImmI, f.Rs1)),
        3 => Insn("fld", F(f.Rd), Mem(f.ImmI, f.Rs1)),
        _ => null,
    };

    public static string? Store(Fields f) => f.Funct3 switch
    {
        2 => Insn("fsw", F(f.Rs2), Mem(f.ImmS, f.Rs1)),
        3 => Insn("fsd", F(f.Rs2), Mem(f.ImmS, f.Rs1)),
        _ => null,
    };

    /// <summary>The R4-type fused multiply-adds (opcodes MADD, MSUB, NMSUB, NMADD).</summary>
    public static string? FusedMultiplyAdd(Fields f)
    {
        string? suffix = Suffix(f.Funct2);
        if (suffix is null) return null;
        string op = f.Opcode switch { 0x43 => "fmadd", 0x47 => "fmsub", 0x4B => "fnmsub", _ => "fnmadd" };
        string operands = string.Join(',', F(f.Rd), F(f.Rs1), F(f.Rs2), F(f.Rs3));
        return Insn(op + suffix, WithRounding(operands, f.Funct3));
    }

    public static string? OpFp(Fields f)
    {
        int fmt = f.Funct7 & 3;
        string? s = Suffix(fmt);
        if (s is null) return null;
        int rm = f.Funct3;
        string rd = F(f.Rd), rs1 = F(f.Rs1), rs2 = F(f.Rs2);

        switch (f.Funct7 >> 2)
        {
            case 0x00: return Arith("fadd");
            case 0x01: return Arith("fsub");
            case 0x02: return Arith("fmul");
            case 0x03: return Arith("fdiv");
            case 0x0B:
                return f.Rs2 == 0 ? Insn("fsqrt" + s, WithRounding(rd + "," + rs1, rm)) : null;
            case 0x04:
                return SignInjection(f, s, rd, rs1, rs2);
            case 0x05:
                return rm switch
                {
                    0 => Insn("fmin" + s, rd, rs1, rs2),
                    1 => Insn("fmax" + s, rd, rs1, rs2),
                    _ => null,
                };
            case 0x08:
                return ConvertBetweenFormats(f, fmt, rd, rs1, rm);
            case 0x14:
                string rdx = X(f.Rd);
                return rm switch
                {
                    0 => Insn("fle" + s, rdx, rs1, rs2),
                    1 => Insn("flt" + s, rdx, rs1, rs2),
                    2 => Insn("feq" + s, rdx, rs1, rs2),
                    _ => null,
                };
            case 0x18:
                string? toInt = IntegerSuffix(f.Rs2);
                return toInt is null ? null : Insn("fcvt" + toInt + s, WithRounding(X(f.Rd) + "," + rs1, rm));
            case 0x1A:
                return ConvertFromInteger(f, fmt, s, rd, rm);
            case 0x1C:
                if (f.Rs2 != 0) return null;
                return rm switch
                {
                    0 => Insn(fmt == 0 ? "fmv.x.w" : "fmv.x.d", X(f.Rd), rs1),
                    1 => Insn("fclass" + s, X(f.Rd), rs1),
                    _ => null,
                };
            case 0x1E:
                if (f.Rs2 != 0 || rm != 0) return null;
                return Insn(fmt == 0 ? "fmv.w.x" : "fmv.d.x", rd, X(f.Rs1));
            default:
                return null;
        }

        string Arith(string op) => Insn(op + s, WithRounding(string.Join(',', rd, rs1, rs2), rm));
    }

    /// <summary>fsgnj/fsgnjn/fsgnjx, shown as fmv/fneg/fabs when both sources are the same register (spec 11.6).</summary>
    private static string? SignInjection(Fields f, string s, string rd, string rs1, string rs2)
    {
        bool same = f.Rs1 == f.Rs2;
        return f.Funct3 switch
        {
            0 => same ? Insn("fmv" + s, rd, rs1) : Insn("fsgnj" + s, rd, rs1, rs2),
            1 => same ? Insn("fneg" + s, rd, rs1) : Insn("fsgnjn" + s, rd, rs1, rs2),
            2 => same ? Insn("fabs" + s, rd, rs1) : Insn("fsgnjx" + s, rd, rs1, rs2),
            _ => null,
        };
    }

    /// <summary>fcvt.s.d (rounds) and fcvt.d.s (exact: objdump only accepts rm = 000 and prints none).</summary>
    private static string? ConvertBetweenFormats(Fields f, int fmt, string rd, string rs1, int rm)
    {
        if (fmt == 0 && f.Rs2 == 1) return Insn("fcvt.s.d", WithRounding(rd + "," + rs1, rm));
        if (fmt == 1 && f.Rs2 == 0 && rm == 0) return Insn("fcvt.d.s", rd, rs1);
        return null;
    }

    /// <summary>fcvt.{s,d}.{w,wu,l,lu}; int32 to double is exact, so objdump only accepts rm = 000 there.</summary>
    private static string? ConvertFromInteger(Fields f, int fmt, string s, string rd, int rm)
    {
        string? from = IntegerSuffix(f.Rs2);
        if (from is null) return null;
        string mnemonic = "fcvt" + s + from;
        if (fmt == 1 && f.Rs2 < 2)
            return rm == 0 ? Insn(mnemonic, rd, X(f.Rs1)) : null;
        return Insn(mnemonic, WithRounding(rd + "," + X(f.Rs1), rm));
    }

    private static string? IntegerSuffix(int rs2) => rs2 switch
    {
        0 => ".w",
        1 => ".wu",
        2 => ".l",
        3 => ".lu",
        _ => null,
    };
}
