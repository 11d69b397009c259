using ReplayVm.Core;
using ReplayVm.Core.Hart;
using ReplayVm.Core.Input;
using ReplayVm.Core.Loading;

namespace ReplayVm.Core.Tests.Debug;

/// <summary>Breakpoints stop before the instruction runs; watchpoints stop after the access; both leave
/// the run exactly as it would have gone without them.</summary>
public sealed class DebugHookTests
{
    private static (Machine Machine, ElfImage Image, List<byte> Output) Boot(string guest)
    {
        var output = new List<byte>();
        var image = ElfImage.Parse(File.ReadAllBytes(RepoPaths.GuestBinary(guest)));
        var machine = new Machine(new MachineConfig(), NoInput.Instance, output.Add);
        machine.LoadElf(image);
        return (machine, image, output);
    }

    [Fact]
    public void Breakpoint_stops_before_the_instruction_and_resuming_does_not_change_the_run()
    {
        var (reference, _, referenceOutput) = Boot("hello.elf");
        var plain = reference.Run(10_000_000);

        var (machine, image, output) = Boot("hello.elf");
        ulong main = image.FindSymbol("main")!.Value;
        machine.Hart.SetBreakpoints([main]);
        var stopped = machine.Run(10_000_000);
        Assert.Equal(StopReason.DebugStop, stopped.Reason);
        var stop = machine.TakeDebugStop();
        Assert.NotNull(stop);
        Assert.Equal(DebugStopKind.Breakpoint, stop.Value.Kind);
        Assert.Equal(main, machine.Hart.Pc);
        Assert.Equal(main, stop.Value.Pc);
        Assert.Equal(stop.Value.Step, machine.Hart.Steps);

        var finished = machine.Run(10_000_000);
        Assert.Equal(StopReason.GuestExit, finished.Reason);
        Assert.Equal(plain.ExitCode, finished.ExitCode);
        Assert.Equal(plain.InstructionsRetired, finished.InstructionsRetired);
        Assert.Equal(referenceOutput, output);
    }

    [Fact]
    public void Write_watchpoint_stops_after_each_store_to_the_range_and_counts_them_all()
    {
        var (machine, image, _) = Boot("bench.elf");
        var buffer = image.FindSymbol("buffer_a")!;
        machine.Hart.SetWatchpoints([new WatchRange(buffer.Value, 8, OnRead: false, OnWrite: true)]);
        int hits = 0;
        ulong lastStep = 0;
        for (int i = 0; i < 3; i++)
        {
            var result = machine.Run(50_000_000);
            Assert.Equal(StopReason.DebugStop, result.Reason);
            var stop = machine.TakeDebugStop()!.Value;
            Assert.Equal(DebugStopKind.Watchpoint, stop.Kind);
            Assert.Equal(AccessType.Store, stop.Access);
            Assert.InRange(stop.Address, buffer.Value - 7, buffer.Value + 7);
            Assert.True(stop.Step >= lastStep);
            // The store has completed: the stop comes after the instruction, so pc moved on.
            Assert.NotEqual(stop.Pc, machine.Hart.Pc);
            lastStep = stop.Step;
            hits++;
        }
        Assert.Equal(3, hits);
    }
}
