using ReplayVm.Core.Devices.Storage;
using ReplayVm.Core.Input;
using ReplayVm.Core.Loading;
using ReplayVm.Core.State;

namespace ReplayVm.Core.Tests.Snapshots;

/// <summary>
/// Types a fixed string into the console from a given step on, as fast as the FIFO takes it. Its
/// cursor is the only state, and tests save and restore it next to a machine snapshot (a
/// replayed trace's input port is rewound by the timeline the same way).
/// </summary>
internal sealed class TypingInput(byte[] text, ulong fromStep) : IInputPort
{
    public int Cursor { get; set; }

    public ulong NextDeliveryAt => ulong.MaxValue;

    public void Poll(ulong instret, IInputSink sink)
    {
        if (instret < fromStep) return;
        while (Cursor < text.Length && sink.ConsoleRoom > 0) sink.DeliverConsoleByte(text[Cursor++]);
    }

    public ulong ReadWallClock(ulong instret) => NoInput.Instance.ReadWallClock(instret);

    public void ReadEntropy(ulong instret, Span<byte> destination) => NoInput.Instance.ReadEntropy(instret, destination);
}

/// <summary>A committed guest booted on a fresh machine, with its console output collected.</summary>
internal sealed class GuestRun
{
    public static readonly string[] Names = ["bench", "traps", "kernel", "demo"];

    private GuestRun(Machine machine, List<byte> output, TypingInput? typing, CopyOnWriteOverlay? disk)
    {
        Disk = disk;
        Machine = machine;
        Output = output;
        Typing = typing;
    }

    public Machine Machine { get; }
    public List<byte> Output { get; }
    public TypingInput? Typing { get; }
    public CopyOnWriteOverlay? Disk { get; }

    public static string RepoRoot => RepoPaths.Root;

    private static string GuestsDir => Path.Combine(RepoRoot, "tools", "guests");

    /// <summary>
    /// bench and traps run alone; kernel gets its disk (behind a copy-on-write overlay, as a
    /// session would) and its stdin line; demo runs with no input at all.
    /// </summary>
    public static GuestRun Boot(string name)
    {
        var output = new List<byte>();
        TypingInput? typing = name == "kernel"
            ? new TypingInput(File.ReadAllBytes(Path.Combine(GuestsDir, "expected", "kernel.stdin")), fromStep: 200_000)
            : null;
        var machine = new Machine(new MachineConfig { RamSize = 16UL << 20 }, typing ?? (IInputPort)NoInput.Instance, output.Add);
        CopyOnWriteOverlay? disk = null;
        if (name == "kernel")
        {
            var image = File.ReadAllBytes(Path.Combine(GuestsDir, "kernel", "disk.img"));
            disk = new CopyOnWriteOverlay(new MemoryBlockStorage(image, readOnly: true));
            machine.AttachDisk(disk);
        }
        machine.LoadElf(ElfImage.Parse(File.ReadAllBytes(Path.Combine(GuestsDir, "elf", name + ".elf"))));
        return new GuestRun(machine, output, typing, disk);
    }

    /// <summary>A snapshot plus what lives outside the machine: how much output there was and the typing cursor.</summary>
    public sealed record Point(MachineSnapshot Snapshot, byte[] OutputSoFar, int TypingCursor);

    public Point Capture(MachineSnapshot? basis = null) =>
        new(Machine.CaptureSnapshot(basis), Output.ToArray(), Typing?.Cursor ?? 0);

    public void Restore(Point point)
    {
        Machine.RestoreSnapshot(point.Snapshot);
        Output.Clear();
        Output.AddRange(point.OutputSoFar);
        if (Typing is not null) Typing.Cursor = point.TypingCursor;
    }

    public StateHash Hash() => new MachineStateHasher(Machine).Compute();

    public (StateHash Hash, byte[] Output, ulong Steps, StopReason Reason) Observe(RunResult run) =>
        (Hash(), Output.ToArray(), Machine.Hart.Steps, run.Reason);
}
