using ReplayVm.Core;
using ReplayVm.Core.Board;
using ReplayVm.Core.Devices.Storage;
using ReplayVm.Core.Input;
using ReplayVm.Core.Loading;

namespace ReplayVm.Lockstep;

/// <summary>Builds the ReplayVm machine that mirrors QEMU's command line (see <see cref="QemuCommandLine"/>).</summary>
public static class GuestSetup
{
    public static Machine CreateMachine(LockstepOptions options, byte[]? qemuDeviceTree = null)
    {
        var machine = new Machine(new MachineConfig { Bootargs = options.Append }, NoInput.Instance, _ => { });
        if (options.DrivePath != null)
            machine.AttachDisk(new CopyOnWriteOverlay(new MemoryBlockStorage(File.ReadAllBytes(options.DrivePath), readOnly: true)));
        if (options.ElfPath != null)
        {
            machine.LoadElf(ElfImage.Parse(File.ReadAllBytes(options.ElfPath)));
        }
        else
        {
            var firmware = BootImage.FromBytes(File.ReadAllBytes(options.BiosPath!));
            var kernel = options.KernelPath is { } k ? BootImage.FromBytes(File.ReadAllBytes(k)) : null;
            machine.LoadFirmware(firmware, kernel);
        }
        if (qemuDeviceTree != null)
        {
            var address = VirtDeviceTree.Placement(machine.Ram.Base, machine.Ram.Size, VirtDeviceTree.BlobSize)
                ?? throw new LockstepException("no room for a device tree in RAM");
            if (!machine.Ram.Contains(address, (ulong)qemuDeviceTree.Length))
                throw new LockstepException($"QEMU's device tree ({qemuDeviceTree.Length} bytes) does not fit at 0x{address:x}");
            machine.Ram.Write(address, qemuDeviceTree);
        }
        return machine;
    }

    /// <summary>ELF images among the inputs, for naming addresses (raw binaries have no symbols).</summary>
    public static IReadOnlyList<ElfImage> SymbolImages(LockstepOptions options)
    {
        var images = new List<ElfImage>();
        foreach (var path in options.SymbolSources)
        {
            if (BootImage.FromBytes(File.ReadAllBytes(path)) is BootImage.Elf elf) images.Add(elf.Image);
        }
        return images;
    }
}
