using System.Globalization;
using System.Text.RegularExpressions;
using ReplayVm.Core.Hart;
using ReplayVm.Core.Input;
using ReplayVm.Core.Loading;
using ReplayVm.Core.State;

namespace ReplayVm.Core.Tests.Debug;

/// <summary>
/// The trap observer sees every trap entry of the traps guest, with the step, cause and pc an
/// independent single-step scan finds, and in the order the guest's own report names them;
/// it changes nothing about the run.
/// </summary>
public sealed class TrapObserverTests
{
    private const int Mstatus = 0x300, Mepc = 0x341, Mcause = 0x342;

    private sealed class Recorder : ITrapObserver
    {
        public readonly List<TrapEntry> Entries = [];
        public readonly List<TrapReturn> Returns = [];

        public void TrapTaken(in TrapEntry entry) => Entries.Add(entry);

        public void TrapReturned(in TrapReturn trapReturn) => Returns.Add(trapReturn);
    }

    private static (Machine Machine, List<byte> Output) Boot()
    {
        var output = new List<byte>();
        var machine = new Machine(new MachineConfig { RamSize = 16UL << 20 }, NoInput.Instance, output.Add);
        machine.LoadElf(ElfImage.Parse(File.ReadAllBytes(RepoPaths.GuestBinary("traps.elf"))));
        return (machine, output);
    }

    private static List<TrapEntry> RunObserved(out Recorder recorder, out Machine machine)
    {
        (machine, _) = Boot();
        recorder = new Recorder();
        machine.Hart.TrapObserver = recorder;
        var result = machine.Run(50_000_000);
        Assert.Equal(StopReason.GuestExit, result.Reason);
        return recorder.Entries;
    }

    /// <summary>
    /// The oracle: one step at a time with no observer. An exception shows as ExceptionsTaken
    /// moving (its cause then in mcause: the traps guest runs every trap in M-mode). An interrupt
    /// takes no step of its own, so it shows as a step after which mcause holds an interrupt and
    /// mepc the pc the step started at, with the trap state (mcause, mepc, mstatus, mode) changed.
    /// </summary>
    private static List<(ulong Step, ulong Cause, bool Interrupt, ulong Pc)> SingleStepScan()
    {
        var (machine, _) = Boot();
        var hart = machine.Hart;
        var found = new List<(ulong, ulong, bool, ulong)>();
        while (true)
        {
            ulong step = hart.Steps, pc = hart.Pc, exceptions = hart.ExceptionsTaken;
            var before = (hart.ReadCsr(Mcause), hart.ReadCsr(Mepc), hart.ReadCsr(Mstatus), hart.Mode);
            var run = machine.Run(1);
            if (run.Reason == StopReason.GuestExit) return found;
            Assert.Equal(StopReason.InstructionLimit, run.Reason);
            ulong cause = hart.ReadCsr(Mcause);
            var after = (cause, hart.ReadCsr(Mepc), hart.ReadCsr(Mstatus), hart.Mode);
            if (hart.ExceptionsTaken != exceptions)
                found.Add((step, cause, false, hart.ReadCsr(Mepc)));
            else if ((cause >> 63) != 0 && after.Item2 == pc && after != before)
                found.Add((step, cause & ~(1UL << 63), true, pc));
            Assert.True(step < 50_000_000, "the traps guest should have exited");
        }
    }

    [Fact]
    public void Observer_sees_the_same_traps_at_the_same_steps_as_a_single_step_scan()
    {
        var observed = RunObserved(out _, out var machine);
        var expected = SingleStepScan();
        Assert.True(expected.Count > 20, $"only {expected.Count} traps found by single-stepping");
        Assert.Equal(expected, observed.Select(e => (e.Step, e.Cause, e.Interrupt, e.Pc)).ToList());
        Assert.Equal(machine.Hart.ExceptionsTaken, (ulong)observed.Count(e => !e.Interrupt));
        Assert.All(observed, e => Assert.Equal(PrivilegeLevel.Machine, e.To));
    }

    [Fact]
    public void Observed_causes_include_every_probe_the_guest_reports_in_its_order()
    {
        var observed = RunObserved(out _, out _);
        // The guest's report: "mcause=11", "mcause=misaligned" (store/AMO misaligned, 6), "mcause=0x8000000000000007".
        var reported = new List<(ulong Cause, bool Interrupt)>();
        foreach (string line in File.ReadAllLines(RepoPaths.Expected("traps.out")))
        {
            var m = Regex.Match(line, @"mcause=(0x[0-9a-f]+|\d+|misaligned)");
            if (!m.Success) continue;
            string v = m.Groups[1].Value;
            ulong raw = v == "misaligned" ? ExceptionCause.StoreMisaligned
                : v.StartsWith("0x", StringComparison.Ordinal) ? ulong.Parse(v[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
                : ulong.Parse(v, CultureInfo.InvariantCulture);
            reported.Add((raw & ~(1UL << 63), (raw >> 63) != 0));
        }
        Assert.Equal(24, reported.Count); // 10 exceptions and 2 interrupts, direct and vectored
        int at = 0;
        foreach (var e in observed)
            if (at < reported.Count && reported[at] == (e.Cause, e.Interrupt)) at++;
        Assert.True(at == reported.Count, $"probe {at} ({reported.ElementAtOrDefault(at)}) not observed in order");
        Assert.Contains(observed, e => e is { Interrupt: false, Cause: ExceptionCause.EcallFromU, From: PrivilegeLevel.User });
    }

    [Fact]
    public void Every_mret_is_reported_with_the_mode_and_pc_it_returns_to()
    {
        var observed = RunObserved(out var recorder, out _);
        Assert.True(recorder.Returns.Count >= observed.Count - 1, $"{recorder.Returns.Count} returns for {observed.Count} traps");
        Assert.All(recorder.Returns, r => Assert.Equal(PrivilegeLevel.Machine, r.From));
        // The U-mode ecall probe comes back to M through an ecall; the user code was entered by an mret to U.
        Assert.Contains(recorder.Returns, r => r.To == PrivilegeLevel.User);
        // Returns come in step order, each at an instruction of its own.
        Assert.Equal(recorder.Returns.Select(r => r.Step).Order(), recorder.Returns.Select(r => r.Step));
    }

    [Fact]
    public void Observing_changes_nothing_and_snapshots_neither_save_nor_drop_the_observer()
    {
        var (plain, plainOutput) = Boot();
        plain.Run(50_000_000);

        var (machine, output) = Boot();
        var recorder = new Recorder();
        machine.Hart.TrapObserver = recorder;
        machine.Run(200_000);
        var snapshot = machine.CaptureSnapshot();
        int seenAtSnapshot = recorder.Entries.Count;
        machine.Run(50_000_000);
        Assert.Equal(plainOutput, output);
        Assert.Equal(new MachineStateHasher(plain).Compute(), new MachineStateHasher(machine).Compute());

        // Restoring goes back in time, but the observer stays attached: a replay from there reports again.
        int total = recorder.Entries.Count;
        machine.RestoreSnapshot(snapshot);
        Assert.Same(recorder, machine.Hart.TrapObserver);
        machine.Run(50_000_000);
        Assert.Equal(total + (total - seenAtSnapshot), recorder.Entries.Count);
        Assert.Equal(recorder.Entries.Skip(seenAtSnapshot).Take(total - seenAtSnapshot), recorder.Entries.Skip(total));
    }
}
