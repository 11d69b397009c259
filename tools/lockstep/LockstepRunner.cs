using System.Text;
using ReplayVm.Core;
using ReplayVm.Core.Loading;
using ReplayVm.Debugger.Disassembly;

namespace ReplayVm.Lockstep;

/// <summary>
/// Steps ReplayVm one instruction at a time (<c>Machine.Run(1)</c>: one instruction retired or one
/// exception taken; an interrupt is taken together with the first instruction of its handler) next
/// to QEMU's single-step log and stops at the first state that differs. Both start at the reset
/// vector 0x1000, so the boot ROM is compared too.
/// </summary>
public sealed class LockstepRunner(LockstepOptions options, TextWriter output)
{
    /// <summary>CSRs QEMU 7.2 prints with <c>-d cpu</c>, by the name it prints them under.</summary>
    public static readonly IReadOnlyDictionary<string, uint> CsrNumbers = new Dictionary<string, uint>
    {
        ["mhartid"] = 0xf14, ["mstatus"] = 0x300, ["mip"] = 0x344, ["mie"] = 0x304, ["mideleg"] = 0x303,
        ["medeleg"] = 0x302, ["mtvec"] = 0x305, ["stvec"] = 0x105, ["mepc"] = 0x341, ["sepc"] = 0x141,
        ["mcause"] = 0x342, ["scause"] = 0x142, ["mtval"] = 0x343, ["stval"] = 0x143,
        ["mscratch"] = 0x340, ["sscratch"] = 0x140, ["satp"] = 0x180,
    };

    private const uint Mcause = 0x342, Scause = 0x142, Mepc = 0x341, Sepc = 0x141;
    private const ulong InterruptBit = 1UL << 63;

    private readonly Queue<(ulong Step, ulong Pc)> _recent = new();
    private readonly KnownQemuDeviations _deviations = new(options.AllowKnownQemuDeviations);
    private readonly QemuTimerModel _timer = new();

    /// <summary>WFI skips where ReplayVm's clock was moved on to QEMU's later timer deadline.</summary>
    public ulong IdleSkipsFollowed { get; private set; }
    private IReadOnlyList<ElfImage> _symbols = [];

    /// <summary>Steps at which both took the same interrupt (for the summary).</summary>
    public ulong InterruptsMatched { get; private set; }

    /// <returns>0 if the runs agree to the end (or to --max), 1 at the first divergence.</returns>
    public int Run(QemuCpuLog qemu, byte[]? qemuDeviceTree = null)
    {
        _symbols = GuestSetup.SymbolImages(options);
        var machine = GuestSetup.CreateMachine(options, qemuDeviceTree);

        ulong step = 0;
        RunResult? last = null;
        QemuCpuState? previous = null;
        var expected = qemu.Next();
        while (true)
        {
            QemuCpuState? interruptEntry = null;
            bool oursTookInterrupt = false;
            if (step > 0)
            {
                // Step ReplayVm once. QEMU takes an interrupt between blocks and logs no state after
                // the interrupted instruction, only the one after trap entry (before the handler's first
                // instruction); ReplayVm's Run(1) after that instruction takes the interrupt and runs
                // the handler's first instruction. So: run the instruction, check the registers (trap
                // entry changes none) against QEMU's entry state, then run once more and compare with
                // QEMU's state after the handler's first instruction.
                if (expected?.InterruptCause != null)
                {
                    interruptEntry = expected;
                    Remember(step - 1, machine.Hart.Pc);
                    var beforeInterrupted = TrapSnapshot.Of(machine);
                    last = Step(machine);
                    if (beforeInterrupted.InterruptTakenSince(machine))
                    {
                        output.WriteLine($"lockstep: divergence at step {step}: ReplayVm took an interrupt one instruction before QEMU");
                        ExplainExtraInterrupt(step, machine, qemu);
                        ReportHistory(machine);
                        return 1;
                    }
                    var registerDiffs = Compare(expected, machine, registersOnly: true);
                    if (registerDiffs.Count > 0)
                    {
                        ReportDivergence(step, expected, machine, registerDiffs, null, false, qemu);
                        return 1;
                    }
                    step++;
                    expected = qemu.Next();
                }
                Remember(step - 1, machine.Hart.Pc);
                var before = TrapSnapshot.Of(machine);
                last = Step(machine);
                oursTookInterrupt = before.InterruptTakenSince(machine);
                if (options.ProgressEvery != 0 && step % options.ProgressEvery == 0)
                    Console.Error.WriteLine($"lockstep: {step} steps equal, pc 0x{machine.Hart.Pc:x}");
                if (last is { Reason: StopReason.TrapLoop } stuck)
                {
                    output.WriteLine($"lockstep: ReplayVm stopped after {step} steps: {stuck.Reason} {stuck.Detail}");
                    ReportHistory(machine);
                    return 1;
                }
            }

            if (last is { Reason: StopReason.GuestExit } && previous != null && expected != null && expected.SameStateAs(previous))
                expected = qemu.Next(); // the exiting MMIO store, logged again by cpu_io_recompile before QEMU exits
            if (expected == null)
            {
                if (last is { Reason: StopReason.GuestExit } r)
                {
                    output.WriteLine($"lockstep: equal for all {step} steps ({InterruptsMatched} interrupts); guest exited with {r.ExitCode} on both");
                    return 0;
                }
                output.WriteLine($"lockstep: QEMU's log ended after {step} steps but ReplayVm's guest is still running ({last?.Reason})");
                ReportHistory(machine);
                return 1;
            }
            if (last is { Reason: StopReason.GuestExit })
            {
                output.WriteLine($"lockstep: ReplayVm's guest exited after {step} steps but QEMU went on to pc 0x{expected.Pc:x16}");
                ReportHistory(machine);
                return 1;
            }

            _deviations.Apply(expected, machine, _recent.Count > 0 ? _recent.Last().Pc : null);
            var differences = Compare(expected, machine);
            // Under -icount an instruction that touches MMIO is translated again as the last of its
            // block and re-executed (QEMU's cpu_io_recompile), so QEMU logs the same state twice.
            while (differences.Count > 0 && previous != null && expected.SameStateAs(previous) && qemu.Next() is { } retried)
            {
                expected = retried;
                if (retried.InterruptCause != null && interruptEntry == null)
                {
                    // The re-executed MMIO instruction raised an interrupt (a device register write
                    // that signals the PLIC or CLINT): QEMU logs the trap entry next. Trap entry
                    // changes no register, so compare those now; ReplayVm's next Run(1) takes the
                    // interrupt and runs the handler's first instruction, as at the top of the loop.
                    interruptEntry = retried;
                    differences = Compare(expected, machine, registersOnly: true);
                    break;
                }
                differences = Compare(expected, machine);
            }
            // QEMU raises a fetch fault while translating the next block, and an execute trigger's
            // breakpoint before running it, so it logs no state at the faulting pc: the instruction
            // before and the trap entry appear as one step. ReplayVm takes two.
            if (differences.Count > 0 && IsMergedFetchFault(expected, machine))
            {
                Remember(step, machine.Hart.Pc);
                last = Step(machine);
                step++;
                differences = Compare(expected, machine);
            }
            if (differences.Count > 0)
            {
                ReportDivergence(step, expected, machine, differences, interruptEntry, oursTookInterrupt, qemu);
                return 1;
            }
            if (interruptEntry != null) InterruptsMatched++;
            if (step >= options.MaxSteps)
            {
                output.WriteLine($"lockstep: equal for {step} steps ({InterruptsMatched} interrupts; --max reached)");
                return 0;
            }
            previous = expected;
            expected = qemu.Next();
            step++;
        }
    }

    /// <summary>One ReplayVm step, tracking mtimecmp writes so QEMU's timer deadline is known.</summary>
    private RunResult Step(Machine machine)
    {
        ulong nanoseconds = machine.Hart.Clock.Nanoseconds, idle = machine.Hart.Clock.IdleNanoseconds;
        var result = machine.Run(1);
        _timer.Observe(machine, nanoseconds);
        if (options.AllowKnownQemuDeviations && _timer.FollowIdleSkip(machine, idle)) IdleSkipsFollowed++;
        return result;
    }

    /// <summary>QEMU shows the entry of an instruction access or page fault, or of a breakpoint raised by
    /// an execute trigger (privileged spec table 3.6: causes 1, 12, 3), at ReplayVm's pc. (An EBREAK at
    /// ReplayVm's pc cannot be mistaken for it: QEMU logs the state before an EBREAK at that pc.)</summary>
    private static bool IsMergedFetchFault(QemuCpuState expected, Machine machine)
    {
        ulong pc = machine.Hart.Pc;
        bool Matches(string cause, string epc) =>
            expected.Csrs.TryGetValue(cause, out var c) && c is 1 or 3 or 12 && expected.Csrs.TryGetValue(epc, out var e) && e == pc;
        return expected.Pc != pc && (Matches("mcause", "mepc") || Matches("scause", "sepc"));
    }

    /// <summary>
    /// Latches the devices' interrupt lines into the hart now, as <c>Machine.Run</c> does before every
    /// step anyway: QEMU's mip shows a line the moment a device raises it (e.g. a store to msip),
    /// ReplayVm's only from the next step.
    /// </summary>
    private static void RefreshInterruptLines(Machine machine)
    {
        ulong lines = 0;
        if (machine.Clint.SoftwareInterrupt) lines |= 1UL << 3;
        if (machine.Clint.TimerInterrupt) lines |= 1UL << 7;
        machine.Hart.InterruptLines = lines | machine.Peripherals.ExternalInterruptLines;
    }

    private List<string> Compare(QemuCpuState expected, Machine machine, bool registersOnly = false)
    {
        var hart = machine.Hart;
        RefreshInterruptLines(machine);
        var diffs = new List<string>();
        if (expected.Pc != hart.Pc && !registersOnly) diffs.Add($"pc       qemu 0x{expected.Pc:x16}  replayvm 0x{hart.Pc:x16}");
        for (int r = 1; r < 32; r++)
        {
            if (options.IgnoredRegisters.Contains(r)) continue;
            ulong ours = hart.GetX(r);
            if (expected.X[r] != ours)
                diffs.Add($"{RegisterName(r),-8} qemu 0x{expected.X[r]:x16}  replayvm 0x{ours:x16}");
        }
        if (expected.F is { } f)
        {
            for (int r = 0; r < 32; r++)
            {
                if (options.IgnoredRegisters.Contains(32 + r)) continue;
                ulong ours = hart.GetF(r);
                if (f[r] != ours) diffs.Add($"f{r,-7} qemu 0x{f[r]:x16}  replayvm 0x{ours:x16}");
            }
        }
        foreach (var (name, theirs) in registersOnly ? [] : expected.Csrs)
        {
            if (options.IgnoredCsrs.Contains(name) || !CsrNumbers.TryGetValue(name, out var number)) continue;
            ulong ours = hart.ReadCsr(number);
            if (theirs != ours && !_deviations.Excuses(name, theirs, ours, machine))
                diffs.Add($"{name,-8} qemu 0x{theirs:x16}  replayvm 0x{ours:x16}");
        }
        return diffs;
    }

    private void ReportDivergence(ulong step, QemuCpuState expected, Machine machine, List<string> differences,
        QemuCpuState? qemuInterrupt, bool oursTookInterrupt, QemuCpuLog qemu)
    {
        var s = new StringBuilder();
        if (_recent.Count == 0)
        {
            s.AppendLine("lockstep: the initial states differ (before the first instruction)");
        }
        else
        {
            var (_, pc) = _recent.Last();
            s.AppendLine($"lockstep: divergence after step {step}, executing the instruction at 0x{pc:x16} ({machine.Hart.Mode} mode now):");
            s.AppendLine($"  {Describe(machine, pc)}");
        }
        s.AppendLine("differs (state after it):");
        foreach (var d in differences) s.AppendLine("  " + d);
        foreach (var hint in KnownCauses(expected, machine)) s.AppendLine("note: " + hint);
        s.AppendLine("ReplayVm registers now:");
        for (int r = 1; r < 32; r++)
            s.Append($"  {RegisterName(r),-8} 0x{machine.Hart.GetX(r):x16}").Append(r % 4 == 3 ? "\n" : "");
        s.AppendLine();
        output.Write(s.ToString());
        if (qemuInterrupt != null && !oursTookInterrupt) ExplainMissedInterrupt(step, qemuInterrupt, machine);
        else if (oursTookInterrupt && qemuInterrupt == null) ExplainExtraInterrupt(step, machine, qemu);
        ReportHistory(machine);
    }

    /// <summary>QEMU took an interrupt ReplayVm did not: run ReplayVm on to see how many steps later it takes one.</summary>
    private void ExplainMissedInterrupt(ulong step, QemuCpuState entry, Machine machine)
    {
        var hart = machine.Hart;
        output.WriteLine($"note: QEMU took interrupt {entry.InterruptCause} before step {step}; ReplayVm did not " +
                         $"(its mip 0x{hart.Mip:x}, mie 0x{hart.ReadCsr(0x304):x}, mstatus 0x{hart.ReadCsr(0x300):x}, " +
                         $"mtime {machine.Hart.Clock.Ticks}, mtimecmp {machine.Clint.Mtimecmp}, steps {hart.Steps})");
        for (ulong extra = 1; extra <= 1_000_000; extra++)
        {
            var before = TrapSnapshot.Of(machine);
            if (machine.Run(1).Reason != StopReason.InstructionLimit) break;
            if (before.InterruptTakenSince(machine))
            {
                output.WriteLine($"note: ReplayVm takes interrupt 0x{Cause(machine) & ~InterruptBit:x} {extra} steps later (at its step {step + extra - 1}), mtime then {machine.Hart.Clock.Ticks}");
                return;
            }
        }
        output.WriteLine("note: ReplayVm takes no interrupt within the next 1000000 steps");
    }

    /// <summary>ReplayVm took an interrupt QEMU did not: read QEMU's log on to see how many steps later it takes one.</summary>
    private void ExplainExtraInterrupt(ulong step, Machine machine, QemuCpuLog qemu)
    {
        output.WriteLine($"note: ReplayVm took interrupt 0x{Cause(machine) & ~InterruptBit:x} at step {step} (mtime {machine.Hart.Clock.Ticks}, mtimecmp {machine.Clint.Mtimecmp}); QEMU did not");
        for (ulong extra = 1; extra <= 1_000_000 && qemu.Next() is { } state; extra++)
        {
            if (state.InterruptCause is { } cause)
            {
                output.WriteLine($"note: QEMU takes interrupt {cause} {extra} steps later");
                return;
            }
        }
        output.WriteLine("note: QEMU takes no interrupt within the next 1000000 steps");
    }

    private static ulong Cause(Machine machine) =>
        (machine.Hart.ReadCsr(Mcause) & InterruptBit) != 0 && machine.Hart.Mode == Core.Hart.PrivilegeLevel.Machine
            ? machine.Hart.ReadCsr(Mcause) : machine.Hart.ReadCsr(Scause);

    /// <summary>Differences already understood, so that a reader does not chase them again.</summary>
    private IEnumerable<string> KnownCauses(QemuCpuState expected, Machine machine)
    {
        if (KnownQemuDeviations.IsMisalignedAmoCause(expected, machine))
            yield return "QEMU 7.2 reports a misaligned AMO as cause 4 (load misaligned); the ISA says 6 (store/AMO misaligned). " +
                         "--allow-known-qemu-deviations follows QEMU's value.";
        if (!options.UseQemuDeviceTree && _recent.Count > 0 && LastWasDeviceTreeLoad(machine))
            yield return "a firmware that parses the device tree diverges where ReplayVm's tree differs from QEMU's; " +
                         "--qemu-dtb loads QEMU's tree into ReplayVm to compare past it.";
        if (expected.Csrs.TryGetValue("mip", out var mip) && KnownQemuDeviations.IsResetTimerPending(mip, machine.Hart.Mip, machine))
            yield return "QEMU's CLINT resets mtimecmp to 0 (MTIP pending from reset); ReplayVm's to all-ones. " +
                         "--allow-known-qemu-deviations excuses MTIP until mtimecmp is first written.";
        if (_timer.Deadline is { } deadline)
            yield return $"ReplayVm is at {machine.Hart.Clock.Nanoseconds} ns (mtime {machine.Hart.Clock.Ticks}, mtimecmp {machine.Clint.Mtimecmp}). " +
                         $"QEMU 7.2 fires that mtimecmp at {deadline} ns, {_timer.Lateness(machine)} ns after mtime reaches it " +
                         "(it arms the timer at write time + whole ticks); ReplayVm fires at the tick boundary, so QEMU's timer interrupt " +
                         "comes up to 99 instructions later and a WFI leaves QEMU's clock that much ahead" +
                         (options.AllowKnownQemuDeviations ? $" (WFI skips followed so far: {IdleSkipsFollowed})." : "; --allow-known-qemu-deviations follows it across WFI.");
        if (_recent.Count > 0 && machine.Bus.Read(_recent.Last().Pc, 4, out var insn)
            && (insn & 0x7f) == 0x73 && ((insn >> 12) & 7) != 0 && (insn >> 20) is 0xc00 or 0xc02 or 0xb00 or 0xb02)
            yield return $"cycle/instret: with -icount QEMU 7.2 reads them from the virtual clock in ns (icount_get), WFI-skipped time included; " +
                         $"ReplayVm is at {machine.Hart.Steps} steps, {machine.Hart.ExceptionsTaken} exceptions, {machine.Hart.Clock.IdleNanoseconds} idle ns. " +
                         $"--ignore x{(insn >> 7) & 31} if the guest only prints it.";
    }

    /// <summary>Whether the last instruction was a load (opcode LOAD, or C.LW/C.LD) from where the device tree lies.</summary>
    private bool LastWasDeviceTreeLoad(Machine machine)
    {
        var tree = Core.Board.VirtDeviceTree.Placement(machine.Ram.Base, machine.Ram.Size, Core.Board.VirtDeviceTree.BlobSize);
        if (tree is not { } start || !machine.Bus.Read(_recent.Last().Pc, 4, out var insn)) return false;
        if ((insn & 0x7f) != 0x03 && (insn & 0xe003) is not (0x4000 or 0x6000)) return false;
        // Approximate: any register pointing into the tree's 1 MiB window (rs1 of the load is not re-decoded here).
        for (int r = 1; r < 32; r++)
            if (machine.Hart.GetX(r) - start < (1UL << 20)) return true;
        return false;
    }

    private void ReportHistory(Machine machine)
    {
        if (_recent.Count == 0) return;
        output.WriteLine("recent steps (oldest first):");
        foreach (var (step, pc) in _recent)
            output.WriteLine($"  #{step,-10} {Describe(machine, pc)}");
    }

    private void Remember(ulong step, ulong pc)
    {
        _recent.Enqueue((step, pc));
        while (_recent.Count > options.History) _recent.Dequeue();
    }

    private string? SymbolAt(ulong address)
    {
        foreach (var image in _symbols)
            if (image.SymbolAt(address) is { } name) return name;
        return null;
    }

    /// <summary>The instruction at <paramref name="pc"/>, read physically (with paging on, a virtual pc reads whatever RAM sits there).</summary>
    private string Describe(Machine machine, ulong pc)
    {
        var symbol = SymbolAt(pc) is { } name ? $" <{name}>" : "";
        if (!machine.Bus.Read(pc, 2, out var low)) return $"0x{pc:x16}{symbol}: <not readable physically>";
        uint insn = (uint)low;
        bool wide = RiscvDisassembler.Length((ushort)low) == 4;
        if (wide && machine.Bus.Read(pc + 2, 2, out var high)) insn |= (uint)high << 16;
        string hex = wide ? insn.ToString("x8") : "    " + insn.ToString("x4");
        return $"0x{pc:x16}{symbol}: {hex}  {RiscvDisassembler.Disassemble(insn, pc, SymbolAt)}";
    }

    private static readonly string[] AbiNames =
    [
        "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
        "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
    ];

    public static string RegisterName(int r) => $"x{r}/{AbiNames[r]}";

    /// <summary>Accepts "x11", "11", "a1", or "f3" (FP registers are numbered 32..63 in the ignore set).</summary>
    public static int ParseRegister(string text)
    {
        var t = text.Trim().ToLowerInvariant();
        if (t.StartsWith('x') && int.TryParse(t.AsSpan(1), out int n) && n is >= 0 and < 32) return n;
        if (t.StartsWith('f') && int.TryParse(t.AsSpan(1), out n) && n is >= 0 and < 32) return 32 + n;
        if (int.TryParse(t, out n) && n is >= 0 and < 32) return n;
        int i = Array.IndexOf(AbiNames, t == "fp" ? "s0" : t);
        return i >= 0 ? i : throw new LockstepException($"unknown register '{text}'");
    }

    /// <summary>The trap CSRs before a step, to tell afterwards whether the step began with an interrupt.</summary>
    private readonly record struct TrapSnapshot(ulong Pc, ulong Mcause, ulong Mepc, ulong Scause, ulong Sepc)
    {
        public static TrapSnapshot Of(Machine m) =>
            new(m.Hart.Pc, m.Hart.ReadCsr(LockstepRunner.Mcause), m.Hart.ReadCsr(LockstepRunner.Mepc),
                m.Hart.ReadCsr(LockstepRunner.Scause), m.Hart.ReadCsr(LockstepRunner.Sepc));

        /// <summary>An interrupt entry writes xcause with the interrupt bit and xepc = the interrupted pc.</summary>
        public bool InterruptTakenSince(Machine m)
        {
            ulong mc = m.Hart.ReadCsr(LockstepRunner.Mcause), me = m.Hart.ReadCsr(LockstepRunner.Mepc);
            ulong sc = m.Hart.ReadCsr(LockstepRunner.Scause), se = m.Hart.ReadCsr(LockstepRunner.Sepc);
            bool machine = (mc & InterruptBit) != 0 && me == Pc && (mc != Mcause || me != Mepc);
            bool supervisor = (sc & InterruptBit) != 0 && se == Pc && (sc != Scause || se != Sepc);
            return machine || supervisor;
        }
    }
}
