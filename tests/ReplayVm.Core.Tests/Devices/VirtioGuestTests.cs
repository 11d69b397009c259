using System.Text;
using ReplayVm.Core.Devices.Storage;
using ReplayVm.Core.Input;
using ReplayVm.Core.Loading;
using ReplayVm.Core.Tests.Oracle;
using Xunit.Abstractions;

namespace ReplayVm.Core.Tests.Devices;

/// <summary>
/// A bare-metal virtio-blk driver (Data/virtio_blk_guest.c) reads sector 0, writes and re-reads
/// sector 1, flushes, and provokes IOERR and UNSUPP, checking the PLIC's claim/complete along the
/// way. Its console output must be the same on QEMU's virt (virtio-mmio version 2) and on ours.
/// </summary>
public class VirtioGuestTests(ITestOutputHelper output)
{
    private static string DataDirectory
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "ReplayVm.sln")))
                    return Path.Combine(dir.FullName, "tests", "ReplayVm.Core.Tests", "Devices", "Data");
            throw new InvalidOperationException("ReplayVm.sln not found above " + AppContext.BaseDirectory);
        }
    }

    private static readonly Lazy<string> GuestElf = new(BuildGuest);

    private static string BuildGuest()
    {
        var gcc = ExternalTools.Require(ExternalTools.Gcc);
        var dir = Directory.CreateTempSubdirectory("replayvm-virtio-guest-").FullName;
        var elf = Path.Combine(dir, "virtio_blk_guest.elf");
        var r = ExternalTools.Run(gcc,
            ["-O1", "-march=rv64imac_zicsr", "-mabi=lp64", "-mcmodel=medany", "-ffreestanding", "-nostdlib", "-nostartfiles", "-static",
             "-Wl,--no-warn-rwx-segments", "-T", Path.Combine(DataDirectory, "guest.ld"),
             Path.Combine(DataDirectory, "start.S"), Path.Combine(DataDirectory, "virtio_blk_guest.c"), "-o", elf],
            TimeSpan.FromSeconds(60));
        if (r.ExitCode != 0) Assert.Fail($"{ExternalTools.Gcc} failed:\n{r.Stderr}");
        return elf;
    }

    /// <summary>64 KiB: sector 0 starts with a known sentence, the rest is a pattern.</summary>
    private static byte[] DiskImage()
    {
        var bytes = new byte[64 * 1024];
        Encoding.ASCII.GetBytes("ReplayVm test disk, sector zero!").CopyTo(bytes, 0);
        for (int i = 512; i < bytes.Length; i++) bytes[i] = (byte)(i * 7);
        return bytes;
    }

    [Fact]
    public void Guest_driver_sees_the_same_disk_on_qemu_and_replayvm()
    {
        var elf = GuestElf.Value;
        var image = Path.Combine(Path.GetDirectoryName(elf)!, "disk.img");
        File.WriteAllBytes(image, DiskImage());
        var qemu = ExternalTools.Run(ExternalTools.Require(ExternalTools.Qemu),
            ["-M", "virt", "-cpu", QemuVirt.CpuModel, "-m", "128M", "-smp", "1", "-bios", "none", "-nographic", "-monitor", "none",
             "-serial", "stdio", "-global", "virtio-mmio.force-legacy=false",
             "-drive", $"file={image},if=none,format=raw,id=hd0", "-device", "virtio-blk-device,drive=hd0,bus=virtio-mmio-bus.0", "-device", "virtio-rng-device", "-kernel", elf],
            TimeSpan.FromSeconds(60));
        Assert.False(qemu.TimedOut, "the guest did not finish on QEMU");
        string expected = Encoding.ASCII.GetString(qemu.Stdout);

        var console = new List<byte>();
        var baseDisk = new MemoryBlockStorage(DiskImage(), readOnly: true);
        var machine = new Machine(new MachineConfig(), NoInput.Instance, console.Add);
        machine.AttachDisk(new CopyOnWriteOverlay(baseDisk));
        machine.LoadElf(ElfImage.Parse(File.ReadAllBytes(elf)));
        var result = machine.Run(500_000_000);
        string actual = Encoding.ASCII.GetString(console.ToArray());
        output.WriteLine(actual);

        Assert.Contains("done", expected);
        Assert.Equal(StopReason.GuestExit, result.Reason);
        Assert.Equal(expected, actual);
        Assert.Equal(DiskImage(), baseDisk.Bytes); // the overlay kept the write
    }
}
