using System.Text;
using System.Text.RegularExpressions;
using ReplayVm.Core.Input;
using ReplayVm.Core.Loading;
using ReplayVm.Core.Tests.Oracle;
using Xunit.Abstractions;

namespace ReplayVm.Core.Tests.Devices;

/// <summary>
/// A bare-metal virtio-rng driver (Data/virtio_rng_guest.c) asks for 32 bytes twice, as one buffer
/// and split over two. Everything the protocol says (feature bits, status, used ring, interrupt)
/// must be the same on QEMU's virt with <c>-device virtio-rng-device</c> and on ours; only the
/// random bytes differ, so their line is masked.
/// </summary>
public class VirtioRngGuestTests(ITestOutputHelper output)
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
        var dir = Directory.CreateTempSubdirectory("replayvm-rng-guest-").FullName;
        var elf = Path.Combine(dir, "virtio_rng_guest.elf");
        var r = ExternalTools.Run(gcc,
            ["-O1", "-march=rv64imac_zicsr", "-mabi=lp64", "-mcmodel=medany", "-ffreestanding", "-nostdlib", "-nostartfiles", "-static",
             "-Wl,--no-warn-rwx-segments", "-T", Path.Combine(DataDirectory, "guest.ld"),
             Path.Combine(DataDirectory, "start.S"), Path.Combine(DataDirectory, "virtio_rng_guest.c"), "-o", elf],
            TimeSpan.FromSeconds(60));
        if (r.ExitCode != 0) Assert.Fail($"{ExternalTools.Gcc} failed:\n{r.Stderr}");
        return elf;
    }

    private static string MaskBytes(string text) => Regex.Replace(text, "^bytes: [0-9a-f]{64}$", "bytes: <32 random bytes>", RegexOptions.Multiline);

    [Fact]
    public void Guest_driver_sees_the_same_protocol_on_qemu_and_replayvm()
    {
        var elf = GuestElf.Value;
        var qemu = ExternalTools.Run(ExternalTools.Require(ExternalTools.Qemu),
            ["-M", "virt", "-cpu", QemuVirt.CpuModel, "-m", "128M", "-smp", "1", "-bios", "none", "-nographic", "-monitor", "none",
             "-serial", "stdio", "-global", "virtio-mmio.force-legacy=false", "-device", "virtio-rng-device", "-kernel", elf],
            TimeSpan.FromSeconds(60));
        Assert.False(qemu.TimedOut, "the guest did not finish on QEMU");
        string expected = Encoding.ASCII.GetString(qemu.Stdout);

        var console = new List<byte>();
        var machine = new Machine(new MachineConfig(), NoInput.Instance, console.Add);
        machine.LoadElf(ElfImage.Parse(File.ReadAllBytes(elf)));
        var result = machine.Run(500_000_000);
        string actual = Encoding.ASCII.GetString(console.ToArray());
        output.WriteLine(actual);

        Assert.Contains("done", expected);
        Assert.Contains("used len 0x00000020", expected);
        Assert.Equal(StopReason.GuestExit, result.Reason);
        Assert.Equal(MaskBytes(expected), MaskBytes(actual));
        Assert.Equal(2, Regex.Matches(actual, "^bytes: [0-9a-f]{64}$", RegexOptions.Multiline).Count);
    }
}
