using System.Text;
using ReplayVm.Core.Devices.Storage;
using Xunit.Abstractions;

namespace ReplayVm.Core.Tests.Devices;

/// <summary>
/// A bare-metal virtio-blk driver (Data/virtio_blk_guest.c) reads sector 0, writes and re-reads
/// sector 1, flushes, and provokes IOERR and UNSUPP, checking the PLIC's claim/complete along the
/// way. Its console output must be the same on QEMU's virt (virtio-mmio version 2) and on ours.
/// </summary>
public class VirtioGuestTests(ITestOutputHelper output)
{
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
        var elf = BareMetalGuestHarness.Build("virtio_blk_guest");
        var image = Path.Combine(Path.GetDirectoryName(elf)!, "disk.img");
        File.WriteAllBytes(image, DiskImage());
        string expected = BareMetalGuestHarness.RunOnQemu(elf,
            "-drive", $"file={image},if=none,format=raw,id=hd0", "-device", "virtio-blk-device,drive=hd0,bus=virtio-mmio-bus.0", "-device", "virtio-rng-device");

        var baseDisk = new MemoryBlockStorage(DiskImage(), readOnly: true);
        var (result, actual) = BareMetalGuestHarness.RunOnReplayVm(elf, 500_000_000,
            attach: machine => machine.AttachDisk(new CopyOnWriteOverlay(baseDisk)));
        output.WriteLine(actual);

        Assert.Contains("done", expected);
        Assert.Equal(StopReason.GuestExit, result.Reason);
        Assert.Equal(expected, actual);
        Assert.Equal(DiskImage(), baseDisk.Bytes); // the overlay kept the write
    }
}
