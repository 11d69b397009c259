using System.Globalization;

namespace ReplayVm.Debugger.Disassembly;

/// <summary>
/// CSR number to name, as GNU objdump 2.40 names them (privileged spec 1.12, section 2.2 "CSR Listing",
/// plus the vector, entropy-source, Smstateen, Sstc, AIA and debug/trigger CSRs binutils knows).
/// Unnamed numbers print as hex ("0x7c0").
/// </summary>
public static class CsrNames
{
    private static readonly Dictionary<int, string> Names = Build();

    /// <summary>The CSR's name, or null if it has none.</summary>
    public static string? Lookup(int csr) => Names.GetValueOrDefault(csr);

    /// <summary>The CSR's name, or its number as objdump prints unnamed CSRs ("0x7c0").</summary>
    public static string Format(int csr) =>
        Lookup(csr) ?? "0x" + csr.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>All named CSRs, by number.</summary>
    public static IReadOnlyDictionary<int, string> All => Names;

    private static Dictionary<int, string> Build()
    {
        var t = new Dictionary<int, string>();

        void Add(int number, string name) => t.Add(number, name);

        // A numbered family: prefix{first..last}{suffix} at consecutive numbers from `baseNumber`.
        void Family(int baseNumber, string prefix, int first, int last, string suffix = "")
        {
            for (int i = first; i <= last; i++)
                t.Add(baseNumber + i - first, prefix + i.ToString(CultureInfo.InvariantCulture) + suffix);
        }

        // Unprivileged: floating point (F), vector, entropy source (Zkr).
        Add(0x001, "fflags"); Add(0x002, "frm"); Add(0x003, "fcsr");
        Add(0x008, "vstart"); Add(0x009, "vxsat"); Add(0x00A, "vxrm"); Add(0x00F, "vcsr");
        Add(0x015, "seed");

        // Supervisor.
        Add(0x100, "sstatus"); Add(0x104, "sie"); Add(0x105, "stvec"); Add(0x106, "scounteren");
        Add(0x10A, "senvcfg");
        Family(0x10C, "sstateen", 0, 3);
        Add(0x114, "sieh");
        Add(0x140, "sscratch"); Add(0x141, "sepc"); Add(0x142, "scause"); Add(0x143, "stval"); Add(0x144, "sip");
        Add(0x14D, "stimecmp");
        Add(0x150, "siselect"); Add(0x151, "sireg"); Add(0x154, "siph"); Add(0x15C, "stopei");
        Add(0x15D, "stimecmph");
        Add(0x180, "satp");
        Add(0x5A8, "scontext");
        Add(0xDA0, "scountovf"); Add(0xDB0, "stopi");

        // Virtual supervisor (hypervisor extension).
        Add(0x200, "vsstatus"); Add(0x204, "vsie"); Add(0x205, "vstvec"); Add(0x214, "vsieh");
        Add(0x240, "vsscratch"); Add(0x241, "vsepc"); Add(0x242, "vscause"); Add(0x243, "vstval"); Add(0x244, "vsip");
        Add(0x24D, "vstimecmp");
        Add(0x250, "vsiselect"); Add(0x251, "vsireg"); Add(0x254, "vsiph"); Add(0x25C, "vstopei");
        Add(0x25D, "vstimecmph");
        Add(0x280, "vsatp");
        Add(0xEB0, "vstopi");

        // Hypervisor.
        Add(0x600, "hstatus"); Add(0x602, "hedeleg"); Add(0x603, "hideleg"); Add(0x604, "hie");
        Add(0x605, "htimedelta"); Add(0x606, "hcounteren"); Add(0x607, "hgeie"); Add(0x608, "hvien");
        Add(0x609, "hvictl"); Add(0x60A, "henvcfg");
        Family(0x60C, "hstateen", 0, 3);
        Add(0x613, "hidelegh"); Add(0x615, "htimedeltah"); Add(0x618, "hvienh"); Add(0x61A, "henvcfgh");
        Family(0x61C, "hstateen", 0, 3, "h");
        Add(0x643, "htval"); Add(0x644, "hip"); Add(0x645, "hvip"); Add(0x646, "hviprio1"); Add(0x647, "hviprio2");
        Add(0x64A, "htinst");
        Add(0x655, "hviph"); Add(0x656, "hviprio1h"); Add(0x657, "hviprio2h");
        Add(0x680, "hgatp"); Add(0x6A8, "hcontext");
        Add(0xE12, "hgeip");

        // Machine: trap setup and handling.
        Add(0x300, "mstatus"); Add(0x301, "misa"); Add(0x302, "medeleg"); Add(0x303, "mideleg");
        Add(0x304, "mie"); Add(0x305, "mtvec"); Add(0x306, "mcounteren"); Add(0x308, "mvien");
        Add(0x309, "mvip"); Add(0x30A, "menvcfg");
        Family(0x30C, "mstateen", 0, 3);
        Add(0x310, "mstatush"); Add(0x313, "midelegh"); Add(0x314, "mieh"); Add(0x318, "mvienh");
        Add(0x319, "mviph"); Add(0x31A, "menvcfgh");
        Family(0x31C, "mstateen", 0, 3, "h");
        Add(0x320, "mcountinhibit");
        Family(0x323, "mhpmevent", 3, 31);
        Add(0x340, "mscratch"); Add(0x341, "mepc"); Add(0x342, "mcause"); Add(0x343, "mtval"); Add(0x344, "mip");
        Add(0x34A, "mtinst"); Add(0x34B, "mtval2");
        Add(0x350, "miselect"); Add(0x351, "mireg"); Add(0x354, "miph"); Add(0x35C, "mtopei");
        Add(0xFB0, "mtopi");

        // Machine: memory protection.
        Family(0x3A0, "pmpcfg", 0, 15);
        Family(0x3B0, "pmpaddr", 0, 63);
        Family(0x723, "mhpmevent", 3, 31, "h");
        Add(0x747, "mseccfg"); Add(0x757, "mseccfgh");

        // Debug / trigger module.
        Add(0x7A0, "tselect"); Add(0x7A1, "tdata1"); Add(0x7A2, "tdata2"); Add(0x7A3, "tdata3");
        Add(0x7A4, "tinfo"); Add(0x7A5, "tcontrol"); Add(0x7A8, "mcontext"); Add(0x7AA, "mscontext");
        Add(0x7B0, "dcsr"); Add(0x7B1, "dpc"); Add(0x7B2, "dscratch0"); Add(0x7B3, "dscratch1");

        // Machine counters and their RV32 high halves.
        Add(0xB00, "mcycle"); Add(0xB02, "minstret");
        Family(0xB03, "mhpmcounter", 3, 31);
        Add(0xB80, "mcycleh"); Add(0xB82, "minstreth");
        Family(0xB83, "mhpmcounter", 3, 31, "h");

        // Unprivileged counters/timers, vector length state, and their RV32 high halves.
        Add(0xC00, "cycle"); Add(0xC01, "time"); Add(0xC02, "instret");
        Family(0xC03, "hpmcounter", 3, 31);
        Add(0xC20, "vl"); Add(0xC21, "vtype"); Add(0xC22, "vlenb");
        Add(0xC80, "cycleh"); Add(0xC81, "timeh"); Add(0xC82, "instreth");
        Family(0xC83, "hpmcounter", 3, 31, "h");

        // Machine information registers.
        Add(0xF11, "mvendorid"); Add(0xF12, "marchid"); Add(0xF13, "mimpid"); Add(0xF14, "mhartid");
        Add(0xF15, "mconfigptr");

        return t;
    }
}
