namespace ReplayVm.Lockstep;

/// <summary>
/// QEMU 7.2 arguments for a virt board equal to ReplayVm's: one hart with ReplayVm's extensions,
/// 128 MiB, a virtio-rng in the last virtio-mmio slot (ReplayVm always has one there), disks from
/// the first slot, modern (non-legacy) virtio-mmio, and <c>-icount shift=0</c> so that one
/// instruction is one nanosecond of guest time — ReplayVm's clock — making timer interrupts land
/// on the same instruction in both.
/// </summary>
public static class QemuCommandLine
{
    /// <summary>QEMU's default rv64 also has H; give it exactly the extensions ReplayVm's misa announces.</summary>
    public static string CpuModel()
    {
        const ulong misa = ReplayVm.Core.Hart.Hart.Misa;
        static string Flag(char ext) => (misa & (1UL << (ext - 'A'))) != 0 ? "true" : "false";
        return $"rv64,f={Flag('F')},d={Flag('D')},h={Flag('H')}";
    }

    public static IReadOnlyList<string> Build(LockstepOptions options, string cpuModel, string logPath, string? driveCopy)
    {
        var a = new List<string>
        {
            "-M", "virt", "-cpu", cpuModel, "-m", "128M", "-smp", "1",
            "-display", "none", "-serial", "null", "-monitor", "none", "-nodefaults",
            "-icount", "shift=0,sleep=off",
            "-global", "virtio-mmio.force-legacy=false",
            // One instruction per TB, no chaining: QEMU then logs the state before every instruction;
            // fpu adds f0..f31, int marks interrupt entries (which get no state line of their own).
            "-singlestep", "-d", "cpu,fpu,int,nochain", "-D", logPath,
        };
        if (options.ElfPath != null) a.AddRange(["-bios", "none", "-kernel", options.ElfPath]);
        else
        {
            a.AddRange(["-bios", options.BiosPath!]);
            if (options.KernelPath != null) a.AddRange(["-kernel", options.KernelPath]);
        }
        if (options.Append != null) a.AddRange(["-append", options.Append]);
        if (driveCopy != null)
            a.AddRange(["-drive", $"file={driveCopy},if=none,format=raw,id=hd0", "-device", "virtio-blk-device,drive=hd0,bus=virtio-mmio-bus.0"]);
        a.AddRange(["-device", "virtio-rng-device,bus=virtio-mmio-bus.7"]);
        return a;
    }
}
