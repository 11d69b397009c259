using ReplayVm.Core.Board;
using ReplayVm.Core.Input;

namespace ReplayVm.Core.Tests.Devices;

public class GoldfishRtcTests
{
    /// <summary>An input port whose wall clock the test sets, and which counts the reads.</summary>
    private sealed class FixedClockPort : IInputPort
    {
        public ulong Now = 1_700_000_000_123_456_789;
        public int Reads;
        public ulong NextDeliveryAt => ulong.MaxValue;
        public void Poll(ulong instret, IInputSink sink) { }
        public ulong ReadWallClock(ulong instret) { Reads++; return Now; }
        public void ReadEntropy(ulong instret, Span<byte> destination) => NoInput.Instance.ReadEntropy(instret, destination);
    }

    private static (Machine, FixedClockPort) NewMachine()
    {
        var port = new FixedClockPort();
        return (new Machine(new MachineConfig(), port, _ => { }), port);
    }

    private static uint Read(Machine m, ulong offset)
    {
        Assert.True(m.Bus.Read(MemoryMap.RtcBase + offset, 4, out ulong v));
        return (uint)v;
    }

    private static void Write(Machine m, ulong offset, uint v) => Assert.True(m.Bus.Write(MemoryMap.RtcBase + offset, 4, v));

    [Fact]
    public void Time_comes_from_the_input_port_and_low_read_latches_high()
    {
        var (m, port) = NewMachine();
        uint low = Read(m, 0x00);
        port.Now += 1UL << 40; // the high half moves; the latched one must not
        uint high = Read(m, 0x04);
        Assert.Equal(1_700_000_000_123_456_789UL, (ulong)high << 32 | low);
        Assert.Equal(1, port.Reads);
    }

    [Fact]
    public void Writing_the_time_sets_an_offset()
    {
        var (m, port) = NewMachine();
        Write(m, 0x04, 0);
        Write(m, 0x00, 1000);
        Assert.Equal(1000u, Read(m, 0x00));
        Assert.Equal(0u, Read(m, 0x04));
        port.Now += 5;
        Assert.Equal(1005u, Read(m, 0x00));
    }

    [Fact]
    public void Alarm_in_the_past_fires_at_once_and_clear_interrupt_lowers_it()
    {
        var (m, port) = NewMachine();
        var rtc = m.Peripherals.Rtc;
        Write(m, 0x10, 1);
        Write(m, 0x0c, 0);
        Write(m, 0x08, 5);
        Assert.True(rtc.InterruptPending);
        Assert.True(m.Peripherals.Plic.IsPending(VirtDeviceTree.RtcIrq));
        Write(m, 0x1c, 1);
        Assert.False(rtc.InterruptPending);
        Assert.Equal(0u, Read(m, 0x18));
    }

    [Fact]
    public void Alarm_in_the_future_runs_on_guest_time()
    {
        var (m, port) = NewMachine();
        var rtc = m.Peripherals.Rtc;
        ulong alarm = port.Now + 1000;
        Write(m, 0x10, 1);
        Write(m, 0x0c, (uint)(alarm >> 32));
        Write(m, 0x08, (uint)alarm);
        Assert.False(rtc.InterruptPending);
        Assert.Equal(1u, Read(m, 0x18));
        m.Hart.Clock.SkipIdleUntilStep(m.Hart.Steps + 999);
        Assert.False(rtc.InterruptPending);
        m.Hart.Clock.SkipIdleUntilStep(m.Hart.Steps + 1000);
        Assert.True(rtc.InterruptPending);
        Assert.Equal(0u, Read(m, 0x18));
    }
}
