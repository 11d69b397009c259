using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ReplayVm.Debugger.Tests.Disassembly;

/// <summary>One instruction as GNU objdump printed it.</summary>
public sealed record ObjdumpLine(ulong Address, uint Bits, int Length, string Text);

/// <summary>
/// Runs the RISC-V GNU toolchain as the reference disassembler: assembles a source file with
/// riscv64-unknown-elf-gcc and parses `riscv64-unknown-elf-objdump -d -z`. A missing tool is a failure.
/// </summary>
public static partial class ObjdumpOracle
{
    public const string Gcc = "riscv64-unknown-elf-gcc";
    public const string Objdump = "riscv64-unknown-elf-objdump";

    /// <summary>
    /// objdump's view of raw parcels. Each is emitted with `.insn N, value` rather than `.word`/`.half`:
    /// gas marks `.word` data with a `$d` mapping symbol and objdump would then print it as data.
    /// </summary>
    public static IReadOnlyList<ObjdumpLine> DisassembleParcels(IEnumerable<uint> parcels)
    {
        var source = new StringBuilder();
        foreach (uint p in parcels)
        {
            if ((p & 3) == 3)
                source.Append(CultureInfo.InvariantCulture, $".insn 4, 0x{p:x8}\n");
            else
                source.Append(CultureInfo.InvariantCulture, $".insn 2, 0x{p & 0xFFFF:x4}\n");
        }
        return DisassembleSource(source.ToString());
    }

    public static IReadOnlyList<ObjdumpLine> DisassembleSource(string assembly)
    {
        string dir = Directory.CreateTempSubdirectory("replayvm-objdump-").FullName;
        try
        {
            string source = Path.Combine(dir, "input.S");
            File.WriteAllText(source, assembly);
            return AssembleAndDisassemble(source, dir);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    public static IReadOnlyList<ObjdumpLine> DisassembleFile(string sourcePath)
    {
        string dir = Directory.CreateTempSubdirectory("replayvm-objdump-").FullName;
        try
        {
            return AssembleAndDisassemble(sourcePath, dir);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static IReadOnlyList<ObjdumpLine> AssembleAndDisassemble(string sourcePath, string dir)
    {
        string obj = Path.Combine(dir, "output.o");
        // -mpriv-spec=1.12: gas tags a file that names CSRs with its default privileged spec (1.11), and
        // objdump then names only that spec's CSRs. 1.12 is what objdump assumes for untagged code.
        RunTool(Gcc, ["-march=rv64gc", "-mabi=lp64d", "-Wa,-mpriv-spec=1.12", "-c", sourcePath, "-o", obj]);
        // -z: show runs of zero parcels instead of eliding them as "...".
        string listing = RunTool(Objdump, ["-d", "-z", obj]);
        return Parse(listing);
    }

    public static IReadOnlyList<ObjdumpLine> Parse(string listing)
    {
        var lines = new List<ObjdumpLine>();
        foreach (string line in listing.Split('\n'))
        {
            Match m = InstructionLine().Match(line);
            if (!m.Success) continue;
            string raw = m.Groups["raw"].Value.Trim();
            lines.Add(new ObjdumpLine(
                ulong.Parse(m.Groups["addr"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                uint.Parse(raw, NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                raw.Length / 2,
                m.Groups["text"].Value));
        }
        return lines;
    }

    /// <summary>
    /// Reduces a line to what a stateless disassembler can print: drops objdump's " # address" comments
    /// (computed from register values it tracks across instructions) and " &lt;symbol&gt;" suffixes, and
    /// turns any whitespace run into one space.
    /// </summary>
    public static string Normalize(string text)
    {
        string s = CommentSuffix().Replace(text, "");
        s = SymbolSuffix().Replace(s, "");
        return Whitespace().Replace(s.Trim(), " ");
    }

    public static string RunTool(string tool, string[] arguments)
    {
        var info = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in arguments) info.ArgumentList.Add(a);

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {tool}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException(
                $"{tool} is required for this test (Debian: binutils-riscv64-unknown-elf, gcc-riscv64-unknown-elf): {e.Message}");
        }
        using (process)
        {
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"{tool} failed ({process.ExitCode}): {stderr.Result}");
            return stdout;
        }
    }

    [GeneratedRegex(@"^\s*(?<addr>[0-9a-f]+):\t(?<raw>[0-9a-f]+)\s*\t(?<text>.*)$")]
    private static partial Regex InstructionLine();

    [GeneratedRegex(@"\s+#.*$")]
    private static partial Regex CommentSuffix();

    [GeneratedRegex(@"\s+<[^>]*>$")]
    private static partial Regex SymbolSuffix();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
