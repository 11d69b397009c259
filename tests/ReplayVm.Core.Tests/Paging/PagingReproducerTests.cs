using System.Text;
using ReplayVm.Core.Tests.Oracle;

namespace ReplayVm.Core.Tests.Paging;

/// <summary>
/// The minimal reproducers in Paging/Data: each prints the outcome of one MMU/PMP corner case, and
/// ReplayVm must print what QEMU 7.2 prints (each file's header says why QEMU is right there).
/// </summary>
public class PagingReproducerTests
{
    public static string DataDirectory => Path.Combine(RepoPaths.Root, "tests", "ReplayVm.Core.Tests", "Paging", "Data");

    public static TheoryData<string> Reproducers()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(DataDirectory, "*.S").OrderBy(f => f, StringComparer.Ordinal)) data.Add(Path.GetFileName(f));
        return data;
    }

    [Theory]
    [MemberData(nameof(Reproducers))]
    public void Reproducer_behaves_as_on_qemu(string name)
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-paging-repro-").FullName;
        var elf = Path.Combine(dir, Path.ChangeExtension(name, ".elf"));
        GuestToolchain.BuildElf(Path.Combine(DataDirectory, name), elf);
        var qemu = QemuVirt.Run(elf, TimeSpan.FromSeconds(20));
        Assert.False(qemu.TimedOut, $"{name} did not finish on QEMU");
        var ours = ReplayVmRunner.Run(File.ReadAllBytes(elf), 1_000_000);
        Directory.Delete(dir, recursive: true);
        Assert.Equal(Encoding.ASCII.GetString(qemu.Stdout), Encoding.ASCII.GetString(ours.Console));
    }
}
