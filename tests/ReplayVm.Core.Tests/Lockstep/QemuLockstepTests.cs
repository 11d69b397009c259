using ReplayVm.Lockstep;

namespace ReplayVm.Core.Tests.Lockstep;

/// <summary>
/// ReplayVm against QEMU 7.2, instruction by instruction (tools/qemu-lockstep in-process). These
/// need qemu-system-riscv64, OpenSBI and U-Boot installed and fail — not skip — without them.
/// Known QEMU deviations (see KnownQemuDeviations and QemuTimerModel) are excused narrowly.
/// </summary>
public sealed class QemuLockstepTests
{
    private static readonly string Root = FindRoot();

    [Theory]
    [InlineData("hello.elf")]
    [InlineData("traps.elf")]
    [InlineData("thre-irq.elf")] // THRE interrupts through the PLIC, IIR never read: QEMU's pending semantics
    [InlineData("triggers.elf")]
    public void Bare_metal_guest_matches_QEMU_to_its_exit(string guest)
    {
        var (code, report) = Lockstep(new LockstepOptions
        {
            ElfPath = Path.Combine(Root, "tools/guests/elf", guest),
            AllowKnownQemuDeviations = true,
        });
        Assert.True(code == 0, report);
        Assert.Contains("guest exited with 0 on both", report);
    }

    [Fact]
    public void OpenSbi_and_UBoot_match_QEMU_for_300000_steps()
    {
        var (code, report) = Lockstep(new LockstepOptions
        {
            BiosPath = RequireFile("/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf", "opensbi"),
            KernelPath = RequireFile("/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin", "u-boot-qemu"),
            MaxSteps = 300_000,
            UseQemuDeviceTree = true,
            AllowKnownQemuDeviations = true,
        });
        Assert.True(code == 0, report);
        Assert.Contains("equal for 300000 steps", report);
    }

    private static (int Code, string Report) Lockstep(LockstepOptions options)
    {
        var qemu = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "qemu-system-riscv64")).FirstOrDefault(File.Exists);
        Assert.True(qemu != null, "qemu-system-riscv64 is not installed (apt-get install qemu-system-misc)");
        string cpu = QemuCommandLine.CpuModel();
        var deviceTree = options.UseQemuDeviceTree ? QemuProcess.DumpDeviceTree(qemu, options, cpu) : null;
        using var process = QemuProcess.Start(qemu, options, cpu);
        var report = new StringWriter();
        int code = new LockstepRunner(options, report).Run(process.Log, deviceTree);
        return (code, report.ToString());
    }

    private static string RequireFile(string path, string package)
    {
        Assert.True(File.Exists(path), $"{path} is missing (apt-get install {package})");
        return path;
    }

    private static string FindRoot() => RepoPaths.Root;
}
