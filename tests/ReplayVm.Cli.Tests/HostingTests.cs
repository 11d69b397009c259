using System.Diagnostics;
using ReplayVm.Cli.Hosting;
using ReplayVm.Core.Input;

namespace ReplayVm.Cli.Tests;

public class HostingTests
{
    private sealed class FakeUart(int room) : IInputSink
    {
        public List<byte> Received { get; } = [];
        public int Room { get; set; } = room;
        public int ConsoleRoom => Room;
        public void DeliverConsoleByte(byte value) { Received.Add(value); Room--; }
    }

    [Fact]
    public void Live_input_delivers_stdin_bytes_no_faster_than_the_uart_has_room()
    {
        var input = new LiveConsoleInput(new MemoryStream("hello, guest"u8.ToArray()));
        var uart = new FakeUart(room: 4);
        Assert.Equal(ulong.MaxValue, input.NextDeliveryAt);

        var clock = Stopwatch.StartNew();
        while (uart.Received.Count < 4 && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            input.Poll(0, uart);
            Thread.Sleep(1);
        }
        Assert.Equal("hell"u8.ToArray(), uart.Received);

        uart.Room = 100;
        while (uart.Received.Count < 12 && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            input.Poll(0, uart);
            Thread.Sleep(1);
        }
        Assert.Equal("hello, guest"u8.ToArray(), uart.Received);
    }

    [Fact]
    public void Output_without_a_newline_is_flushed_by_the_timer()
    {
        var sink = new ObservableStream();
        using var pump = new ConsoleOutputPump(sink);
        foreach (var b in "login: "u8) pump.Write(b);

        Assert.True(sink.Flushed.Wait(TimeSpan.FromSeconds(5)), "prompt was not flushed");
        Assert.Equal("login: "u8.ToArray(), sink.Written);
    }

    [Fact]
    public void A_disposed_pump_leaves_no_flushing_thread_behind()
    {
        // The pump flushes on a thread of its own (no timer, so no thread pool), which must end with it.
        var pump = new ConsoleOutputPump(new ObservableStream());
        Assert.True(pump.FlushingThread.IsAlive, "no flushing thread started");
        pump.Dispose();
        Assert.True(pump.FlushingThread.Join(TimeSpan.FromSeconds(5)), "the flushing thread outlived its pump");
    }

    /// <summary>A stream that records what was written and signals the first flush.</summary>
    private sealed class ObservableStream : MemoryStream
    {
        public ManualResetEventSlim Flushed { get; } = new();
        public byte[] Written { get { lock (this) return ToArray(); } }
        public override void Write(byte[] buffer, int offset, int count) { lock (this) base.Write(buffer, offset, count); }
        public override void Flush() { if (Length > 0) Flushed.Set(); }
    }
}
