using System.Text;
using ReplayVm.Core;
using ReplayVm.Core.Input;
using ReplayVm.Core.Loading;
using ReplayVm.Debugger.Disassembly;

namespace ReplayVm.Lockstep;

/// <summary>What to compare and for how long.</summary>
public sealed record LockstepOptions(string ElfPath, ulong MaxSteps, IReadOnlySet<int> IgnoredRegisters, int History);

/// <summary>
/// Steps ReplayVm one instruction at a time (<c>Machine.Run(1)</c>: one instruction retired or one
/// trap taken) next to QEMU's single-step log and stops at the first state that differs.
/// Both start at the reset vector 0x1000, so the boot ROM is compared too.
/// </summary>
public sealed class LockstepRunner(LockstepOptions options, TextWriter output)
{
    /// <summary>CSRs QEMU prints that ReplayVm must agree on; mip is left out (QEMU's timer follows the host clock).</summary>
    private static readonly (string Name, uint Number)[] ComparedCsrs =
        [("mstatus", 0x300), ("mepc", 0x341), ("mcause", 0x342), ("mtval", 0x343), ("mtvec", 0x305), ("mscratch", 0x340)];

    private readonly Queue<(ulong Step, ulong Pc)> _recent = new();

    /// <returns>0 if the runs agree to the end (or to --max), 1 at the first divergence.</returns>
    public int Run(QemuCpuLog qemu)
    {
        var image = ElfImage.Parse(File.ReadAllBytes(options.ElfPath));
        var machine = new Machine(new MachineConfig(), NoInput.Instance, _ => { });
        machine.LoadElf(image);

        ulong step = 0;
        RunResult? last = null;
        while (true)
        {
            var expected = qemu.Next();
            if (expected == null)
            {
                if (last is { Reason: StopReason.GuestExit } r)
                {
                    output.WriteLine($"lockstep: equal for all {step} steps; guest exited with {r.ExitCode} on both");
                    return 0;
                }
                output.WriteLine($"lockstep: QEMU's log ended after {step} steps but ReplayVm's guest is still running ({last?.Reason})");
                ReportHistory(machine, image);
                return 1;
            }
            if (last is { Reason: StopReason.GuestExit })
            {
                output.WriteLine($"lockstep: ReplayVm's guest exited after {step} steps but QEMU went on to pc 0x{expected.Pc:x16}");
                ReportHistory(machine, image);
                return 1;
            }

            var differences = Compare(expected, machine);
            if (differences.Count > 0)
            {
                ReportDivergence(step, expected, machine, image, differences);
                return 1;
            }
            if (step >= options.MaxSteps)
            {
                output.WriteLine($"lockstep: equal for {step} steps (--max reached)");
                return 0;
            }

            Remember(step, machine.Hart.Pc);
            last = machine.Run(1);
            step++;
            if (last is { Reason: StopReason.TrapLoop } stuck)
            {
                output.WriteLine($"lockstep: ReplayVm stopped after {step} steps: {stuck.Reason} {stuck.Detail}");
                ReportHistory(machine, image);
                return 1;
            }
        }
    }

    private List<string> Compare(QemuCpuState expected, Machine machine)
    {
        var hart = machine.Hart;
        var diffs = new List<string>();
        if (expected.Pc != hart.Pc) diffs.Add($"pc       qemu 0x{expected.Pc:x16}  replayvm 0x{hart.Pc:x16}");
        for (int r = 1; r < 32; r++)
        {
            if (options.IgnoredRegisters.Contains(r)) continue;
            ulong ours = hart.GetX(r);
            if (expected.X[r] != ours)
                diffs.Add($"{RegisterName(r),-8} qemu 0x{expected.X[r]:x16}  replayvm 0x{ours:x16}");
        }
        foreach (var (name, number) in ComparedCsrs)
        {
            if (!expected.Csrs.TryGetValue(name, out var theirs)) continue;
            ulong ours = hart.ReadCsr(number);
            if (theirs != ours) diffs.Add($"{name,-8} qemu 0x{theirs:x16}  replayvm 0x{ours:x16}");
        }
        return diffs;
    }

    private void ReportDivergence(ulong step, QemuCpuState expected, Machine machine, ElfImage image, List<string> differences)
    {
        var s = new StringBuilder();
        if (_recent.Count == 0)
        {
            s.AppendLine("lockstep: the initial states differ (before the first instruction)");
        }
        else
        {
            var (_, pc) = _recent.Last();
            s.AppendLine($"lockstep: divergence after step {step}, executing the instruction at 0x{pc:x16}:");
            s.AppendLine($"  {Describe(machine, image, pc)}");
        }
        s.AppendLine("differs (state after it):");
        foreach (var d in differences) s.AppendLine("  " + d);
        foreach (var hint in KnownCauses(expected, machine)) s.AppendLine("note: " + hint);
        output.Write(s.ToString());
        ReportHistory(machine, image);
    }

    /// <summary>Differences already understood, so that a reader does not chase them again.</summary>
    private IEnumerable<string> KnownCauses(QemuCpuState expected, Machine machine)
    {
        if (!options.IgnoredRegisters.Contains(11) && expected.X[11] != machine.Hart.GetX(11) && expected.Pc < 0x8000_0000)
            yield return "QEMU's boot ROM passes its device-tree address in a1; ReplayVm has none (a1 = 0). Rerun with --ignore a1.";
        if (expected.Csrs.TryGetValue("mcause", out var cause) && cause == 4 && machine.Hart.ReadCsr(0x342) == 6)
            yield return "QEMU 7.2 reports a misaligned AMO as cause 4 (load misaligned); the ISA says 6 (store/AMO misaligned).";
        if (_recent.Count > 0 && machine.Bus.Read(_recent.Last().Pc, 4, out var insn)
            && (insn & 0x7f) == 0x73 && ((insn >> 12) & 7) != 0 && (insn >> 20) is 0xc00 or 0xc01 or 0xc02 or 0xb00 or 0xb02)
            yield return $"without -icount QEMU's cycle/time/instret follow the host clock; rerun with --ignore x{(insn >> 7) & 31} if the guest only prints it.";
    }

    private void ReportHistory(Machine machine, ElfImage image)
    {
        if (_recent.Count == 0) return;
        output.WriteLine("recent steps (oldest first):");
        foreach (var (step, pc) in _recent)
            output.WriteLine($"  #{step,-10} {Describe(machine, image, pc)}");
    }

    private void Remember(ulong step, ulong pc)
    {
        _recent.Enqueue((step, pc));
        while (_recent.Count > options.History) _recent.Dequeue();
    }

    private static string Describe(Machine machine, ElfImage image, ulong pc)
    {
        var symbol = image.TryFindSymbolAt(pc, out var sym, out var offset) ? $" <{sym.Name}+0x{offset:x}>" : "";
        if (!machine.Bus.Read(pc, 2, out var low)) return $"0x{pc:x16}{symbol}: <not readable>";
        uint insn = (uint)low;
        if (RiscvDisassembler.Length((ushort)low) == 4 && machine.Bus.Read(pc + 2, 2, out var high))
            insn |= (uint)high << 16;
        string hex = RiscvDisassembler.Length((ushort)low) == 4 ? insn.ToString("x8") : "    " + insn.ToString("x4");
        return $"0x{pc:x16}{symbol}: {hex}  {RiscvDisassembler.Disassemble(insn, pc, image.SymbolAt)}";
    }

    private static readonly string[] AbiNames =
    [
        "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
        "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
    ];

    public static string RegisterName(int r) => $"x{r}/{AbiNames[r]}";

    /// <summary>Accepts "x11", "11" or "a1".</summary>
    public static int ParseRegister(string text)
    {
        var t = text.Trim().ToLowerInvariant();
        if (t.StartsWith('x') && int.TryParse(t.AsSpan(1), out int n) && n is >= 0 and < 32) return n;
        if (int.TryParse(t, out n) && n is >= 0 and < 32) return n;
        int i = Array.IndexOf(AbiNames, t == "fp" ? "s0" : t);
        return i >= 0 ? i : throw new LockstepException($"unknown register '{text}'");
    }
}
