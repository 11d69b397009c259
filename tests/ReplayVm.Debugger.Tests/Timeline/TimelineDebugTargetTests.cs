using ReplayVm.Core;
using ReplayVm.Core.Input;
using ReplayVm.Debugger.Gdb;
using ReplayVm.Debugger.Timeline;
using ReplayVm.Replay;
using ReplayVm.Replay.Timeline;
using GdbStopReason = ReplayVm.Debugger.Gdb.StopReason;
using ReplayTimeline = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Debugger.Tests.Timeline;

/// <summary>The gdb adapter over a recording of the hello guest (it prints through the UART and exits 0).</summary>
public sealed class TimelineDebugTargetTests
{
    private const ulong UartData = 0x1000_0000; // the NS16550A's THR on QEMU virt

    private static readonly Lazy<byte[]> HelloTrace = new(RecordHello);

    private static (TimelineDebugTarget Target, ReplayTimeline Timeline) Open()
    {
        var timeline = new ReplayTimeline(TraceReader.Read(HelloTrace.Value), new TimelineOptions { CheckpointInterval = 256 });
        return (new TimelineDebugTarget(timeline, "hello.rvtrace"), timeline);
    }

    [Fact]
    public void Reverse_step_restores_the_pc_and_registers_of_the_step_before()
    {
        var (target, _) = Open();
        for (int i = 0; i < 40; i++) target.Step();
        var before = Registers(target);
        ulong step = target.CurrentStep;

        Assert.Equal(GdbStopReason.StepDone, target.Step().Reason);
        Assert.Equal(GdbStopReason.StepDone, target.Step().Reason);
        var back = target.ReverseStep();
        back = target.ReverseStep();

        Assert.Equal(GdbStopReason.StepDone, back.Reason);
        Assert.Equal(step, target.CurrentStep);
        Assert.Equal(before, Registers(target));
        Assert.Equal(target.ReadPc(), back.Pc);
    }

    [Fact]
    public void Reverse_step_at_the_start_reports_the_beginning_of_the_log()
    {
        var (target, _) = Open();
        Assert.Equal(GdbStopReason.BeginningOfRecording, target.ReverseStep().Reason);
        Assert.Equal(0UL, target.CurrentStep);
    }

    [Fact]
    public void Continue_without_points_reaches_the_guests_exit_and_reverse_continue_the_start()
    {
        var (target, timeline) = Open();
        var end = target.Continue(CancellationToken.None);
        // The end is a place gdb stays at (and can leave backwards), with how the guest ended.
        Assert.Equal(GdbStopReason.EndOfRecording, end.Reason);
        Assert.Equal(0, end.GuestExitStatus);
        Assert.Equal(timeline.End, target.CurrentStep);
        Assert.Equal(GdbStopReason.EndOfRecording, target.Step().Reason);
        Assert.Equal(timeline.End, target.CurrentStep);

        var start = target.ReverseContinue(CancellationToken.None);
        Assert.Equal(GdbStopReason.BeginningOfRecording, start.Reason);
        Assert.Equal(0UL, target.CurrentStep);
    }

    [Fact]
    public void A_cancelled_continue_stops_as_interrupted()
    {
        var (target, _) = Open();
        var stop = target.Continue(new CancellationToken(canceled: true));
        Assert.Equal(GdbStopReason.Interrupted, stop.Reason);
    }

    [Fact]
    public void Breakpoints_stop_before_the_instruction_both_ways()
    {
        var (target, _) = Open();
        for (int i = 0; i < 30; i++) target.Step();
        ulong pc = target.ReadPc();
        target.Step();
        Assert.True(target.InsertBreakpoint(BreakpointType.Software, pc, 4));

        // Backwards from here: the last time pc was reached.
        var back = target.ReverseContinue(CancellationToken.None);
        Assert.Equal(GdbStopReason.Breakpoint, back.Reason);
        Assert.Equal(pc, back.Pc);
        Assert.Equal(pc, target.ReadPc());
        Assert.Equal(30UL, target.CurrentStep);

        Assert.True(target.RemoveBreakpoint(BreakpointType.Software, pc, 4));
        Assert.False(target.RemoveBreakpoint(BreakpointType.Software, pc, 4));
    }

    [Fact]
    public void A_forward_write_watch_stops_before_the_store_and_a_reverse_one_after_it()
    {
        var (target, timeline) = Open();
        Assert.True(target.InsertBreakpoint(BreakpointType.WriteWatch, UartData, 1));

        var first = target.Continue(CancellationToken.None);
        Assert.Equal(GdbStopReason.Watchpoint, first.Reason);
        Assert.Equal(WatchKind.Write, first.WatchKind);
        Assert.Equal(UartData, first.WatchAddress);
        ulong storeStep = target.CurrentStep;

        // Continuing from the reported stop (without gdb's step over it) does not report the same store again.
        var second = target.Continue(CancellationToken.None);
        Assert.Equal(GdbStopReason.Watchpoint, second.Reason);
        ulong secondStep = target.CurrentStep;
        Assert.True(secondStep > storeStep);

        // Not yet executed: the byte appears only when gdb steps over the store.
        int printed = timeline.Output.Count;
        target.Step();
        Assert.Equal(printed + 1, timeline.Output.Count);
        target.ReverseStep();

        // Backwards from before the second store: the stop is just after the first one, not yet undone.
        var back = target.ReverseContinue(CancellationToken.None);
        Assert.Equal(GdbStopReason.Watchpoint, back.Reason);
        Assert.Equal(UartData, back.WatchAddress);
        Assert.Equal(storeStep + 1, target.CurrentStep);
        Assert.Equal(target.ReadPc(), back.Pc);
        Assert.Equal(printed, timeline.Output.Count);
    }

    /// <summary>
    /// gdb's own sequence after a forward watch stop is a step over the store, then (on
    /// reverse-continue) a reverse run: that reports the same store again, stopping after it for
    /// gdb to reverse-step over it; from before it, the next reverse-continue finds the store before.
    /// </summary>
    [Fact]
    public void Reverse_continue_after_stepping_over_a_forward_watch_stop_reports_that_store_again()
    {
        var (target, _) = Open();
        Assert.True(target.InsertBreakpoint(BreakpointType.WriteWatch, UartData, 1));
        target.Continue(CancellationToken.None);
        ulong firstStore = target.CurrentStep;
        target.Step();
        Assert.Equal(GdbStopReason.Watchpoint, target.Continue(CancellationToken.None).Reason);
        ulong secondStore = target.CurrentStep;
        ulong storePc = target.ReadPc();
        target.Step(); // gdb steps over the store to compare the values

        var again = target.ReverseContinue(CancellationToken.None);
        Assert.Equal(GdbStopReason.Watchpoint, again.Reason);
        Assert.Equal(UartData, again.WatchAddress);
        Assert.Equal(secondStore + 1, target.CurrentStep);
        target.ReverseStep(); // gdb's reverse step over the store
        Assert.Equal(storePc, target.ReadPc());

        var before = target.ReverseContinue(CancellationToken.None);
        Assert.Equal(GdbStopReason.Watchpoint, before.Reason);
        Assert.Equal(firstStore + 1, target.CurrentStep);
    }

    [Fact]
    public void Writes_are_refused_and_memory_reads_follow_the_machine()
    {
        var (target, timeline) = Open();
        Assert.False(target.WriteIntegerRegister(5, 1));
        Assert.False(target.WritePc(0x8000_0000));
        Assert.False(target.WriteFloatRegister(0, 0));
        Assert.False(target.TryWriteCsr(0x340, 0));
        Assert.False(target.WriteMemory(0x8000_0000, [1, 2, 3, 4]));

        target.Continue(CancellationToken.None); // into the guest's RAM
        var code = new byte[4];
        Assert.True(target.ReadMemory(0x8000_0000, code));
        var physical = new byte[4];
        Assert.True(timeline.Machine.Hart.DebugRead(0x8000_0000, physical));
        Assert.Equal(physical, code);
        Assert.False(target.ReadMemory(0x7000_0000_0000, new byte[4]));
        Assert.True(target.TryReadCsr(0x301, out ulong misa));
        Assert.NotEqual(0UL, misa);
    }

    [Fact]
    public void Monitor_commands_tell_and_move_the_position()
    {
        var (target, timeline) = Open();
        Assert.Equal("Current event: 0", target.Monitor("when"));
        Assert.StartsWith("Current event: 100\n", target.Monitor("seek 100"));
        Assert.Equal(100UL, target.CurrentStep);
        Assert.Equal("Checkpoint 1 at event 100", target.Monitor("checkpoint"));
        Assert.NotNull(timeline.Checkpoints.At(100));
        target.Monitor("seek 250");
        Assert.Equal("Checkpoint 2 at event 250", target.Monitor("checkpoint"));
        Assert.Equal("  1 at event 100\n* 2 at event 250", target.Monitor("checkpoints"));
        Assert.StartsWith("Restarted checkpoint 1: current event 100\n", target.Monitor("restart 1"));
        Assert.Equal(100UL, target.CurrentStep);
        Assert.StartsWith("no checkpoint 3", target.Monitor("restart 3"));
        Assert.Equal("Deleted checkpoint 2", target.Monitor("delete-checkpoint 2"));
        Assert.Null(timeline.Checkpoints.At(250));
        Assert.Equal("* 1 at event 100", target.Monitor("checkpoints"));
        Assert.StartsWith("step 99999999 is past the end", target.Monitor("seek 99999999"));
        Assert.Equal(timeline.End, target.CurrentStep);
        Assert.Contains("ended by GuestExit (status 0)", target.Monitor("info"));
        Assert.StartsWith("not a step count", target.Monitor("seek ten"));
        Assert.StartsWith("unknown monitor command 'frobnicate'", target.Monitor("frobnicate"));
    }

    [Fact]
    public void Monitor_last_write_names_the_writing_instruction_of_a_register_or_address_without_moving()
    {
        var (target, timeline) = Open();
        target.Monitor("seek 300");
        string reply = target.Monitor("last-write a0");
        Assert.Equal(300UL, target.CurrentStep);
        var m = System.Text.RegularExpressions.Regex.Match(reply,
            @"^a0 was last written at event (\d+) by pc 0x([0-9a-f]+): (\S+) a0,.* \(a0 = 0x([0-9a-f]+)\); monitor seek \1 goes there$");
        Assert.True(m.Success, reply);
        ulong step = ulong.Parse(m.Groups[1].Value), pc = Convert.ToUInt64(m.Groups[2].Value, 16), value = Convert.ToUInt64(m.Groups[4].Value, 16);
        Assert.InRange(step, 0UL, 299UL);
        // Every spelling of the register gives the same answer.
        Assert.Equal(reply, target.Monitor("last-write $a0"));
        Assert.Equal(reply, target.Monitor("last-write x10"));

        // At that event the pc is the writer's; one step later a0 holds the value reported.
        target.Monitor($"seek {step}");
        Assert.Equal(pc, target.ReadPc());
        target.Step();
        Assert.Equal(value, target.ReadIntegerRegister(10));

        Assert.Equal("zero is never written: writes to x0 are discarded", target.Monitor("last-write zero"));
        Assert.StartsWith("fa0 was not written before event", target.Monitor("last-write fa0")); // hello has no FP code

        // Memory: the UART's data register, written for each character hello prints.
        target.Monitor($"seek {timeline.End}");
        string uart = target.Monitor($"last-write 0x{UartData:x}");
        Assert.Matches(@"^0x10000000 was last written at event \d+ by pc 0x[0-9a-f]+: s[bhwd] .* \(a store to 0x10000000\); monitor seek \d+ goes there$", uart);
        Assert.StartsWith("0x10000000..0x10000007 was last written", target.Monitor($"last-write 0x{UartData:x} 8"));
        Assert.Equal(timeline.End, target.CurrentStep);

        Assert.StartsWith("usage: monitor last-write", target.Monitor("last-write"));
        Assert.StartsWith("not a register or an address: 'qq'", target.Monitor("last-write qq"));
        Assert.StartsWith("a register takes no length", target.Monitor("last-write a0 4"));
        Assert.StartsWith("not a length: '0'", target.Monitor("last-write 0x80000000 0"));
        Assert.Contains("monitor last-write REG|ADDR [LEN]", target.Monitor("help"));
        Assert.Equal(timeline.End, target.CurrentStep);
    }

    private static ulong[] Registers(IDebugTarget target) =>
        [.. Enumerable.Range(0, 32).Select(target.ReadIntegerRegister), target.ReadPc()];

    private static byte[] RecordHello()
    {
        string elf = Path.Combine(RepoRoot(), "tools", "guests", "elf", "hello.elf");
        var setup = MachineSetup.ForElf(new MachineConfig { RamSize = 16UL << 20 }, "hello.elf", File.ReadAllBytes(elf));
        var stream = new MemoryStream();
        using (var recorder = new Recorder(setup, NoInput.Instance, _ => { }, stream,
                   new RecorderOptions { StateHashInterval = 1000, Writer = new TraceWriterOptions { FlushInterval = TimeSpan.Zero } }))
        {
            var result = recorder.Run(10_000_000);
            Assert.Equal(ReplayVm.Core.StopReason.GuestExit, result.Run.Reason);
        }
        return stream.ToArray();
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ReplayVm.sln"))) return dir.FullName;
        throw new InvalidOperationException("ReplayVm.sln not found");
    }
}
