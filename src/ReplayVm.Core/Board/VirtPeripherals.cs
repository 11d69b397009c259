using ReplayVm.Core.Devices;
using ReplayVm.Core.Devices.Storage;
using ReplayVm.Core.Devices.Virtio;
using ReplayVm.Core.Hart;
using ReplayVm.Core.Input;
using ReplayVm.Core.Memory;

namespace ReplayVm.Core.Board;

/// <summary>
/// The interrupt-driven part of QEMU virt: the PLIC, eight virtio-mmio slots and the Goldfish RTC,
/// mapped at their virt addresses and wired to the PLIC with virt's interrupt numbers
/// (UART 10, RTC 11, virtio 1..8). A virtio-rng entropy device is always present in slot 6
/// (<see cref="RngSlot"/>); disks fill the other slots. Every device signals a possible change of its interrupt level
/// through <see cref="Hart.Hart.EndSlice"/>, so the machine re-evaluates mip after that instruction.
/// </summary>
public sealed class VirtPeripherals
{
    private readonly MainMemory _ram;

    public VirtPeripherals(Bus bus, Hart.Hart hart, Uart16550 uart, IInputPort input)
    {
        _ram = bus.Ram;
        Plic = new Plic(hart.EndSlice);
        bus.Map(MemoryMap.PlicBase, MemoryMap.PlicSize, Plic);
        Plic.Connect(VirtDeviceTree.UartIrq, () => uart.InterruptPending);

        VirtioSlots = new VirtioMmio[MemoryMap.VirtioSlots];
        for (int i = 0; i < VirtioSlots.Length; i++)
        {
            var slot = new VirtioMmio(_ram, hart.EndSlice);
            VirtioSlots[i] = slot;
            bus.Map(MemoryMap.VirtioBase + (ulong)i * MemoryMap.VirtioSlotSize, MemoryMap.VirtioSlotSize, slot);
            Plic.Connect(VirtDeviceTree.VirtioFirstIrq + i, () => slot.InterruptPending);
        }

        Rng = new VirtioRng(input, () => hart.Steps);
        VirtioSlots[RngSlot].Attach(Rng);

        Rtc = new GoldfishRtc(() => input.ReadWallClock(hart.Steps), hart.Clock, hart.EndSlice);
        bus.Map(MemoryMap.RtcBase, MemoryMap.RtcSize, Rtc);
        Plic.Connect(VirtDeviceTree.RtcIrq, () => Rtc.InterruptPending);
    }

    /// <summary>
    /// The slot of the always-present virtio-rng: 0x1000_7000, IRQ 7. QEMU fills slots from the
    /// highest address down in <c>-device</c> order, so this is where QEMU puts
    /// <c>-device virtio-rng-device</c> given after one disk, and the first disk keeps its usual
    /// place at 0x1000_8000. Without a disk QEMU would put the rng at 0x1000_8000 instead; drivers
    /// scan the slots for device ID 4, so they find it either way.
    /// </summary>
    public const int RngSlot = (int)MemoryMap.VirtioSlots - 2;

    public Plic Plic { get; }
    public VirtioRng Rng { get; }
    public VirtioMmio[] VirtioSlots { get; }
    public GoldfishRtc Rtc { get; }

    /// <summary>
    /// Adds a virtio-blk disk. Like QEMU's virt, whose <c>-device</c> options fill the transports
    /// from the highest address down, the first disk sits at 0x1000_8000 (IRQ 8), the next in the
    /// highest free slot below it (the rng's slot is taken).
    /// </summary>
    public VirtioMmio AttachDisk(IBlockStorage storage)
    {
        for (int i = VirtioSlots.Length - 1; i >= 0; i--)
        {
            if (VirtioSlots[i].Device != null) continue;
            VirtioSlots[i].Attach(new VirtioBlock(storage));
            return VirtioSlots[i];
        }
        throw new InvalidOperationException($"all {VirtioSlots.Length} virtio-mmio slots are in use");
    }

    /// <summary>mip bits driven by the PLIC: MEIP from context 0, SEIP from context 1.</summary>
    public ulong ExternalInterruptLines =>
        (Plic.ContextInterrupt(Plic.MachineContext) ? 1UL << InterruptCause.MachineExternal : 0)
        | (Plic.ContextInterrupt(Plic.SupervisorContext) ? 1UL << InterruptCause.SupervisorExternal : 0);

    /// <summary>Writes the board's device tree where QEMU would and returns its address (0 when RAM is too small).</summary>
    public ulong LoadDeviceTree(MachineConfig config)
    {
        byte[] blob = VirtDeviceTree.Build(config);
        if (VirtDeviceTree.Placement(_ram.Base, _ram.Size, VirtDeviceTree.BlobSize) is not { } address) return 0;
        _ram.Write(address, blob);
        return address;
    }
}
