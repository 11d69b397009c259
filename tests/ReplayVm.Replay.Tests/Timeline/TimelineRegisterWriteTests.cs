using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Core;
using ReplayVm.Core.Hart;
using ReplayVm.Replay.Timeline;
using TimelineEngine = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Replay.Tests.Timeline;

/// <summary>
/// "When was this register last written" against brute force: a forward single-step scan that
/// decodes every instruction before it runs and counts it as a write when it retires (no
/// exception) with the register as its destination, classified here independently of the hart's
/// own table.
/// </summary>
public sealed class TimelineRegisterWriteTests
{
    private static readonly TimelineOptions Small = new() { CheckpointInterval = 1UL << 16 };

    public static class Cases
    {
        /// <summary>A position early in bench and a register: mostly integer ones, sometimes an FP one (bench has none: never written).</summary>
        public static Arbitrary<(ulong Position, HartRegister Register)> Writes() =>
            (from p in Gen.Choose(1, 300_000)
             from isFloat in Gen.Frequency((6, Gen.Constant(false)), (1, Gen.Constant(true)))
             from index in Gen.Choose(isFloat ? 0 : 1, 31)
             select ((ulong)p, isFloat ? HartRegister.F(index) : HartRegister.X(index))).ToArbitrary();
    }

    /// <summary>The destination register file of an operation, by the spec's description of each (from its name).</summary>
    private static RegisterFile Destination(Opcode op)
    {
        switch (op)
        {
            case Opcode.Beq or Opcode.Bne or Opcode.Blt or Opcode.Bge or Opcode.Bltu or Opcode.Bgeu:
            case Opcode.Sb or Opcode.Sh or Opcode.Sw or Opcode.Sd or Opcode.Fsw or Opcode.Fsd:
            case Opcode.Fence or Opcode.FenceI or Opcode.Ecall or Opcode.Ebreak or Opcode.Mret or Opcode.Sret or Opcode.Wfi or Opcode.SfenceVma:
            case Opcode.Illegal or Opcode.NotDecoded:
                return RegisterFile.None;
        }
        string name = op.ToString();
        if (!name.StartsWith('F')) return RegisterFile.Integer;
        // F/D operations whose result is an integer: compares, classify, conversions to W/L, moves to X.
        string[] toInteger = ["Feq", "Flt", "Fle", "Fclass", "FcvtW", "FcvtL", "FmvX"];
        return toInteger.Any(name.StartsWith) ? RegisterFile.Integer : RegisterFile.Float;
    }

    private sealed record Write(ulong Step, ulong Pc, ulong Value);

    /// <summary>Every write to <paramref name="register"/> by an instruction at a step before <paramref name="before"/>, by single-stepping.</summary>
    private static List<Write> WritesByForwardScan(TraceFile trace, HartRegister register, ulong before)
    {
        var machine = new Replayer(trace, _ => { }).Machine;
        var hart = machine.Hart;
        var writes = new List<Write>();
        Span<byte> bits = stackalloc byte[4];
        while (hart.Steps < before)
        {
            ulong step = hart.Steps, pc = hart.Pc, exceptions = hart.ExceptionsTaken, mcause = hart.ReadCsr(0x342);
            bits.Clear();
            Assert.True(VirtualMemoryView.Read(hart, pc, bits[..2]));
            if ((bits[0] & 3) == 3) Assert.True(VirtualMemoryView.Read(hart, pc + 2, bits[2..]));
            var decoded = Decoder.Decode(BitConverter.ToUInt32(bits));

            Assert.NotEqual(Core.StopReason.GuestExit, machine.Run(1).Reason);
            Assert.Equal(step + 1, hart.Steps);
            if (hart.ExceptionsTaken != exceptions) continue; // a trapping instruction writes nothing
            // An interrupt taken before the step would run another instruction than the one decoded.
            Assert.Equal(mcause, hart.ReadCsr(0x342));

            var file = Destination(decoded.Op);
            bool wrote = file == register.File && decoded.Rd == register.Index && !(file == RegisterFile.Integer && register.Index == 0);
            if (wrote) writes.Add(new Write(step, pc, file == RegisterFile.Integer ? hart.GetX(register.Index) : hart.GetF(register.Index)));
        }
        return writes;
    }

    [Property(Arbitrary = [typeof(Cases)], MaxTest = 8)]
    public void Last_register_write_before_matches_a_single_step_scan((ulong Position, HartRegister Register) c)
    {
        var trace = TimelineRecordings.Bench.Value;
        var writes = WritesByForwardScan(trace, c.Register, c.Position);
        var expected = writes.LastOrDefault();

        var timeline = new TimelineEngine(trace, Small);
        timeline.Seek(c.Position);
        var here = timeline.ComputeHash();
        Assert.Equal(expected?.Step, timeline.LastRegisterWriteBefore(c.Register));
        var found = timeline.FindLastRegisterWrite(c.Register);
        Assert.Equal(expected?.Pc, found?.Pc);
        Assert.Equal(expected?.Value, found?.Value);
        Assert.Equal(c.Position, timeline.Position); // the queries do not move
        Assert.Equal(here, timeline.ComputeHash());

        // Reverse-continue stops right before the last write before here (as a watchpoint does
        // going backwards), even when the instruction just before here made it.
        var reverseTarget = expected;
        var back = timeline.ReverseToRegisterWrite(c.Register);
        if (reverseTarget is null)
        {
            Assert.Equal(TimelineStopKind.Start, back.Kind);
            return;
        }
        Assert.Equal(TimelineStopKind.Watchpoint, back.Kind);
        Assert.Equal(DebugStopKind.RegisterWrite, back.Hit!.Value.Kind);
        Assert.Equal(c.Register, back.Hit.Value.Register);
        Assert.Equal(reverseTarget.Step, back.Hit.Value.Step);
        Assert.Equal(reverseTarget.Step, timeline.Position); // right before the writing instruction

        // Forward from just before it, the next write is that same one.
        timeline.Seek(reverseTarget.Step);
        var forward = timeline.ContinueToRegisterWrite(c.Register);
        Assert.Equal(TimelineStopKind.Watchpoint, forward.Kind);
        Assert.Equal(reverseTarget.Step, forward.Hit!.Value.Step);
    }

    [Fact]
    public void Bench_writes_a0_and_never_x0()
    {
        var timeline = new TimelineEngine(TimelineRecordings.Bench.Value, Small);
        timeline.Seek(200_000);
        Assert.NotNull(timeline.LastRegisterWriteBefore(HartRegister.X(10)));
        Assert.Null(timeline.LastRegisterWriteBefore(HartRegister.X(0)));
        Assert.Equal(200_000UL, timeline.Position);
        Assert.Throws<ArgumentException>(() => timeline.ReverseToRegisterWrite(HartRegister.X(0)));
    }

    [Fact]
    public void A_write_by_the_instruction_just_before_the_position_is_the_last_one()
    {
        var timeline = new TimelineEngine(TimelineRecordings.Bench.Value, Small);
        var a0 = HartRegister.X(10);
        timeline.Seek(150_000);
        var stop = timeline.ContinueToRegisterWrite(a0);
        Assert.Equal(TimelineStopKind.Watchpoint, stop.Kind);
        ulong writer = stop.Hit!.Value.Step;
        Assert.Equal(writer + 1, timeline.Position);

        var found = timeline.FindLastRegisterWrite(a0);
        Assert.Equal(writer, found?.Step);
        Assert.Equal(stop.Hit.Value.Pc, found?.Pc);
        Assert.Equal(timeline.Machine.Hart.GetX(10), found?.Value);
        Assert.Equal(writer + 1, timeline.Position);

        // The same for memory: the store just before here is the last write to its bytes.
        var store = timeline.Continue(null, [new WatchRange(0x8000_0000, 1UL << 27, OnRead: false, OnWrite: true)]);
        Assert.Equal(TimelineStopKind.Watchpoint, store.Kind);
        Assert.Equal(store.Hit!.Value.Step, timeline.LastWriteBefore(store.Hit.Value.Address, 1));
        Assert.Equal(store.Hit.Value.Step, timeline.FindLastMemoryWrite(store.Hit.Value.Address, 1)?.Step);
    }
}
