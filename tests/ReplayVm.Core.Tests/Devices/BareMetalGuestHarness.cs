using System.Collections.Concurrent;
using System.Text;
using ReplayVm.Core.Input;
using ReplayVm.Core.Loading;
using ReplayVm.Core.Tests.Oracle;

namespace ReplayVm.Core.Tests.Devices;

/// <summary>The console text and stop of one guest run on our <see cref="Machine"/>.</summary>
public sealed record GuestRun(RunResult Result, string Console);

/// <summary>
/// Builds a bare-metal device-test guest from Devices/Data (start.S + one C driver, linked by
/// guest.ld at QEMU virt's RAM base) and runs it, or any other bare-metal guest ELF, on QEMU's virt
/// and on our <see cref="Machine"/>, so a test only states the devices and compares the two consoles.
/// </summary>
public static class BareMetalGuestHarness
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(60);
    private static readonly ConcurrentDictionary<string, Lazy<string>> Built = new();

    /// <summary>The ELF built from Data/<paramref name="driver"/>.c, compiled once per test run.</summary>
    public static string Build(string driver) =>
        Built.GetOrAdd(driver, name => new Lazy<string>(() => Compile(name))).Value;

    /// <summary>
    /// The console output of <paramref name="elf"/> on <c>qemu-system-riscv64 -M virt -bios none</c> with
    /// modern (version 2) virtio-mmio transports, plus <paramref name="deviceArguments"/> in order.
    /// </summary>
    public static string RunOnQemu(string elf, params string[] deviceArguments)
    {
        var qemu = ExternalTools.Run(ExternalTools.Require(ExternalTools.Qemu),
            ["-M", "virt", "-cpu", QemuVirt.CpuModel, "-m", "128M", "-smp", "1", "-bios", "none", "-nographic", "-monitor", "none",
             "-serial", "stdio", "-global", "virtio-mmio.force-legacy=false", .. deviceArguments, "-kernel", elf],
            ToolTimeout);
        Assert.False(qemu.TimedOut, "the guest did not finish on QEMU");
        return Encoding.ASCII.GetString(qemu.Stdout);
    }

    /// <summary>
    /// Runs <paramref name="elf"/> on our machine for at most <paramref name="maxInstructions"/>;
    /// <paramref name="attach"/> plugs in devices before the guest is loaded.
    /// </summary>
    public static GuestRun RunOnReplayVm(string elf, ulong maxInstructions, IInputPort? input = null, Action<Machine>? attach = null)
    {
        var console = new List<byte>();
        var machine = new Machine(new MachineConfig(), input ?? NoInput.Instance, console.Add);
        attach?.Invoke(machine);
        machine.LoadElf(ElfImage.Parse(File.ReadAllBytes(elf)));
        var result = machine.Run(maxInstructions);
        return new GuestRun(result, Encoding.ASCII.GetString(console.ToArray()));
    }

    private static string Compile(string driver)
    {
        var gcc = ExternalTools.Require(ExternalTools.Gcc);
        var data = RepoPaths.DeviceData;
        var elf = Path.Combine(Directory.CreateTempSubdirectory($"replayvm-{driver}-").FullName, driver + ".elf");
        var r = ExternalTools.Run(gcc,
            ["-O1", "-march=rv64imac_zicsr", "-mabi=lp64", "-mcmodel=medany", "-ffreestanding", "-nostdlib", "-nostartfiles", "-static",
             "-Wl,--no-warn-rwx-segments", "-T", Path.Combine(data, "guest.ld"),
             Path.Combine(data, "start.S"), Path.Combine(data, driver + ".c"), "-o", elf],
            ToolTimeout);
        if (r.ExitCode != 0) Assert.Fail($"{ExternalTools.Gcc} failed:\n{r.Stderr}");
        return elf;
    }
}
