using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace ReplayVm.Core.Tests.Oracle;

/// <summary>
/// Every virt guest in tools/guests/elf must print the same bytes and end with the same exit
/// status on ReplayVm as on QEMU. HTIF guests (<c>*-htif*</c>) are for the Spike board, which QEMU's
/// virt does not have, so they are left out. Interactive guests — those with an
/// <c>expected/NAME.stdin</c> session, such as demo and kernel — need input and devices set up by
/// their own run scripts; their own tests compare them with QEMU.
/// </summary>
public class GuestAgreementTests(ITestOutputHelper output)
{
    private const ulong MaxGuestInstructions = 2_000_000_000;
    private static readonly TimeSpan QemuTimeout = TimeSpan.FromSeconds(60);

    public static string GuestDirectory => Path.Combine(RepoPaths.Guests, "elf");

    public static IEnumerable<string> VirtGuests() =>
        Directory.Exists(GuestDirectory)
            ? Directory.GetFiles(GuestDirectory, "*.elf")
                .Where(p => !Path.GetFileName(p).Contains("-htif") && !IsInteractive(p))
                .OrderBy(p => p, StringComparer.Ordinal)
            : [];

    private static bool IsInteractive(string elf) =>
        File.Exists(Path.Combine(GuestDirectory, "..", "expected", Path.GetFileNameWithoutExtension(elf) + ".stdin"));

    public static TheoryData<string> GuestNames()
    {
        var data = new TheoryData<string>();
        foreach (var g in VirtGuests()) data.Add(Path.GetFileName(g));
        return data;
    }

    [Fact]
    public void There_are_virt_guests_to_compare()
    {
        Assert.True(VirtGuests().Any(), $"no virt guest ELF in {GuestDirectory} (build them with tools/guests)");
    }

    [Theory]
    [MemberData(nameof(GuestNames))]
    public void Guest_behaves_as_on_qemu(string guest)
    {
        var path = Path.Combine(GuestDirectory, guest);
        var qemu = QemuVirt.Run(path, QemuTimeout);
        Assert.False(qemu.TimedOut, $"{guest} did not finish on QEMU within {QemuTimeout.TotalSeconds} s; a guest for this test must end by itself");

        var ours = ReplayVmRunner.Run(File.ReadAllBytes(path), MaxGuestInstructions);
        output.WriteLine($"{guest}: qemu exit {qemu.ExitCode}, {qemu.Stdout.Length} bytes; replayvm {ours.Result}, {ours.Console.Length} bytes");

        Assert.Equal(StopReason.GuestExit, ours.Result.Reason);
        Assert.Equal(MaskHostCounters(Printable(qemu.Stdout)), MaskHostCounters(Printable(ours.Console)));
        Assert.Equal(qemu.ExitCode, ours.Result.ExitCode);
    }

    /// <summary>
    /// Without -icount, QEMU's cycle/instret/time follow the host clock, so a number a guest prints
    /// after such a label ("instret: 734463704") cannot agree and is masked. Everything else must match.
    /// </summary>
    public static string MaskHostCounters(string text) =>
        Regex.Replace(text, @"\b(instret|cycles?|mtime|time|ticks)(\s*[:=]\s*)(0x[0-9a-fA-F]+|\d+)", "$1$2<host counter>");

    /// <summary>Console bytes as text with control characters escaped, so a difference reads well in the report.</summary>
    private static string Printable(byte[] bytes) =>
        string.Concat(bytes.Select(b => b is >= 0x20 and < 0x7f or (byte)'\n' ? ((char)b).ToString() : $"\\x{b:x2}"));
}
