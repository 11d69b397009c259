using ReplayVm.Core.Tests.Translation;
using ReplayVm.Core.Translation;

namespace ReplayVm.Core.Tests.Paging;

/// <summary>
/// A page outside RAM (a device's) is held by the TLB for the slow path only (TlbEntry.SlowPathOnly),
/// so that a fast path's hit is always RAM and needs no bounds check: its loads and stores must still
/// reach the device, and must not walk the page tables each time. The guest writes the UART's
/// scratch register and reads it back 2000 times through the identity-mapped device gigapage, in
/// S-mode with paging on, a store and a load alternating on the same page.
/// </summary>
public sealed class DevicePageTlbTests
{
    private const int Iterations = 2000;

    private static readonly Lazy<byte[]> ScratchRoundTrips = new(() => EngineComparison.Assemble($$"""
        {{SupervisorPrologue.MappingOnePageTo("data_a", "0xC7")}}
        supervisor:
          li t2, 0x10000007     # the UART's scratch register, through the 0x0 gigapage
          li s0, 0              # i
          li s1, 0              # sum of what reads back
          li s6, {{Iterations}}
        1:
          sb s0, 0(t2)
          lbu a0, 0(t2)
          add s1, s1, a0
          addi s0, s0, 1
          blt s0, s6, 1b
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        3: j 3b
        .balign 4096
        data_a: .dword 0
        {{SupervisorPrologue.PageTables}}
        """));

    [Theory]
    [InlineData(ExecutionEngine.Interpreter)]
    [InlineData(ExecutionEngine.Translator)]
    public void Device_accesses_through_the_TLB_reach_the_device_and_walk_once(ExecutionEngine engine)
    {
        var machine = EngineComparison.Boot(engine, ScratchRoundTrips.Value, threshold: 1);
        Assert.Equal(StopReason.GuestExit, machine.Run(1_000_000).Reason);
        ulong expected = 0;
        for (int i = 0; i < Iterations; i++) expected += (ulong)(i & 0xFF);
        Assert.Equal(expected, machine.Hart.GetX(9)); // s1
        Assert.True(machine.Hart.TranslatorStats.PageWalks < 100, $"{machine.Hart.TranslatorStats.PageWalks} walks for {2 * Iterations} device accesses");
    }
}
