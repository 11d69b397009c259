using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using ReplayVm.Core;
using ReplayVm.Replay;

namespace ReplayVm.Tui.Tests;

/// <summary>
/// Expectations for the debugger's tests from outside the debugger: the GNU toolchain's view of the
/// demo guest (symbols, DWARF lines) and a plain replay of the recording. A missing tool fails the test.
/// </summary>
internal static partial class GuestTools
{
    public static string DemoElf => Path.Combine(Recordings.RepoRoot, "tools", "guests", "elf", "demo.elf");

    /// <summary>Runs a tool and returns its stdout; a missing tool or a failed run throws.</summary>
    public static string Run(string tool, params string[] arguments)
    {
        var info = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new Xunit.Sdk.XunitException($"{tool} is missing (Debian binutils-riscv64-unknown-elf; tools/test installs it): {e.Message}");
        }
        using (process)
        {
            var errors = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0) throw new Xunit.Sdk.XunitException($"{tool} failed ({process.ExitCode}): {errors.Result}");
            return output;
        }
    }

    /// <summary>The address of <paramref name="name"/> in demo.elf, by nm.</summary>
    public static ulong Symbol(string name)
    {
        foreach (var line in Run("riscv64-unknown-elf-nm", DemoElf).Split('\n'))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 3 && f[2] == name) return ulong.Parse(f[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }
        throw new Xunit.Sdk.XunitException($"nm finds no {name} in demo.elf");
    }

    /// <summary>(file name, line) of <paramref name="address"/> by addr2line.</summary>
    public static (string File, int Line) LineOf(ulong address)
    {
        string text = Run("riscv64-unknown-elf-addr2line", "-e", DemoElf, $"0x{address:x}").Trim();
        var m = AddressLine().Match(text);
        Assert.True(m.Success, $"addr2line says '{text}' for 0x{address:x}");
        return (Path.GetFileName(m.Groups[1].Value), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    /// <summary>The function holding <paramref name="address"/>, by addr2line -f.</summary>
    public static string FunctionOf(ulong address) =>
        Run("riscv64-unknown-elf-addr2line", "-f", "-e", DemoElf, $"0x{address:x}").Split('\n')[0].Trim();

    /// <summary>Every (file, line) to address row of demo.elf's DWARF line table, by objdump --dwarf=decodedline.</summary>
    public static readonly Lazy<List<(string File, int Line, ulong Address)>> DecodedLines = new(() =>
        Run("riscv64-unknown-elf-objdump", "--dwarf=decodedline", DemoElf).Split('\n')
            .Select(l => DecodedLine().Match(l)).Where(m => m.Success)
            .Select(m => (m.Groups[1].Value, int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture),
                ulong.Parse(m.Groups[3].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture)))
            .ToList());

    /// <summary>
    /// The positions before <paramref name="until"/> at which the hart is about to run
    /// <paramref name="pc"/>, by a plain replay single-stepped one instruction at a time (no
    /// breakpoints, no timeline, no debug session).
    /// </summary>
    public static List<ulong> VisitsBySingleStepping(TraceFile trace, ulong pc, ulong until)
    {
        var machine = new Replayer(trace, _ => { }).Machine;
        var visits = new List<ulong>();
        while (machine.Hart.Steps < until)
        {
            if (machine.Hart.Pc == pc) visits.Add(machine.Hart.Steps);
            if (machine.Run(1).Reason == StopReason.GuestExit) break;
        }
        return visits;
    }

    /// <summary>The console output of a plain replay of <paramref name="trace"/> to <paramref name="step"/>.</summary>
    public static string ConsoleAt(TraceFile trace, ulong step)
    {
        var output = new List<byte>();
        var replayer = new Replayer(trace, output.Add);
        replayer.RunTo(step);
        Assert.Equal(step, replayer.Steps);
        return System.Text.Encoding.Latin1.GetString(output.ToArray());
    }

    [GeneratedRegex(@"^(.+):(\d+)(?: \(discriminator \d+\))?$")]
    private static partial Regex AddressLine();

    // "shell.c      123      0x80000abc       x" (the stmt column is optional).
    [GeneratedRegex(@"^(\S+\.[ch])\s+(\d+)\s+0x([0-9a-f]+)")]
    private static partial Regex DecodedLine();
}
