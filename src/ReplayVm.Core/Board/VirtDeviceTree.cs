using System.Text;

namespace ReplayVm.Core.Board;

/// <summary>
/// The device tree QEMU 7.2 builds for its virt board (hw/riscv/virt.c), restricted to the
/// devices this machine has: same node names, phandles, compatible strings and interrupt wiring,
/// so firmware and kernels probe the same way. Intentional differences from QEMU's dump:
/// no /pmu, /fw-cfg, /flash, /platform-bus or /soc/pci nodes (devices we do not model), no
/// /chosen/rng-seed (it would be nondeterministic), and cpu@0's riscv,isa and mmu-type describe our hart.
/// For mmu-type that means the deepest mode satp accepts, riscv,sv57 (the device-tree binding's
/// meaning), where QEMU 7.2 writes riscv,sv48 for every rv64 hart although its hart takes Sv57 too
/// (later QEMU releases name the deepest mode). Linux 6.1 ignores mmu-type and probes satp itself.
/// </summary>
public static class VirtDeviceTree
{
    /// <summary>
    /// QEMU builds its blob in 1 MiB and places it by that size, then packs it before copying it
    /// into RAM (riscv_load_fdt), so firmware sees a tight totalsize. We place by the same 1 MiB and
    /// write the packed blob.
    /// </summary>
    public const int BlobSize = 1 << 20;

    public const uint CpuPhandle = 1, CpuInterruptControllerPhandle = 2, PlicPhandle = 3, TestPhandle = 4;
    public const int UartIrq = 10, RtcIrq = 11, VirtioFirstIrq = 1;
    /// <summary>QEMU 7.2's VIRT_IRQCHIP_NUM_SOURCES, published as riscv,ndev.</summary>
    public const uint PlicSources = 96;
    public const uint UartClockHz = 0x384000;

    /// <param name="initrd">Where an initial RAM disk was loaded ([start, end)), published in /chosen.</param>
    public static byte[] Build(MachineConfig config, (ulong Start, ulong End)? initrd = null) => FdtWriter.Write(Describe(config, initrd));

    public static FdtNode Describe(MachineConfig config, (ulong Start, ulong End)? initrd = null)
    {
        var root = new FdtNode("");
        root.Cells("#address-cells", 2).Cells("#size-cells", 2)
            .Strings("compatible", "riscv-virtio").Strings("model", "riscv-virtio,qemu");

        var chosen = root.AddChild("chosen");
        if (config.Bootargs is { } bootargs) chosen.Strings("bootargs", bootargs);
        chosen.Strings("stdout-path", $"/soc/serial@{MemoryMap.UartBase:x}");
        if (initrd is { } range)
        {
            // QEMU 7.2's virt_machine_done writes both with qemu_fdt_setprop_cell: one 32-bit cell
            // each (Linux reads either width). The range always lies below 4 GiB: it starts at most
            // 128 MiB above a kernel that sits in the first 2 GiB of RAM (see Machine.LoadFirmware).
            chosen.Cells("linux,initrd-start", checked((uint)range.Start)).Cells("linux,initrd-end", checked((uint)range.End));
        }

        root.AddChild("poweroff").Cells("value", 0x5555).Cells("offset", 0).Cells("regmap", TestPhandle).Strings("compatible", "syscon-poweroff");
        root.AddChild("reboot").Cells("value", 0x7777).Cells("offset", 0).Cells("regmap", TestPhandle).Strings("compatible", "syscon-reboot");

        root.AddChild($"memory@{MemoryMap.RamBase:x}").Strings("device_type", "memory").Reg64((MemoryMap.RamBase, config.RamSize));

        var cpus = root.AddChild("cpus");
        cpus.Cells("#address-cells", 1).Cells("#size-cells", 0).Cells("timebase-frequency", (uint)MemoryMap.TimebaseHz);
        var cpu = cpus.AddChild("cpu@0");
        cpu.Cells("phandle", CpuPhandle).Strings("device_type", "cpu").Cells("reg", 0).Strings("status", "okay")
            .Strings("compatible", "riscv").Strings("riscv,isa", IsaString(Hart.Hart.Misa)).Strings("mmu-type", "riscv,sv57");
        cpu.AddChild("interrupt-controller").Cells("#interrupt-cells", 1).Empty("interrupt-controller")
            .Strings("compatible", "riscv,cpu-intc").Cells("phandle", CpuInterruptControllerPhandle);
        cpus.AddChild("cpu-map").AddChild("cluster0").AddChild("core0").Cells("cpu", CpuPhandle);

        var soc = root.AddChild("soc");
        soc.Cells("#address-cells", 2).Cells("#size-cells", 2).Strings("compatible", "simple-bus").Empty("ranges");
        soc.AddChild($"rtc@{MemoryMap.RtcBase:x}").Cells("interrupts", RtcIrq).Cells("interrupt-parent", PlicPhandle)
            .Reg64((MemoryMap.RtcBase, MemoryMap.RtcSize)).Strings("compatible", "google,goldfish-rtc");
        soc.AddChild($"serial@{MemoryMap.UartBase:x}").Cells("interrupts", UartIrq).Cells("interrupt-parent", PlicPhandle)
            .Cells("clock-frequency", UartClockHz).Reg64((MemoryMap.UartBase, MemoryMap.UartSize)).Strings("compatible", "ns16550a");
        soc.AddChild($"test@{MemoryMap.TestFinisherBase:x}").Cells("phandle", TestPhandle)
            .Reg64((MemoryMap.TestFinisherBase, MemoryMap.TestFinisherSize)).Strings("compatible", "sifive,test1", "sifive,test0", "syscon");
        for (int slot = (int)MemoryMap.VirtioSlots - 1; slot >= 0; slot--)
        {
            ulong address = MemoryMap.VirtioBase + (ulong)slot * MemoryMap.VirtioSlotSize;
            soc.AddChild($"virtio_mmio@{address:x}").Cells("interrupts", (uint)(VirtioFirstIrq + slot)).Cells("interrupt-parent", PlicPhandle)
                .Reg64((address, MemoryMap.VirtioSlotSize)).Strings("compatible", "virtio,mmio");
        }
        soc.AddChild($"plic@{MemoryMap.PlicBase:x}").Cells("phandle", PlicPhandle).Cells("riscv,ndev", PlicSources)
            .Reg64((MemoryMap.PlicBase, MemoryMap.PlicSize))
            .Cells("interrupts-extended", CpuInterruptControllerPhandle, 11, CpuInterruptControllerPhandle, 9)
            .Empty("interrupt-controller").Strings("compatible", "sifive,plic-1.0.0", "riscv,plic0")
            .Cells("#address-cells", 0).Cells("#interrupt-cells", 1);
        soc.AddChild($"clint@{MemoryMap.ClintBase:x}").Cells("interrupts-extended", CpuInterruptControllerPhandle, 3, CpuInterruptControllerPhandle, 7)
            .Reg64((MemoryMap.ClintBase, MemoryMap.ClintSize)).Strings("compatible", "sifive,clint0", "riscv,clint0");
        return root;
    }

    /// <summary>
    /// The riscv,isa string for a misa value: base, single-letter extensions in canonical order
    /// (ISA manual ch. 27), then the Z and S extensions the hart always has.
    /// </summary>
    public static string IsaString(ulong misa)
    {
        var isa = new StringBuilder("rv64");
        foreach (char ext in "imafdqch")
            if ((misa & (1UL << (ext - 'a'))) != 0) isa.Append(ext);
        // Sstc (stimecmp, menvcfg.STCE) is named as QEMU 7.2 names it: a kernel that finds it
        // here programs its timer directly instead of through SBI set_timer, as on QEMU.
        isa.Append("_zicsr_zifencei_sstc");
        return isa.ToString();
    }

    /// <summary>
    /// Where QEMU 7.2's riscv_load_fdt puts the blob: 2 MiB-aligned, just below the end of RAM or
    /// 3 GiB, whichever is lower, so kernels and initrds placed low do not overwrite it.
    /// Null when RAM is too small to hold it there.
    /// </summary>
    public static ulong? Placement(ulong ramBase, ulong ramSize, int blobSize)
    {
        const ulong ThreeGiB = 3UL << 30, TwoMiB = 2UL << 20;
        ulong ramEnd = ramBase + ramSize;
        ulong top = ramBase < ThreeGiB ? Math.Min(ramEnd, ThreeGiB) : ramEnd;
        if (top - ramBase < (ulong)blobSize) return null;
        ulong address = (top - (ulong)blobSize) & ~(TwoMiB - 1);
        return address >= ramBase ? address : null;
    }
}
