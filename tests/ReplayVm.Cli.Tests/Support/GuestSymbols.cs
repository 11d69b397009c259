using System.Diagnostics;
using System.Globalization;

namespace ReplayVm.Cli.Tests.Support;

/// <summary>
/// Symbol addresses of a committed guest ELF as GNU nm reports them, so tests follow the guest when
/// it is rebuilt instead of pinning addresses, and do not take them from the code under test.
/// </summary>
public static class GuestSymbols
{
    /// <summary>[start, end) of a sized symbol in <paramref name="elf"/>.</summary>
    public static (ulong Start, ulong End) Range(string elf, string name)
    {
        var info = new ProcessStartInfo("riscv64-unknown-elf-nm", ["-S", elf]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"riscv64-unknown-elf-nm -S {elf} failed: {process.StandardError.ReadToEnd()}");
        foreach (var line in output.Split('\n'))
        {
            // "00000000800008c0 0000000000000010 T copy_name"
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 4 && parts[3] == name)
            {
                ulong start = ulong.Parse(parts[0], NumberStyles.HexNumber);
                return (start, start + ulong.Parse(parts[1], NumberStyles.HexNumber));
            }
        }
        throw new InvalidOperationException($"{elf} has no sized symbol {name}");
    }
}
