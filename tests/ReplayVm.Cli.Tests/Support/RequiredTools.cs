namespace ReplayVm.Cli.Tests.Support;

/// <summary>
/// Host tools and Debian firmware the end-to-end tests need. A missing one fails the test with
/// the package to install (tools/test installs them all), never skips it.
/// </summary>
public static class RequiredTools
{
    public static string OpenSbiFwJump => File("/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf", "opensbi");
    public static string UBootSupervisor => File("/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin", "u-boot-qemu");
    public static string UBootMachine => File("/usr/lib/u-boot/qemu-riscv64/u-boot.bin", "u-boot-qemu");
    public static string Qemu => Command("qemu-system-riscv64", "qemu-system-misc");
    public static string Script => Command("script", "bsdutils");
    public static string Tmux => Command("tmux", "tmux");
    public static string Gcc => Command("riscv64-unknown-elf-gcc", "gcc-riscv64-unknown-elf");

    private static string File(string path, string package) =>
        System.IO.File.Exists(path) ? path : throw new Xunit.Sdk.XunitException($"{path} is missing: install the Debian package {package} (tools/test does)");

    private static string Command(string name, string package)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            if (System.IO.File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
        throw new Xunit.Sdk.XunitException($"{name} not found: install the Debian package {package} (tools/test does)");
    }
}
