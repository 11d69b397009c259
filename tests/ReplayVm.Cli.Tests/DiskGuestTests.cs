using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// The `kernel` guest (tools/guests/kernel): an S-mode kernel with a virtio-blk driver, given a
/// copy of its disk image with --drive and its typed input on stdin, must print what QEMU printed
/// (tools/guests/kernel/run-qemu recorded it).
/// </summary>
public class DiskGuestTests : IDisposable
{
    private const int SectorSize = 512;
    private readonly string _disk = Path.Combine(Path.GetTempPath(), $"replayvm-disk-{Environment.ProcessId}-{Guid.NewGuid():N}.img");
    private readonly byte[] _original = File.ReadAllBytes(Path.Combine(CliProcess.RepoRoot, "tools", "guests", "kernel", "disk.img"));

    public DiskGuestTests() => File.WriteAllBytes(_disk, _original);

    public void Dispose() => File.Delete(_disk);

    private CliOutcome RunKernel(params string[] extra) =>
        CliProcess.Run(["run", "--drive", _disk, .. extra, CliProcess.Guest("kernel.elf")],
            File.ReadAllBytes(CliProcess.Expected("kernel.stdin")));

    [Fact]
    public void Kernel_guest_prints_what_qemu_printed_and_leaves_the_image_alone()
    {
        var outcome = RunKernel();
        Assert.True(File.ReadAllBytes(CliProcess.Expected("kernel.out")).SequenceEqual(outcome.Stdout), outcome.ToString());
        Assert.Equal(int.Parse(File.ReadAllText(CliProcess.Expected("kernel.status")).Trim()), outcome.ExitCode);
        Assert.Equal("", outcome.Stderr);
        // The guest writes sector 1, but without --persist the write stays in the in-memory overlay.
        Assert.True(_original.SequenceEqual(File.ReadAllBytes(_disk)), "the disk image changed without --persist");
    }

    [Fact]
    public void Persist_lets_the_guest_write_the_image()
    {
        var outcome = RunKernel("--persist");
        Assert.True(File.ReadAllBytes(CliProcess.Expected("kernel.out")).SequenceEqual(outcome.Stdout), outcome.ToString());

        byte[] after = File.ReadAllBytes(_disk);
        Assert.Equal(_original.Length, after.Length);
        var changed = Enumerable.Range(0, after.Length).Where(i => after[i] != _original[i]).ToArray();
        Assert.NotEmpty(changed);
        // Only the sector the guest writes (1) changes.
        Assert.All(changed, i => Assert.Equal(1, i / SectorSize));
    }
}
