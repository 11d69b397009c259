using System.Diagnostics;

namespace ReplayVm.Core.Tests.Oracle;

/// <summary>The outcome of running an external program with captured output.</summary>
public sealed record ProcessOutcome(int ExitCode, byte[] Stdout, string Stderr, bool TimedOut);

/// <summary>
/// Finds the host tools the oracle tests need. A missing tool is a test failure naming the Debian
/// package to install, never a skip: a green run must mean the comparison really happened.
/// </summary>
public static class ExternalTools
{
    public const string Qemu = "qemu-system-riscv64";
    public const string Gcc = "riscv64-unknown-elf-gcc";
    public const string As = "riscv64-unknown-elf-as";
    public const string Ld = "riscv64-unknown-elf-ld";

    private static readonly Dictionary<string, string> Packages = new()
    {
        [Qemu] = "qemu-system-misc",
        [Gcc] = "gcc-riscv64-unknown-elf",
        [As] = "binutils-riscv64-unknown-elf",
        [Ld] = "binutils-riscv64-unknown-elf",
    };

    /// <summary>The absolute path of <paramref name="tool"/>, or an assertion failure naming its package.</summary>
    public static string Require(string tool)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate)) return candidate;
        }
        Assert.Fail($"'{tool}' is not installed: apt-get install {Packages.GetValueOrDefault(tool, tool)}");
        return null!;
    }

    /// <summary>Runs a program with stdin closed, capturing stdout as bytes; kills it after <paramref name="timeout"/>.</summary>
    public static ProcessOutcome Run(string file, IEnumerable<string> args, TimeSpan timeout, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        p.StandardInput.Close();
        var stdout = new MemoryStream();
        var copyOut = p.StandardOutput.BaseStream.CopyToAsync(stdout);
        var readErr = p.StandardError.ReadToEndAsync();
        bool timedOut = !p.WaitForExit((int)timeout.TotalMilliseconds);
        if (timedOut)
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            p.WaitForExit();
        }
        copyOut.Wait();
        return new ProcessOutcome(timedOut ? -1 : p.ExitCode, stdout.ToArray(), readErr.Result, timedOut);
    }
}

/// <summary>Builds bare-metal test guests with the riscv64-unknown-elf toolchain.</summary>
public static class GuestToolchain
{
    /// <summary>
    /// Assembles and links <paramref name="sourcePath"/> at 0x8000_0000 (QEMU virt's RAM base), by
    /// calling the assembler and the linker as gcc's driver would (same options, <c>gcc -v</c>), but
    /// without the driver, the C preprocessor and collect2 (generated sources use none of cpp): two
    /// processes where gcc started five, for the same loadable bytes. The differential tests build
    /// hundreds of guests, and starting processes is most of what a build costs.
    /// </summary>
    public static void BuildElf(string sourcePath, string elfPath, string march = "rv64imac_zicsr_zifencei", string mabi = "lp64", bool relax = false)
    {
        var objectPath = Path.ChangeExtension(elfPath, ".o");
        var a = ExternalTools.Run(ExternalTools.Require(ExternalTools.As),
            ["--traditional-format", "-march=" + march, "-mabi=" + mabi, "-misa-spec=20191213", "-o", objectPath, sourcePath],
            TimeSpan.FromSeconds(60));
        if (a.ExitCode != 0)
            Assert.Fail($"{ExternalTools.As} failed on {sourcePath}:\n{a.Stderr}");
        var l = ExternalTools.Run(ExternalTools.Require(ExternalTools.Ld),
            ["-melf64lriscv", "-Ttext=0x80000000", .. relax ? Array.Empty<string>() : ["--no-relax"],
             // --nmagic: no page-aligned segment that would drag the ELF headers below RAM.
             "--nmagic", "--no-warn-rwx-segments", "-o", elfPath, objectPath],
            TimeSpan.FromSeconds(60));
        if (l.ExitCode != 0)
            Assert.Fail($"{ExternalTools.Ld} failed on {objectPath}:\n{l.Stderr}");
    }
}

/// <summary>Runs guests on QEMU's virt board in M-mode, the reference ReplayVm imitates.</summary>
public static class QemuVirt
{
    /// <summary>
    /// QEMU's <c>-cpu</c> argument, trimmed to the extensions ReplayVm's misa announces: QEMU 7.2's
    /// default rv64 also has F, D and H, and a guest reading misa (or using them) would otherwise
    /// see a different machine. Derived from <see cref="ReplayVm.Core.Hart.Hart.Misa"/> so it follows the hart.
    /// </summary>
    public static string CpuModel
    {
        get
        {
            const ulong misa = ReplayVm.Core.Hart.Hart.Misa;
            static string Flag(char ext) => (misa & (1UL << (ext - 'A'))) != 0 ? "true" : "false";
            return $"rv64,f={Flag('F')},d={Flag('D')},h={Flag('H')}";
        }
    }

    /// <summary>Console bytes and exit status of <paramref name="elfPath"/> under <c>qemu-system-riscv64 -M virt -bios none</c>.</summary>
    public static ProcessOutcome Run(string elfPath, TimeSpan timeout, string ramSize = "128M") =>
        RunVirt(elfPath, ramSize, ["-nographic", "-serial", "stdio"], timeout);

    /// <summary>
    /// Like <see cref="Run"/>, but with the console in <paramref name="serialFile"/>: QEMU 7.2's stdio
    /// backend drops output when its stdout pipe fills while stdin is a closed pipe, which loses lines
    /// of long dumps when the reader falls behind.
    /// </summary>
    public static ProcessOutcome RunToFile(string elfPath, string serialFile, TimeSpan timeout) =>
        RunVirt(elfPath, "128M", ["-display", "none", "-serial", "file:" + serialFile], timeout);

    private static ProcessOutcome RunVirt(string elfPath, string ramSize, string[] console, TimeSpan timeout) =>
        ExternalTools.Run(ExternalTools.Require(ExternalTools.Qemu),
            ["-M", "virt", "-cpu", CpuModel, "-m", ramSize, "-smp", "1", "-bios", "none", "-monitor", "none", .. console, "-kernel", elfPath],
            timeout);
}
