using ReplayVm.Core.Devices;
using ReplayVm.Core.Devices.Storage;
using ReplayVm.Core.Devices.Virtio;
using ReplayVm.Core.Hart;
using ReplayVm.Core.Input;
using ReplayVm.Core.Memory;
using ReplayVm.Core.State;

namespace ReplayVm.Core.Board;

/// <summary>
/// The interrupt-driven part of QEMU virt: the PLIC, eight virtio-mmio slots and the Goldfish RTC,
/// mapped at their virt addresses and wired to the PLIC with virt's interrupt numbers
/// (UART 10, RTC 11, virtio 1..8). A virtio-rng entropy device is always present in slot 7
/// (<see cref="RngSlot"/>); disks fill the other slots. Each device drives its PLIC line where
/// QEMU's model of it calls qemu_set_irq; a change of a pending bit ends the hart's slice
/// (<see cref="Hart.Hart.EndSlice"/>), so the machine re-evaluates mip after that instruction.
/// </summary>
public sealed class VirtPeripherals
{
    private readonly MainMemory _ram;

    public VirtPeripherals(Bus bus, Hart.Hart hart, Uart16550 uart, IInputPort input)
    {
        _ram = bus.Ram;
        Plic = new Plic(hart.EndSlice);
        bus.Map(MemoryMap.PlicBase, MemoryMap.PlicSize, Plic);
        uart.InterruptLine = Plic.Line(VirtDeviceTree.UartIrq);

        VirtioSlots = new VirtioMmio[MemoryMap.VirtioSlots];
        for (int i = 0; i < VirtioSlots.Length; i++)
        {
            var slot = new VirtioMmio(_ram, Plic.Line(VirtDeviceTree.VirtioFirstIrq + i));
            VirtioSlots[i] = slot;
            bus.Map(MemoryMap.VirtioBase + (ulong)i * MemoryMap.VirtioSlotSize, MemoryMap.VirtioSlotSize, slot);
        }

        Rng = new VirtioRng(input, () => hart.Steps);
        VirtioSlots[RngSlot].Attach(Rng);

        Rtc = new GoldfishRtc(() => input.ReadWallClock(hart.Steps), hart.Clock, Plic.Line(VirtDeviceTree.RtcIrq));
        bus.Map(MemoryMap.RtcBase, MemoryMap.RtcSize, Rtc);
    }

    /// <summary>
    /// The slot of the always-present virtio-rng: the last one, 0x1000_8000, IRQ 8 — where QEMU puts
    /// a <c>-device virtio-rng-device</c> given without a bus. Disks fill the slots from the first
    /// (see <see cref="AttachDisk"/>).
    /// </summary>
    public const int RngSlot = (int)MemoryMap.VirtioSlots - 1;

    public Plic Plic { get; }
    public VirtioRng Rng { get; }
    public VirtioMmio[] VirtioSlots { get; }
    public GoldfishRtc Rtc { get; }

    /// <summary>Every device here with state, in a fixed order (snapshots save and restore them in it).</summary>
    public IEnumerable<IDeviceState> StatefulDevices => [Plic, .. VirtioSlots, Rtc];

    /// <summary>
    /// Adds a virtio-blk disk in the lowest free slot: the first disk sits at 0x1000_1000 (IRQ 1),
    /// as QEMU places <c>-device virtio-blk-device,bus=virtio-mmio-bus.0</c> and as kernels written
    /// for virt (xv6 among them) expect their disk.
    /// </summary>
    public VirtioMmio AttachDisk(IBlockStorage storage)
    {
        for (int i = 0; i < VirtioSlots.Length; i++)
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
    public ulong LoadDeviceTree(MachineConfig config, (ulong Start, ulong End)? initrd = null)
    {
        byte[] blob = VirtDeviceTree.Build(config, initrd);
        if (VirtDeviceTree.Placement(_ram.Base, _ram.Size, VirtDeviceTree.BlobSize) is not { } address) return 0;
        _ram.Write(address, blob);
        return address;
    }
}
