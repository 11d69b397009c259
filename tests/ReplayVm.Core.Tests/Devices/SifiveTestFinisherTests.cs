using ReplayVm.Core.Input;
using ReplayVm.Core.Loading;
using ReplayVm.Core.Tests.Oracle;

namespace ReplayVm.Core.Tests.Devices;

/// <summary>
/// The sifive_test finisher against QEMU 7.2's (hw/misc/sifive_test.c): it takes 16- and 32-bit
/// writes (min_access_size 2), the low half is the command and the high half the exit code, so a
/// halfword 0x5555 — what OpenSBI 1.1 writes for an SBI SRST shutdown, and so how Linux powers
/// off — ends the run with status 0, as it does on QEMU.
/// </summary>
public class SifiveTestFinisherTests
{
    [Theory]
    [InlineData("sh", 0x5555u, 0)]       // OpenSBI's shutdown
    [InlineData("sw", 0x5555u, 0)]
    [InlineData("sw", 0x0007_3333u, 7)]  // fail with code 7
    [InlineData("sh", 0x3333u, 0)]       // fail, but a halfword carries no code: QEMU exits 0
    public void A_write_ends_the_run_with_qemus_exit_status(string store, uint value, int expected)
    {
        string dir = Directory.CreateTempSubdirectory("replayvm-finisher-").FullName;
        string source = Path.Combine(dir, "finish.S"), elf = Path.Combine(dir, "finish.elf");
        File.WriteAllText(source, $"""
            .globl _start
            _start:
                li t0, 0x100000
                li t1, {value}
                {store} t1, 0(t0)
            1:  j 1b
            """);
        GuestToolchain.BuildElf(source, elf);

        var qemu = QemuVirt.Run(elf, TimeSpan.FromSeconds(30));
        Assert.Equal(expected, qemu.ExitCode);

        var machine = new Machine(new MachineConfig(), NoInput.Instance, _ => { });
        machine.LoadElf(ElfImage.Parse(File.ReadAllBytes(elf)));
        var result = machine.Run(10_000);
        Assert.Equal(StopReason.GuestExit, result.Reason);
        Assert.Equal(expected, result.ExitCode);
    }
}
