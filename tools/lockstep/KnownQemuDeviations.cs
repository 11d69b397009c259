using ReplayVm.Core;

namespace ReplayVm.Lockstep;

/// <summary>
/// Places where QEMU 7.2 departs from the RISC-V spec and ReplayVm follows the spec. With
/// --allow-known-qemu-deviations the runner excuses them narrowly instead of stopping:
/// <list type="bullet">
/// <item>Misaligned AMO: QEMU raises cause 4 (load address misaligned); the unprivileged spec
/// (ch. 8.4, "A" extension) and privileged spec table 3.6 make it cause 6 (store/AMO address
/// misaligned). The mcause/scause difference is excused while it lasts, and a guest's
/// <c>csrr rd, mcause</c> of it takes QEMU's value, so the guest goes on as under QEMU.</item>
/// <item>Timer reset value (a board difference, not a spec one): QEMU's CLINT resets mtimecmp to 0,
/// so mip.MTIP reads 1 from reset until firmware first writes mtimecmp; ReplayVm resets it to
/// all-ones (no timer pending). The spec leaves the reset value open (privileged spec 3.2.1), and
/// nothing reads MTIP before writing mtimecmp, so only mip's MTIP bit is excused, and only while
/// ReplayVm's mtimecmp still holds its reset value.</item>
/// <item>Counters: under <c>-icount</c> QEMU 7.2 reads cycle, instret, mcycle and minstret from the
/// virtual clock in nanoseconds (icount_get), so they include time a WFI skipped and exclude most
/// faulting instructions; ReplayVm's count retired instructions (privileged spec 3.1.11 leaves the
/// cycle rate to the platform; instret must not count WFI sleep). A guest's read of one takes QEMU's
/// value.</item>
/// </list>
/// </summary>
public sealed class KnownQemuDeviations(bool allowed)
{
    private const uint LoadMisaligned = 4, StoreAmoMisaligned = 6;
    private bool _amoCauseActive;

    public static bool IsMisalignedAmoCause(QemuCpuState expected, Machine machine) =>
        Differs(expected, machine, "mcause", 0x342) || Differs(expected, machine, "scause", 0x142);

    private static bool Differs(QemuCpuState expected, Machine machine, string name, uint csr) =>
        expected.Csrs.TryGetValue(name, out var theirs) && theirs == LoadMisaligned && machine.Hart.ReadCsr(csr) == StoreAmoMisaligned;

    /// <summary>Before comparing a state: follow QEMU where an excused deviation flowed into a register.</summary>
    public void Apply(QemuCpuState expected, Machine machine, ulong? lastPc)
    {
        if (!allowed) return;
        _amoCauseActive = IsMisalignedAmoCause(expected, machine);
        if (lastPc is not { } pc || !machine.Bus.Read(pc, 4, out var insn)) return;
        // A CSR read (csrrw/csrrs/csrrc, Zicsr ch. 9.1) of an excused value: copy QEMU's value into rd.
        if ((insn & 0x7f) != 0x73 || ((insn >> 12) & 7) is not (1 or 2 or 3)) return;
        uint csr = (uint)(insn >> 20);
        int rd = (int)((insn >> 7) & 31);
        if (rd == 0) return;
        ulong ours = machine.Hart.GetX(rd), theirs = expected.X[rd];
        bool excused = csr switch
        {
            0x342 or 0x142 => _amoCauseActive && ours == StoreAmoMisaligned && theirs == LoadMisaligned,
            0x344 => IsResetTimerPending(theirs, ours, machine),
            0xc00 or 0xc02 or 0xb00 or 0xb02 => true,
            _ => false,
        };
        if (excused) machine.Hart.SetX(rd, theirs);
    }

    public bool Excuses(string csrName, ulong theirs, ulong ours, Machine machine) =>
        allowed && (csrName switch
        {
            "mcause" or "scause" => _amoCauseActive && theirs == LoadMisaligned && ours == StoreAmoMisaligned,
            "mip" => IsResetTimerPending(theirs, ours, machine),
            _ => false,
        });

    public static bool IsResetTimerPending(ulong theirs, ulong ours, Machine machine) =>
        (theirs ^ ours) == MachineTimerPending && machine.Clint.Mtimecmp == ulong.MaxValue;

    private const ulong MachineTimerPending = 1UL << 7;
}
