using System.Diagnostics;

namespace ReplayVm.Cli.Tests.Support;

/// <summary>
/// The Linux guest of tools/guests/linux: Debian's linux-source-6.1 built with the project's
/// config, its initramfs (the project's init and shell) and an ext2 disk image, from the build
/// script's cache (it builds them the first time, which takes minutes). A build that fails —
/// the toolchain missing and not installable included — fails the test that needs the guest.
/// </summary>
public sealed class LinuxGuest
{
    /// <summary>The kernel command line the tests and tools/bench --linux boot with.</summary>
    public const string CommandLine = "console=ttyS0 earlycon";

    private static readonly Lazy<LinuxGuest> Built = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    private LinuxGuest(string image, string vmlinux, string initramfs, string disk) =>
        (Image, Vmlinux, Initramfs, Disk) = (image, vmlinux, initramfs, disk);

    public string Image { get; }
    public string Vmlinux { get; }
    public string Initramfs { get; }

    /// <summary>The pristine ext2 image; boot a <see cref="DiskCopy"/> of it on QEMU, which writes to its file.</summary>
    public string Disk { get; }

    public static string SessionScript => Path.Combine(CliProcess.RepoRoot, "tools", "guests", "linux", "session.script");

    public static LinuxGuest Get() => Built.Value;

    /// <summary>
    /// QEMU 7.2's CPU trimmed to ReplayVm's hart: no H, no Zba/Zbb/Zbc/Zbs, no Zihintpause, no
    /// PMU counters. With it QEMU's device tree names the same riscv,isa and OpenSBI probes the
    /// same hart, so the two boot logs can be compared line for line.
    /// </summary>
    public const string QemuCpu = "rv64,h=false,zba=false,zbb=false,zbc=false,zbs=false,Zihintpause=false,pmu-num=0";

    /// <summary>The same boot for QEMU (<c>-bios ... -kernel ... -initrd ... -append ...</c>) and ReplayVm (<c>--bios ...</c>).</summary>
    public string[] QemuBoot(string disk) =>
    [
        "-cpu", QemuCpu, "-m", "128M", "-smp", "1", "-bios", RequiredTools.OpenSbiFwJump, "-kernel", Image, "-initrd", Initramfs,
        "-append", CommandLine, "-icount", "shift=0",
        "-global", "virtio-mmio.force-legacy=false",
        "-drive", $"file={disk},if=none,format=raw,id=hd0", "-device", "virtio-blk-device,drive=hd0,bus=virtio-mmio-bus.0",
        "-device", "virtio-rng-device",
    ];

    public string[] ReplayvmBoot(string disk) =>
        ["-m", "128M", "--bios", RequiredTools.OpenSbiFwJump, "--kernel", Image, "--initrd", Initramfs, "--append", CommandLine, "--drive", disk];

    /// <summary>A fresh copy of the disk image in a temporary directory (QEMU writes to the file it is given).</summary>
    public string DiskCopy()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("replayvm-linux-").FullName, "disk.img");
        File.Copy(Disk, path);
        return path;
    }

    private static LinuxGuest Build()
    {
        string script = Path.Combine(CliProcess.RepoRoot, "tools", "guests", "linux", "build");
        var info = new ProcessStartInfo(script, ["--print-paths"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = CliProcess.RepoRoot,
        };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // The first build compiles a kernel at nice 19 on a shared machine: allow an hour.
        if (!process.WaitForExit(TimeSpan.FromMinutes(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"{script} did not finish within 60 minutes:\n{Tail(stderr)}");
        }
        if (process.ExitCode != 0)
            throw new Xunit.Sdk.XunitException($"{script} failed (exit {process.ExitCode}):\n{Tail(stderr)}");
        var paths = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (paths.Length != 4 || paths.Any(p => !File.Exists(p)))
            throw new Xunit.Sdk.XunitException($"{script} --print-paths printed '{stdout.Result}', not four existing files");
        return new LinuxGuest(paths[0], paths[1], paths[2], paths[3]);
    }

    private static string Tail(Task<string> text)
    {
        var lines = text.Result.Split('\n');
        return string.Join('\n', lines.TakeLast(40));
    }
}
