using ReplayVm.Core.Input;
using ReplayVm.Core.Loading;

namespace ReplayVm.Core.Tests.Oracle;

/// <summary>What a guest did on ReplayVm: its console bytes and how the run ended.</summary>
public sealed record ReplayVmOutcome(byte[] Console, RunResult Result);

/// <summary>Runs a guest ELF on ReplayVm's virt machine in-process, the way QEMU runs it.</summary>
public static class ReplayVmRunner
{
    public static ReplayVmOutcome Run(byte[] elf, ulong maxInstructions)
    {
        var console = new List<byte>();
        var machine = new Machine(new MachineConfig(), NoInput.Instance, console.Add);
        machine.LoadElf(ElfImage.Parse(elf));
        var result = machine.Run(maxInstructions);
        return new ReplayVmOutcome(console.ToArray(), result);
    }
}
