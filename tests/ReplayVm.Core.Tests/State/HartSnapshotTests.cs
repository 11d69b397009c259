using ReplayVm.Core;
using ReplayVm.Core.Input;
using ReplayVm.Core.Loading;
using ReplayVm.Core.State;

namespace ReplayVm.Core.Tests.State;

/// <summary>A hart snapshot plus a RAM copy must put the machine back exactly: running on from it
/// reproduces the same state hash and console output as the first time.</summary>
public sealed class HartSnapshotTests
{
    // bench touches no device state between the two points but the UART's transmitter, so hart + RAM is all there is to restore.
    [Theory]
    [InlineData("bench.elf", 3_000_000UL, 2_000_000UL)]
    [InlineData("bench.elf", 100_000UL, 300_000_000UL)]
    public void RestoringASnapshotReplaysTheSameFuture(string guest, ulong first, ulong second)
    {
        var output = new List<byte>();
        var machine = new Machine(new MachineConfig(), NoInput.Instance, output.Add);
        machine.LoadElf(ElfImage.Parse(File.ReadAllBytes(RepoPaths.GuestBinary(guest))));
        machine.Run(first);

        var hart = machine.Hart.Capture();
        byte[] ram = machine.Ram.Read(machine.Ram.Base, (int)machine.Ram.Size).ToArray();
        int outputAt = output.Count;

        machine.Run(second);
        var expectedHash = new MachineStateHasher(machine).Compute();
        byte[] expectedOutput = output.Skip(outputAt).ToArray();
        ulong expectedSteps = machine.Hart.Steps;

        machine.Hart.Restore(hart);
        machine.Ram.Write(machine.Ram.Base, ram);
        output.RemoveRange(outputAt, output.Count - outputAt);
        Assert.Equal(hart.StepCount, machine.Hart.Steps);

        machine.Run(second);
        Assert.Equal(expectedSteps, machine.Hart.Steps);
        Assert.Equal(expectedOutput, output.Skip(outputAt).ToArray());
        Assert.Equal(expectedHash, new MachineStateHasher(machine).Compute());
    }
}
