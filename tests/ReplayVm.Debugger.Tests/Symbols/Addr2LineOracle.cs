using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using ReplayVm.Debugger.Symbols;
using ReplayVm.Debugger.Tests.Disassembly;

namespace ReplayVm.Debugger.Tests.Symbols;

/// <summary>
/// GNU binutils as the reference for line tables: objdump -d lists an ELF's instruction
/// addresses, addr2line names each one's file and line. A missing tool fails the test.
/// </summary>
public static partial class Addr2LineOracle
{
    public const string Addr2Line = "riscv64-unknown-elf-addr2line";

    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ReplayVm.sln"))) return dir.FullName;
        throw new InvalidOperationException("ReplayVm.sln not found");
    }

    public static string Guest(string name) => Path.Combine(RepoRoot(), "tools", "guests", "elf", name);

    /// <summary>Every instruction address objdump -d disassembles in <paramref name="elf"/>.</summary>
    public static IReadOnlyList<ulong> InstructionAddresses(string elf) =>
        ObjdumpOracle.RunTool(ObjdumpOracle.Objdump, ["-d", "-z", elf]).Split('\n')
            .Select(l => InstructionLine().Match(l)).Where(m => m.Success)
            .Select(m => ulong.Parse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture))
            .Distinct().ToList();

    /// <summary>addr2line's answer per address: (normalized path, line), or null for "??".</summary>
    public static IReadOnlyList<(string Path, int Line)?> Lookup(string elf, IReadOnlyList<ulong> addresses)
    {
        var info = new ProcessStartInfo(Addr2Line)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-e");
        info.ArgumentList.Add(elf);
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {Addr2Line}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{Addr2Line} is required for this test (Debian: binutils-riscv64-unknown-elf): {e.Message}");
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            foreach (ulong a in addresses) process.StandardInput.WriteLine($"0x{a:x}");
            process.StandardInput.Close();
            process.WaitForExit();
            if (process.ExitCode != 0) throw new InvalidOperationException($"{Addr2Line} failed ({process.ExitCode}): {stderr.Result}");
            var lines = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(addresses.Count, lines.Length);
            return lines.Select(Parse).ToList();
        }
    }

    /// <summary>"./common/uart.c:57 (discriminator 2)" → ("common/uart.c", 57); "??:0" and "??:?" → null.</summary>
    private static (string, int)? Parse(string line)
    {
        var m = Answer().Match(line.Trim());
        if (!m.Success) throw new InvalidOperationException($"unexpected addr2line output '{line}'");
        if (m.Groups["file"].Value == "??" || m.Groups["line"].Value == "?") return null;
        return (SourceFile.Join(m.Groups["file"].Value), int.Parse(m.Groups["line"].Value, CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// The file name (no directory) objdump --dwarf=decodedline gives each address: the last row
    /// at or below it in its sequence, where a "-" row ends a sequence. binutils' dwarf.c, which
    /// prints this, is a separate implementation from the BFD code addr2line uses.
    /// </summary>
    public static Func<ulong, string?> DecodedLineNames(string elf)
    {
        var ranges = new List<(ulong Start, ulong End, string Name)>();
        (ulong Address, string Name)? previous = null;
        foreach (string line in ObjdumpOracle.RunTool(ObjdumpOracle.Objdump, ["--dwarf=decodedline", elf]).Split('\n'))
        {
            var m = DecodedRow().Match(line);
            if (!m.Success) continue;
            ulong address = ulong.Parse(m.Groups["address"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (previous is { } p && address > p.Address) ranges.Add((p.Address, address, p.Name));
            previous = m.Groups["line"].Value == "-" ? null : (address, m.Groups["name"].Value);
        }
        return address => ranges.LastOrDefault(r => r.Start <= address && address < r.End).Name;
    }

    [GeneratedRegex(@"^(?<name>\S+)\s+(?<line>\d+|-)\s+0x(?<address>[0-9a-f]+)(\s+\d+)?(\s+x)?\s*$")]
    private static partial Regex DecodedRow();

    [GeneratedRegex(@"^\s*([0-9a-f]+):\t")]
    private static partial Regex InstructionLine();

    [GeneratedRegex(@"^(?<file>.*):(?<line>\d+|\?)( \(discriminator \d+\))?$")]
    private static partial Regex Answer();
}
