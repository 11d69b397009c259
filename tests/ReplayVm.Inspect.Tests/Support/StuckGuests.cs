using System.Diagnostics;

namespace ReplayVm.Inspect.Tests.Support;

/// <summary>
/// Two tiny bare-metal guests, assembled on first use with the Debian toolchain (tools/test installs
/// it; missing, the tests fail): <c>spin</c> turns interrupts off and loops on one jump for ever (a
/// hung guest); <c>flood</c> writes 'x' to the UART for ever (a host whose stdout nobody reads gets stuck).
/// </summary>
public static class StuckGuests
{
    private static readonly Lazy<string> Directory = new(Build);

    public static string Spin => Path.Combine(Directory.Value, "spin.elf");
    public static string Flood => Path.Combine(Directory.Value, "flood.elf");

    private const string SpinSource = """
          .section .text
          .globl _start
        _start:
          csrci mstatus, 8
        spin:
          j spin
        """;

    private const string FloodSource = """
          .section .text
          .globl _start
        _start:
          li a0, 0x10000000
          li a1, 'x'
        flood:
          sb a1, 0(a0)
          j flood
        """;

    private static string Build()
    {
        string gcc = Cli.Tests.Support.RequiredTools.Gcc;
        string dir = System.IO.Directory.CreateTempSubdirectory("replayvm-stuck-guests-").FullName;
        foreach (var (name, source) in new[] { ("spin", SpinSource), ("flood", FloodSource) })
        {
            File.WriteAllText(Path.Combine(dir, name + ".S"), source + "\n");
            var info = new ProcessStartInfo(gcc,
                ["-march=rv64imac_zicsr", "-mabi=lp64", "-nostdlib", "-nostartfiles", "-Wl,-Ttext=0x80000000", "-o", name + ".elf", name + ".S"])
            {
                WorkingDirectory = dir,
                RedirectStandardError = true,
            };
            using var p = Process.Start(info)!;
            string errors = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"{gcc} failed on {name}.S: {errors}");
        }
        return dir;
    }
}
