using ReplayVm.Core.Input;
using ReplayVm.Core.Loading;
using ReplayVm.Core.Tests.Oracle;

namespace ReplayVm.Core.Tests.Memory;

/// <summary>
/// A store that faults leaves memory as it was (precise exceptions, privileged spec 1.6). The case
/// that can go wrong is a misaligned store split across two pages, whose bytes go out one at a
/// time: here a doubleword at the last 4 bytes of RAM, whose upper half lies past RAM's end, where
/// nothing is mapped. It must raise a store access fault (mtval = its address) and leave the last
/// word of RAM unchanged — with PMP on (the store goes through the translating path) and off (it
/// goes straight to the bus). QEMU 7.2 writes the first half before faulting; see
/// tools/guests/README.md.
/// </summary>
public sealed class FaultingStoreTests
{
    private const ulong RamEnd = 0x8000_0000UL + (128UL << 20);
    private const ulong StoreAddress = RamEnd - 4;
    private const uint OldWord = 0xAABB_CCDD;

    private const string Program = """
        .globl _start
        _start:
          la t0, trap
          csrw mtvec, t0
        #ifdef USE_PMP
          li t0, -1                 # one NAPOT entry over everything: PMP is active
          srli t0, t0, 10
          csrw pmpaddr0, t0
          li t0, 0x1f
          csrw pmpcfg0, t0
        #endif
          li a0, 0x87FFFFFC         # the last word of 128 MiB of RAM
          li t1, 0xAABBCCDD
          sw t1, 0(a0)
          li t2, 0x0102030405060708
          sd t2, 0(a0)              # bytes 4..7 fall past RAM's end
          li s1, -1                 # not reached when the store faults
        .balign 4
        trap:
          csrr s1, mcause
          csrr s2, mtval
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        1: j 1b
        """;

    private static readonly Lazy<byte[]> WithPmp = new(() => Build(pmp: true));
    private static readonly Lazy<byte[]> WithoutPmp = new(() => Build(pmp: false));

    private static byte[] Build(bool pmp)
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-faultstore-").FullName;
        try
        {
            var source = Path.Combine(dir, "t.S");
            var elf = Path.Combine(dir, "t.elf");
            File.WriteAllText(source, Program);
            var gcc = ExternalTools.Require(ExternalTools.Gcc);
            string[] args = ["-nostdlib", "-march=rv64gc", "-mabi=lp64d", "-Wl,-Ttext=0x80000000", "-Wl,--nmagic",
                "-Wl,--no-warn-rwx-segments", "-o", elf, source];
            if (pmp) args = ["-DUSE_PMP", .. args];
            var r = ExternalTools.Run(gcc, args, TimeSpan.FromSeconds(60));
            Assert.True(r.ExitCode == 0, r.Stderr);
            return File.ReadAllBytes(elf);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_store_faulting_past_the_end_of_RAM_writes_none_of_its_bytes(bool pmp)
    {
        var machine = new Machine(new MachineConfig(), NoInput.Instance, _ => { });
        machine.LoadElf(ElfImage.Parse((pmp ? WithPmp : WithoutPmp).Value));
        var result = machine.Run(10_000);

        Assert.Equal(StopReason.GuestExit, result.Reason);
        Assert.Equal(7UL, machine.Hart.GetX(9));              // s1 = mcause: store/AMO access fault
        Assert.Equal(StoreAddress, machine.Hart.GetX(18));    // s2 = mtval: the store's address
        var word = new byte[4];
        Assert.True(machine.Hart.DebugRead(StoreAddress, word));
        Assert.Equal(OldWord, BitConverter.ToUInt32(word));
    }
}
