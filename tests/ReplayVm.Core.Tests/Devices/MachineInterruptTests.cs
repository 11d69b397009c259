using ReplayVm.Core.Board;
using ReplayVm.Core.Input;

namespace ReplayVm.Core.Tests.Devices;

/// <summary>Device levels reach mip through the PLIC: context 0 drives MEIP, context 1 SEIP.</summary>
public class MachineInterruptTests
{
    private const int Mip = 0x344, Meip = 1 << 11, Seip = 1 << 9;

    private static Machine NewMachine()
    {
        var machine = new Machine(new MachineConfig(), NoInput.Instance, _ => { });
        machine.LoadRaw([0x6f, 0x00, 0x00, 0x00], 0x8000_0000); // j .
        return machine;
    }

    private static void Plic(Machine m, ulong offset, uint value) => Assert.True(m.Bus.Write(MemoryMap.PlicBase + offset, 4, value));

    [Theory]
    [InlineData(0, Meip)]
    [InlineData(1, Seip)]
    public void Uart_receive_interrupt_raises_the_contexts_line(int context, int bit)
    {
        var m = NewMachine();
        Plic(m, 4 * VirtDeviceTree.UartIrq, 1);
        Plic(m, 0x2000 + 0x80 * (ulong)context, 1u << VirtDeviceTree.UartIrq);
        Assert.True(m.Bus.Write(MemoryMap.UartBase + 1, 1, 1)); // IER: received data available
        m.Run(1);
        Assert.Equal(0UL, m.Hart.ReadCsr(Mip) & (ulong)bit);

        m.Uart.Receive((byte)'x');
        m.Run(1);
        Assert.Equal((ulong)bit, m.Hart.ReadCsr(Mip) & (ulong)bit);

        // Claim, then drain the FIFO: the level falls, and completing leaves nothing pending.
        Assert.True(m.Bus.Read(MemoryMap.PlicBase + 0x20_0004 + 0x1000 * (ulong)context, 4, out ulong claimed));
        Assert.Equal((ulong)VirtDeviceTree.UartIrq, claimed);
        Assert.True(m.Bus.Read(MemoryMap.UartBase, 1, out _));
        Plic(m, 0x20_0004 + 0x1000 * (ulong)context, (uint)claimed);
        m.Run(1);
        Assert.Equal(0UL, m.Hart.ReadCsr(Mip) & (ulong)bit);
    }

    [Fact]
    public void Uart_line_is_a_level_that_stays_high_until_the_cause_is_served()
    {
        var m = NewMachine();
        Assert.True(m.Bus.Write(MemoryMap.UartBase + 1, 1, 1));
        m.Uart.Receive((byte)'a');
        // Reading IIR does not clear a receive interrupt; only reading the data does.
        Assert.True(m.Bus.Read(MemoryMap.UartBase + 2, 1, out ulong iir));
        Assert.Equal(0x04UL, iir & 0x0F);
        Assert.True(m.Uart.InterruptPending);
        Assert.True(m.Bus.Read(MemoryMap.UartBase, 1, out _));
        Assert.False(m.Uart.InterruptPending);
    }
}
