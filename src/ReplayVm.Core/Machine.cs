using ReplayVm.Core.Board;
using ReplayVm.Core.Devices;
using ReplayVm.Core.Devices.Storage;
using ReplayVm.Core.Hart;
using ReplayVm.Core.Input;
using ReplayVm.Core.Loading;
using ReplayVm.Core.Memory;

namespace ReplayVm.Core;

/// <summary>
/// A whole board: hart, RAM, devices on QEMU virt's map, and the loop that runs the hart in slices.
/// Between slices — and only there — the machine delivers input, updates interrupt lines and
/// lets WFI skip time; slice ends depend only on guest state and on the input port's schedule,
/// which is what makes runs reproducible.
/// </summary>
public sealed partial class Machine : IInputSink
{
    /// <summary>Steps between input polls. Small enough that typed keys feel instant; large enough to cost nothing.</summary>
    public const ulong PollInterval = 4096;

    private readonly IInputPort _input;
    private readonly Action<byte> _console;
    private ulong _nextPoll;
    private (int Code, string? Detail)? _exit;
    private volatile bool _stopRequested;
    /// <summary>Cancelled by <see cref="RequestStop"/>, to end a wait for host input at once (see <see cref="Idle"/>).</summary>
    private CancellationTokenSource _wake = new();
    /// <summary>Console bytes handed to the UART by the current poll.</summary>
    private int _deliveredByPoll;
    /// <summary>A live input port said it has input after an idle wait: poll at the top of the loop, at this step.</summary>
    private bool _inputReady;
    private HtifHost? _htif;

    public Machine(MachineConfig config, IInputPort input, Action<byte> consoleOutput)
    {
        Config = config;
        _input = input;
        _console = b =>
        {
            ConsoleTail.Add(b);
            consoleOutput(b);
        };
        Ram = new MainMemory(MemoryMap.RamBase, config.RamSize);
        Bus = new Bus(Ram);
        Hart = new Hart.Hart(Bus) { Engine = config.Engine };
        Clint = new Clint(Hart.Clock, Hart.EndSlice);
        Uart = new Uart16550(_console);
        Bus.Map(MemoryMap.ClintBase, MemoryMap.ClintSize, Clint);
        Bus.Map(MemoryMap.UartBase, MemoryMap.UartSize, Uart);
        Bus.Map(MemoryMap.TestFinisherBase, MemoryMap.TestFinisherSize, new SifiveTestFinisher(RequestExit));
        Peripherals = new VirtPeripherals(Bus, Hart, Uart, input);
    }

    public MachineConfig Config { get; }
    public MainMemory Ram { get; }
    public Bus Bus { get; }
    public Hart.Hart Hart { get; }
    public Clint Clint { get; }
    public Uart16550 Uart { get; }

    /// <summary>The last bytes the guest printed (host bookkeeping for <c>replayvm inspect</c>, not machine state).</summary>
    public ConsoleTail ConsoleTail { get; } = new();

    /// <summary>PLIC, virtio-mmio slots and RTC.</summary>
    public VirtPeripherals Peripherals { get; }

    /// <summary>Adds a virtio-blk disk backed by <paramref name="storage"/>; call before loading an image.</summary>
    public void AttachDisk(IBlockStorage storage) => Peripherals.AttachDisk(storage);

    public ulong InstructionsRetired => Hart.InstructionsRetired;

    /// <summary>Slows the run to real time when set; see <see cref="IGuestPacer"/>.</summary>
    public IGuestPacer? Pacer { get; set; }

    /// <summary>Loads an ELF's PT_LOAD segments at their physical addresses, as QEMU's <c>-bios none -kernel</c> does.</summary>
    public void LoadElf(ElfImage image)
    {
        PlaceElf(image, "image", avoid: null);
        if (Config.Board == BoardKind.Spike)
        {
            var tohost = image.FindSymbol("tohost")
                ?? throw new GuestImageException("--machine spike needs a 'tohost' symbol in the ELF");
            _htif = new HtifHost(Ram, tohost.Value, image.FindSymbol("fromhost")?.Value, _console, RequestExit);
        }
        Boot(image.Entry, image.Entry);
    }

    /// <summary>Loads a raw binary at <paramref name="address"/> and starts there.</summary>
    public void LoadRaw(ReadOnlySpan<byte> data, ulong address)
    {
        PlaceRaw(data, address, "image", avoid: null);
        Boot(address, address);
    }

    /// <summary>
    /// QEMU's <c>-bios FIRMWARE -kernel KERNEL [-initrd INITRD]</c>: the firmware at its ELF
    /// addresses or, raw, at the start of RAM; the kernel at its ELF addresses or, raw, at the first
    /// 2 MiB boundary after the firmware (QEMU's riscv_calc_kernel_start_addr for RV64). The boot
    /// ROM hands the firmware the kernel's entry in the fw_dynamic info block (a2), as QEMU does.
    /// An initrd goes where QEMU 7.2's riscv_load_initrd puts it — the kernel's entry plus half the
    /// RAM, at most 128 MiB, far enough that the kernel does not overwrite it as it sets itself up —
    /// and the device tree's /chosen names its range (linux,initrd-start and -end).
    /// </summary>
    public void LoadFirmware(BootImage firmware, BootImage? kernel, byte[]? initrd = null)
    {
        if (initrd is not null && kernel is null)
            throw new GuestImageException("an initrd needs a kernel (QEMU's -initrd goes with -kernel)");
        var (firmwareStart, firmwareEnd, firmwareEntry) = Place(firmware, Ram.Base, "firmware", avoid: null);
        ulong next = 0;
        (ulong Start, ulong End)? initrdRange = null;
        if (kernel is not null)
        {
            const ulong kernelAlignment = 2UL << 20;
            ulong kernelBase = (firmwareEnd + kernelAlignment - 1) & ~(kernelAlignment - 1);
            var (kernelStart, kernelEnd, kernelEntry) = Place(kernel, kernelBase, "kernel", avoid: (firmwareStart, firmwareEnd));
            next = kernelEntry;
            if (initrd is not null)
                initrdRange = PlaceInitrd(initrd, kernelEntry, [("firmware", firmwareStart, firmwareEnd), ("kernel", kernelStart, kernelEnd)]);
        }
        Boot(firmwareEntry, next, initrdRange);
    }

    /// <summary>Where QEMU 7.2's riscv_load_initrd places an initrd for a kernel entered at <paramref name="kernelEntry"/>.</summary>
    public static ulong InitrdAddress(ulong kernelEntry, ulong ramSize) => kernelEntry + Math.Min(ramSize / 2, 128UL << 20);

    private (ulong Start, ulong End) PlaceInitrd(byte[] data, ulong kernelEntry, (string Role, ulong Start, ulong End)[] avoid)
    {
        ulong start = InitrdAddress(kernelEntry, Ram.Size);
        ulong end = start + (ulong)data.Length;
        if (start < kernelEntry || !Ram.Contains(start, (ulong)Math.Max(data.Length, 1)))
            throw new GuestImageException(
                $"initrd of {data.Length} bytes at 0x{start:x} (kernel entry + min(RAM/2, 128 MiB), as QEMU places it) " +
                $"does not fit in RAM 0x{Ram.Base:x}-0x{Ram.Base + Ram.Size - 1:x}: give more memory with -m");
        // The device tree sits near the top of RAM (VirtDeviceTree.Placement); an initrd running
        // into it would be overwritten, so it is refused as QEMU's overlapping ROMs are.
        var deviceTree = Config.Board == BoardKind.Virt ? VirtDeviceTree.Placement(Ram.Base, Ram.Size, VirtDeviceTree.BlobSize) : null;
        var regions = deviceTree is { } dt ? [.. avoid, ("device tree", dt, dt + (ulong)VirtDeviceTree.BlobSize)] : avoid;
        foreach (var (role, otherStart, otherEnd) in regions)
            if (start < otherEnd && otherStart < end)
                throw new GuestImageException(
                    $"initrd at 0x{start:x}-0x{end - 1:x} overlaps the {role} at 0x{otherStart:x}-0x{otherEnd - 1:x}: give more memory with -m");
        Ram.Write(start, data);
        return (start, end);
    }

    private (ulong Start, ulong End, ulong Entry) Place(BootImage image, ulong rawAddress, string role, (ulong Start, ulong End)? avoid) =>
        image switch
        {
            BootImage.Elf elf => PlaceElf(elf.Image, role, avoid) is var (start, end) ? (start, end, elf.Image.Entry) : default,
            BootImage.Raw raw => (rawAddress, PlaceRaw(raw.Bytes, rawAddress, role, avoid), rawAddress),
            _ => throw new ArgumentOutOfRangeException(nameof(image)),
        };

    /// <summary>Writes an ELF's segments into RAM; returns the [start, end) range they cover.</summary>
    private (ulong Start, ulong End) PlaceElf(ElfImage image, string role, (ulong Start, ulong End)? avoid)
    {
        ulong low = ulong.MaxValue, high = 0;
        foreach (var segment in image.Segments)
        {
            if (segment.MemorySize == 0) continue;
            ulong end = segment.LoadAddress + segment.MemorySize;
            if (end < segment.LoadAddress || end <= Ram.Base || segment.LoadAddress >= Ram.Base + Ram.Size || end > Ram.Base + Ram.Size)
                throw new GuestImageException(
                    $"{role} segment at 0x{segment.LoadAddress:x} (0x{segment.MemorySize:x} bytes) lies outside RAM 0x{Ram.Base:x}-0x{Ram.Base + Ram.Size - 1:x}");
            CheckOverlap(role, Math.Max(segment.LoadAddress, Ram.Base), end, avoid);
            low = Math.Min(low, Math.Max(segment.LoadAddress, Ram.Base));
            high = Math.Max(high, end);
        }
        foreach (var segment in image.Segments)
        {
            if (segment.MemorySize == 0) continue;
            ulong start = segment.LoadAddress;
            // A segment may begin below RAM when it carries the ELF headers (as with -Ttext=0x80000000);
            // QEMU drops bytes that land where there is no memory, and so do we.
            ulong skip = start < Ram.Base ? Ram.Base - start : 0;
            ulong fileSize = Math.Min((ulong)segment.FileBytes.Length, segment.MemorySize);
            if (skip < fileSize) Ram.Write(start + skip, segment.FileBytes.AsSpan((int)skip, (int)(fileSize - skip)));
            // The rest (.bss, and the stack and heap a bare-metal image reserves there: 1.1 MB of
            // hello's 1.1 MB) is zeros: only pages already written need clearing.
            ulong zeroFrom = Math.Max(skip, fileSize);
            if (zeroFrom < segment.MemorySize) Ram.Zero(start + zeroFrom, segment.MemorySize - zeroFrom);
        }
        return low == ulong.MaxValue ? (Ram.Base, Ram.Base) : (low, high);
    }

    /// <summary>Writes a raw image at <paramref name="address"/>; returns its end address.</summary>
    private ulong PlaceRaw(ReadOnlySpan<byte> data, ulong address, string role, (ulong Start, ulong End)? avoid)
    {
        if (!Ram.Contains(address, (ulong)Math.Max(data.Length, 1)))
            throw new GuestImageException($"{role} of {data.Length} bytes at 0x{address:x} does not fit in RAM 0x{Ram.Base:x}-0x{Ram.Base + Ram.Size - 1:x}");
        CheckOverlap(role, address, address + (ulong)data.Length, avoid);
        Ram.Write(address, data);
        return address + (ulong)data.Length;
    }

    private static void CheckOverlap(string role, ulong start, ulong end, (ulong Start, ulong End)? avoid)
    {
        if (avoid is { } other && start < other.End && other.Start < end)
            throw new GuestImageException(
                $"{role} at 0x{start:x}-0x{end - 1:x} overlaps the firmware at 0x{other.Start:x}-0x{other.End - 1:x}");
    }

    /// <summary>Maps QEMU's reset ROM so the hart starts at 0x1000 and jumps to <paramref name="entry"/>;
    /// <paramref name="nextStage"/> goes in the fw_dynamic block for a firmware to jump to.</summary>
    private void Boot(ulong entry, ulong nextStage, (ulong Start, ulong End)? initrd = null)
    {
        // QEMU's virt always hands the kernel a device tree in a1; Spike guests get none.
        ulong deviceTree = Config.Board == BoardKind.Virt ? Peripherals.LoadDeviceTree(Config, initrd) : 0;
        Bus.Map(BootRom.Base, BootRom.Size, new BootRom(entry, deviceTreeAddress: deviceTree, nextStageEntry: nextStage));
        Hart.Reset();
    }

    private void RequestExit(int code, string? detail)
    {
        _exit ??= (code, detail);
        Hart.EndSlice();
    }

    /// <summary>The breakpoint or watchpoint hit that ended the last <see cref="Run"/> with <see cref="StopReason.DebugStop"/>.</summary>
    public DebugStop? TakeDebugStop() => Hart.TakeDebugStop();

    /// <summary>Asks a running <see cref="Run"/> to return soon; safe from any thread.</summary>
    public void RequestStop()
    {
        _stopRequested = true;
        Hart.EndSlice();
        _wake.Cancel();
    }

    /// <summary>
    /// Runs until the guest exits, <paramref name="maxInstructions"/> more steps have been taken
    /// (instructions retired plus exceptions), the guest is stuck, or the host asks to stop.
    /// <c>Run(1)</c> executes exactly one instruction or takes one exception.
    /// </summary>
    /// <param name="stopAtBreakpointHere">
    /// Whether a breakpoint at the first instruction this run would execute stops it before that
    /// instruction, as it would inside a longer run: true when the run merely continues one that
    /// ended at a limit (a replay resuming from a checkpoint, a scan entering a window). False (the
    /// default) when resuming from a breakpoint stop the debugger has reported: the run then steps
    /// over a breakpoint at the pc it shows now, but still stops at one elsewhere, such as the
    /// handler of an interrupt taken before that instruction. Interrupts due at this step are taken
    /// first either way, so whether a breakpoint hits never depends on where runs begin.
    /// </param>
    public RunResult Run(ulong maxInstructions, bool stopAtBreakpointHere = false)
    {
        ulong limit = maxInstructions > ulong.MaxValue - Hart.Steps ? ulong.MaxValue : Hart.Steps + maxInstructions;
        if (stopAtBreakpointHere) Hart.StopAtAnyBreakpoint();
        else Hart.ResumeFromBreakpoint();
        while (true)
        {
            if (_exit is { } exit) return new RunResult(StopReason.GuestExit, exit.Code, InstructionsRetired, exit.Detail);
            if (Hart.TrapLoopDetected) return new RunResult(StopReason.TrapLoop, 125, InstructionsRetired, Hart.DescribeTrapLoop());
            if (_stopRequested)
            {
                _stopRequested = false;
                if (_wake.IsCancellationRequested) _wake = new CancellationTokenSource();
                return new RunResult(StopReason.HostRequest, 130, InstructionsRetired, null);
            }
            if (Hart.Steps >= limit) return new RunResult(StopReason.InstructionLimit, 124, InstructionsRetired, null);

            EnterStep();

            ulong end = Math.Min(Math.Min(limit, _nextPoll), Math.Min(_input.NextDeliveryAt, NextTimerStep()));
            if (end <= Hart.Steps) end = Hart.Steps + 1;
            Hart.RunSlice(end);

            if (Hart.PendingDebugStop is not null) return new RunResult(StopReason.DebugStop, 0, InstructionsRetired, null);
            if (Hart.WaitingForInterrupt) Idle();
            Pacer?.WaitForHost(Hart.Clock.Nanoseconds);
            _htif?.Poll();
        }
    }

    /// <summary>
    /// What the run loop does before the instruction at the current step: delivers the input due
    /// now, fires a due RTC alarm, raises the interrupt lines and takes a pending interrupt, so that
    /// the state shows the instruction about to execute at this step (after a limit, a run stops
    /// before this; the next run does it first). Doing it again at the same step changes nothing
    /// more, so a debugger may call it to show a stop found by replaying as a forward run showed it.
    /// </summary>
    public void EnterStep()
    {
        bool pollDue = Hart.Steps >= _nextPoll || Hart.Steps >= _input.NextDeliveryAt;
        if (pollDue || _inputReady)
        {
            _deliveredByPoll = 0;
            _input.Poll(Hart.Steps, this);
            // A poll made only because a live port had input after an idle wait moves the schedule
            // only if it delivered: a replay polls here only where the recording logged a delivery.
            if (pollDue || _deliveredByPoll > 0) _nextPoll = Hart.Steps + PollInterval;
            _inputReady = false;
        }
        Peripherals.Rtc.FireAlarmIfDue();
        UpdateInterruptLines();
        Hart.TakePendingInterrupt();
    }

    private void UpdateInterruptLines()
    {
        ulong lines = 0;
        if (Clint.SoftwareInterrupt) lines |= 1UL << InterruptCause.MachineSoftware;
        if (Clint.TimerInterrupt) lines |= 1UL << InterruptCause.MachineTimer;
        lines |= Peripherals.ExternalInterruptLines;
        Hart.InterruptLines = lines;
    }

    /// <summary>The step at which the next timer fires — the CLINT's mtimecmp or Sstc's stimecmp — if not already.</summary>
    private ulong NextTimerStep()
    {
        ulong next = Clint.TimerInterrupt ? ulong.MaxValue : Hart.Clock.StepWhenTicksReach(Clint.Mtimecmp);
        if (Hart.SupervisorTimerCompare is { } stimecmp && Hart.Clock.Ticks < stimecmp)
            next = Math.Min(next, Hart.Clock.StepWhenTicksReach(stimecmp));
        if (Peripherals.Rtc.InterruptRisesAtNanoseconds is { } alarm) next = Math.Min(next, Hart.Steps + (alarm - Hart.Clock.Nanoseconds));
        return next;
    }

    /// <summary>
    /// WFI (privileged spec 3.3.3) with nothing pending. If a timer could wake the hart, guest time
    /// skips to its deadline at once (a pure function of the machine's state, so a replay skips
    /// identically; the step count does not move, only the clock's idle nanoseconds). Otherwise only
    /// host input can change what the guest does next: a live input port may then block until it
    /// has some (or <see cref="RequestStop"/>), without advancing a step, as QEMU does under
    /// <c>-icount</c> with nothing to run; the input is handed over at this very step, which is
    /// where the recording logs it and so where a replay delivers it. Where nothing is waited for
    /// (a replay, a script, no input port, an RTC alarm that will fire), WFI acts as a no-op, which
    /// the spec permits, and the guest runs on.
    /// </summary>
    private void Idle()
    {
        Hart.WaitingForInterrupt = false;
        UpdateInterruptLines();
        if (Hart.InterruptWouldWake) return;
        const ulong timers = (1UL << InterruptCause.MachineTimer) | (1UL << InterruptCause.SupervisorTimer);
        if ((Hart.ReadCsr(0x304) & timers) != 0 && NextTimerStep() is var next && next != ulong.MaxValue)
        {
            Hart.Clock.SkipIdleUntilStep(next);
            return;
        }
        if (_input.NextDeliveryAt != ulong.MaxValue || Peripherals.Rtc.InterruptRisesAtNanoseconds is not null || _stopRequested) return;
        // The input is delivered at the top of the run loop, after its stop checks, where a replay
        // delivers an input logged at this step: a run that ends here ends before it, either way.
        _inputReady = _input.WaitForInput(Hart.Steps, _wake.Token);
    }

    int IInputSink.ConsoleRoom => Uart.ReceiveRoom;

    void IInputSink.DeliverConsoleByte(byte value)
    {
        _deliveredByPoll++;
        Uart.Receive(value);
    }
}
