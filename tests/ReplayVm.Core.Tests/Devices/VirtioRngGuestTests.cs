using System.Text.RegularExpressions;
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
    private static string MaskBytes(string text) => Regex.Replace(text, "^bytes: [0-9a-f]{64}$", "bytes: <32 random bytes>", RegexOptions.Multiline);

    [Fact]
    public void Guest_driver_sees_the_same_protocol_on_qemu_and_replayvm()
    {
        var elf = BareMetalGuestHarness.Build("virtio_rng_guest");
        string expected = BareMetalGuestHarness.RunOnQemu(elf, "-device", "virtio-rng-device");

        var (result, actual) = BareMetalGuestHarness.RunOnReplayVm(elf, 500_000_000);
        output.WriteLine(actual);

        Assert.Contains("done", expected);
        Assert.Contains("used len 0x00000020", expected);
        Assert.Equal(StopReason.GuestExit, result.Reason);
        Assert.Equal(MaskBytes(expected), MaskBytes(actual));
        Assert.Equal(2, Regex.Matches(actual, "^bytes: [0-9a-f]{64}$", RegexOptions.Multiline).Count);
    }
}
