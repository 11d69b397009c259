using ReplayVm.Core.Hart;
using ReplayVm.Core.Input;
using ReplayVm.Core.Loading;

namespace ReplayVm.Core.Tests.Debug;

/// <summary>
/// Debug triggers (Sdtrig) beyond what the triggers guest compares with QEMU (GuestAgreementTests,
/// QemuLockstepTests): their state is part of the hart's state, so a checkpoint taken while
/// triggers are armed, and restored after the guest has changed them, replays the same run.
/// </summary>
public sealed class TriggerTests
{
    private static (Machine Machine, List<byte> Output) Boot()
    {
        var output = new List<byte>();
        var machine = new Machine(new MachineConfig(), NoInput.Instance, output.Add);
        machine.LoadElf(ElfImage.Parse(File.ReadAllBytes(RepoPaths.GuestBinary("triggers.elf"))));
        return (machine, output);
    }

    private const ulong ExecuteBit = 4, LoadBit = 1, StoreBit = 2, ModeBits = (1 << 3) | (1 << 4) | (1 << 6);

    private static bool Armed(TriggerState s) =>
        ((s.Control0 & ModeBits) != 0 && (s.Control0 & (ExecuteBit | LoadBit | StoreBit)) != 0)
        || ((s.Control1 & ModeBits) != 0 && (s.Control1 & (ExecuteBit | LoadBit | StoreBit)) != 0);

    [Fact]
    public void A_checkpoint_with_armed_triggers_restores_them_and_replays_the_same_run()
    {
        var (reference, referenceOutput) = Boot();
        var plain = reference.Run(10_000_000);
        Assert.Equal(StopReason.GuestExit, plain.Reason);
        Assert.Equal(File.ReadAllBytes(RepoPaths.Expected("triggers.out")), referenceOutput.ToArray());

        var (machine, output) = Boot();
        // Run until the guest has armed a trigger, some way into its trigger tests.
        int armedSeen = 0;
        while (armedSeen < 50)
        {
            Assert.Equal(StopReason.InstructionLimit, machine.Run(997).Reason);
            if (Armed(machine.Hart.TriggerState)) armedSeen++;
        }
        var armedState = machine.Hart.TriggerState;
        var snapshot = machine.CaptureSnapshot();
        int outputAtSnapshot = output.Count;

        Assert.Equal(StopReason.GuestExit, machine.Run(10_000_000).Reason);
        Assert.False(Armed(machine.Hart.TriggerState), "the guest disarms its triggers before it exits");

        machine.RestoreSnapshot(snapshot);
        Assert.Equal(armedState, machine.Hart.TriggerState);
        output.RemoveRange(outputAtSnapshot, output.Count - outputAtSnapshot);
        var again = machine.Run(10_000_000);
        Assert.Equal(StopReason.GuestExit, again.Reason);
        Assert.Equal(plain.InstructionsRetired, again.InstructionsRetired);
        Assert.Equal(referenceOutput, output);
    }

    [Fact]
    public void Trigger_CSRs_read_back_as_QEMU_resets_them()
    {
        var (machine, _) = Boot();
        Assert.Equal(0UL, machine.Hart.ReadCsr(TriggerModule.TselectCsr));
        Assert.Equal(2UL << 60, machine.Hart.ReadCsr(TriggerModule.Tdata1Csr));
        Assert.Equal(0UL, machine.Hart.ReadCsr(TriggerModule.Tdata2Csr));
        Assert.Equal(0UL, machine.Hart.ReadCsr(TriggerModule.Tdata3Csr));
        Assert.Equal(0x44UL, machine.Hart.ReadCsr(TriggerModule.TinfoCsr));
        Assert.False(machine.Hart.TryReadCsr(0x7A5, out _)); // tcontrol: not in QEMU 7.2
        Assert.False(machine.Hart.TryReadCsr(0x7A8, out _)); // mcontext: not in QEMU 7.2
    }
}
