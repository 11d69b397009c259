using ReplayVm.Core.Hart;
using ReplayVm.Core.Input;
using ReplayVm.Core.Loading;
using ReplayVm.Core.Tests.Oracle;

namespace ReplayVm.Core.Tests.Paging;

/// <summary>
/// The debugger's side-effect-free view of virtual memory (<see cref="VirtualMemoryView"/>) walks
/// five levels when the hart pages with Sv57: stopped in the S-mode body of Data/sv57-walk.S, it
/// sees what the hart sees and finds nothing where the hart faults.
/// </summary>
public class Sv57DebugViewTests
{
    [Fact]
    public void The_debug_view_walks_sv57_tables_as_the_hart_does()
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-sv57-").FullName;
        var elf = Path.Combine(dir, "sv57-walk.elf");
        GuestToolchain.BuildElf(Path.Combine(PagingReproducerTests.DataDirectory, "sv57-walk.S"), elf);
        var machine = new Machine(new MachineConfig(), NoInput.Instance, _ => { });
        machine.LoadElf(ElfImage.Parse(File.ReadAllBytes(elf)));
        Directory.Delete(dir, recursive: true);
        for (int i = 0; i < 10_000 && machine.Hart.Mode != PrivilegeLevel.Supervisor; i++) machine.Run(1);
        Assert.Equal(PrivilegeLevel.Supervisor, machine.Hart.Mode);
        Assert.Equal(10UL, machine.Hart.ReadCsr(0x180) >> 60);

        // The RW petapage maps VA (1 << 48) + PA to PA: the image's first bytes through it.
        var direct = new byte[64];
        var viaPetapage = new byte[64];
        Assert.True(machine.Hart.DebugRead(0x8000_0000, direct));
        Assert.True(VirtualMemoryView.Read(machine.Hart, (1UL << 48) + 0x8000_0000, viaPetapage));
        Assert.Equal(direct, viaPetapage);

        // The 4 KiB page five levels down at the top of the address space.
        Assert.True(VirtualMemoryView.TryTranslate(machine.Hart, 0xffff_ff7f_7f9f_b008, out ulong data));
        Assert.Equal(8UL, data & 0xfff);
        Assert.InRange(data, 0x8000_0000UL, 0x8010_0000UL);
        Assert.False(VirtualMemoryView.TryTranslate(machine.Hart, 0xffff_ff7f_7f9f_a010, out _));  // a pointer at level 0
        Assert.False(VirtualMemoryView.TryTranslate(machine.Hart, 2UL << 48, out _));       // misaligned petapage
        Assert.False(VirtualMemoryView.TryTranslate(machine.Hart, 1UL << 56, out _));       // not sign-extended from bit 56
        Assert.False(VirtualMemoryView.TryTranslate(machine.Hart, 5UL << 48, out _));       // empty root slot
        Assert.True(VirtualMemoryView.TryTranslate(machine.Hart, (3UL << 48) + 0x8000_1000, out ulong readOnly));
        Assert.Equal(0x8000_1000UL, readOnly);

        Assert.Equal(StopReason.GuestExit, machine.Run(1_000_000).Reason);
    }
}
