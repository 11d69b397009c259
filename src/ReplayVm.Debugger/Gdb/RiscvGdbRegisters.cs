using System.Globalization;
using System.Text;
using ReplayVm.Debugger.Disassembly;

namespace ReplayVm.Debugger.Gdb;

/// <summary>Which part of the hart a gdb register number refers to.</summary>
public enum GdbRegisterKind
{
    Integer,
    Pc,
    Float,
    Csr,
    Privilege,
}

/// <summary>One register as gdb numbers it: kind, index within the kind (x/f index or CSR number), size in bytes.</summary>
public readonly record struct GdbRegister(GdbRegisterKind Kind, int Index, int Bytes);

/// <summary>
/// gdb's own numbering of RISC-V registers (gdb/riscv-tdep.h): x0..x31 = 0..31, pc = 32, f0..f31 = 33..64,
/// CSR n = 65 + n (so fflags = 66, frm = 67, fcsr = 68) and the virtual "priv" register = 65 + 4096.
/// The target description gives each register this number explicitly (the <c>regnum</c> attribute), so
/// p/P packets, gdb's internal numbers and this map agree; the 'g' packet carries only 0..32 and gdb
/// fetches the rest one by one.
/// </summary>
public static class RiscvGdbRegisters
{
    public const int PcNumber = 32;
    public const int FirstFloatNumber = 33;
    public const int FirstCsrNumber = 65;
    public const int PrivilegeNumber = FirstCsrNumber + 4096;

    /// <summary>Registers in the 'g' packet: x0..x31 then pc.</summary>
    public const int GPacketRegisterCount = 33;

    /// <summary>
    /// The CSRs the description lists (privileged spec 1.12, section 2.2): the machine and supervisor
    /// trap set, address translation, and the counters. fflags/frm/fcsr live in the FPU feature instead.
    /// </summary>
    public static readonly int[] DescribedCsrs =
    [
        0x100, 0x104, 0x105, 0x106, 0x10A, 0x140, 0x141, 0x142, 0x143, 0x144, 0x180, // supervisor
        0x300, 0x301, 0x302, 0x303, 0x304, 0x305, 0x306, 0x30A, 0x340, 0x341, 0x342, 0x343, 0x344, // machine trap
        0x3A0, 0x3A2, 0x3B0, 0x3B1, 0x3B2, 0x3B3, // PMP (first entries)
        0xB00, 0xB02, 0xC00, 0xC01, 0xC02, // counters
        0xF11, 0xF12, 0xF13, 0xF14, // machine information
    ];

    /// <summary>Decodes a gdb register number; false for numbers outside the description.</summary>
    public static bool TryDescribe(int number, out GdbRegister register)
    {
        register = number switch
        {
            >= 0 and < 32 => new GdbRegister(GdbRegisterKind.Integer, number, 8),
            PcNumber => new GdbRegister(GdbRegisterKind.Pc, 0, 8),
            >= FirstFloatNumber and < FirstFloatNumber + 32 => new GdbRegister(GdbRegisterKind.Float, number - FirstFloatNumber, 8),
            >= FirstCsrNumber + 1 and <= FirstCsrNumber + 3 => new GdbRegister(GdbRegisterKind.Csr, number - FirstCsrNumber, 4),
            PrivilegeNumber => new GdbRegister(GdbRegisterKind.Privilege, 0, 8),
            _ when number > FirstCsrNumber + 3 && number < PrivilegeNumber
                && Array.IndexOf(DescribedCsrs, number - FirstCsrNumber) >= 0
                => new GdbRegister(GdbRegisterKind.Csr, number - FirstCsrNumber, 8),
            _ => default,
        };
        return register.Bytes != 0;
    }

    /// <summary>ABI names of x0..x31 (unprivileged spec, chapter 25 "RISC-V Assembly Programmer's Handbook").</summary>
    private static readonly string[] AbiNames =
    [
        "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "fp", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
        "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
    ];

    private static readonly string[] FloatAbiNames =
    [
        "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2", "fa3", "fa4", "fa5",
        "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
    ];

    private static readonly Lazy<byte[]> TargetXml = new(BuildTargetXml);

    /// <summary>The target description gdb reads through qXfer:features:read:target.xml (UTF-8/ASCII).</summary>
    public static ReadOnlySpan<byte> TargetDescription => TargetXml.Value;

    // Feature names are the ones riscv-tdep.c looks for; register names are gdb's preferred (ABI) names,
    // which it also accepts as x0/f0 aliases.
    private static byte[] BuildTargetXml()
    {
        var xml = new StringBuilder();
        xml.Append("<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n");
        xml.Append("<architecture>riscv:rv64</architecture>\n");

        xml.Append("<feature name=\"org.gnu.gdb.riscv.cpu\">\n");
        for (int i = 0; i < 32; i++)
        {
            string type = i switch { 1 => "code_ptr", 2 or 3 or 8 => "data_ptr", _ => "int" };
            Reg(xml, AbiNames[i], 64, type, i);
        }
        Reg(xml, "pc", 64, "code_ptr", PcNumber);
        xml.Append("</feature>\n");

        xml.Append("<feature name=\"org.gnu.gdb.riscv.fpu\">\n");
        xml.Append("<union id=\"riscv_double\"><field name=\"float\" type=\"ieee_single\"/><field name=\"double\" type=\"ieee_double\"/></union>\n");
        for (int i = 0; i < 32; i++) Reg(xml, FloatAbiNames[i], 64, "riscv_double", FirstFloatNumber + i);
        Reg(xml, "fflags", 32, "int", FirstCsrNumber + 1);
        Reg(xml, "frm", 32, "int", FirstCsrNumber + 2);
        Reg(xml, "fcsr", 32, "int", FirstCsrNumber + 3);
        xml.Append("</feature>\n");

        xml.Append("<feature name=\"org.gnu.gdb.riscv.csr\">\n");
        foreach (int csr in DescribedCsrs)
            Reg(xml, CsrNames.Format(csr), 64, "int", FirstCsrNumber + csr);
        xml.Append("</feature>\n");

        xml.Append("<feature name=\"org.gnu.gdb.riscv.virtual\">\n");
        Reg(xml, "priv", 64, "int", PrivilegeNumber);
        xml.Append("</feature>\n</target>\n");
        return Encoding.ASCII.GetBytes(xml.ToString());
    }

    private static void Reg(StringBuilder xml, string name, int bits, string type, int number) =>
        xml.Append(CultureInfo.InvariantCulture,
            $"<reg name=\"{name}\" bitsize=\"{bits}\" type=\"{type}\" regnum=\"{number}\"/>\n");
}
