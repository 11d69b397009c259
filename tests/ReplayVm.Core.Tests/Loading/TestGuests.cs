using System.Diagnostics;

namespace ReplayVm.Tests.Support;

/// <summary>
/// Small RISC-V ELF files compiled on demand with the Debian bare-metal toolchain, so ELF tests do
/// not depend on another build step. A missing toolchain makes the tests fail, not skip.
/// (Shared by ReplayVm.Core.Tests and ReplayVm.Cli.Tests through a linked source file.)
/// </summary>
public static class TestGuests
{
    private static readonly Lazy<string> Directory = new(Build);

    /// <summary>A linked RV64IMAC executable at 0x8000_0000 with _start (label), square and main (functions), counter (object).</summary>
    public static string Rv64Elf => Path.Combine(Directory.Value, "tiny64.elf");

    /// <summary>The same program stripped of its symbol table.</summary>
    public static string Rv64StrippedElf => Path.Combine(Directory.Value, "tiny64-stripped.elf");

    /// <summary>An RV32IM executable (ELFCLASS32).</summary>
    public static string Rv32Elf => Path.Combine(Directory.Value, "tiny32.elf");

    /// <summary>An unlinked RV64 object file (ET_REL).</summary>
    public static string Rv64Object => Path.Combine(Directory.Value, "main64.o");

    public static string ToolPath(string tool) => Path.Combine(Directory.Value, tool);

    private const string Start = """
        .section .text.start, "ax"
        .globl _start
        _start:
          la sp, stack_top
          call main
        1: j 1b
        """;

    private const string Main = """
        volatile long counter = 5;
        char stack[4096];
        __attribute__((noinline)) long square(long x) { return x * x; }
        int main(void) { counter = square(counter); return 0; }
        """;

    private const string LinkerScript = """
        ENTRY(_start)
        SECTIONS {
          . = 0x80000000;
          .text : { *(.text.start) *(.text .text.*) }
          .rodata : { *(.rodata .rodata.* .srodata .srodata.*) }
          .data : { *(.data .data.* .sdata .sdata.*) }
          .bss : { *(.bss .bss.* .sbss .sbss.* COMMON) }
          stack_top = stack + 4096;
        }
        """;

    private static string Build()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"replayvm-test-guests-{Environment.ProcessId}");
        System.IO.Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "start.S"), Start);
        File.WriteAllText(Path.Combine(dir, "main.c"), Main);
        File.WriteAllText(Path.Combine(dir, "tiny.ld"), LinkerScript);

        string[] common = ["-O1", "-nostdlib", "-nostartfiles", "-static", "-mcmodel=medany", "-T", "tiny.ld", "start.S", "main.c"];
        Run(dir, "riscv64-unknown-elf-gcc", ["-march=rv64imac", "-mabi=lp64", .. common, "-o", "tiny64.elf"]);
        Run(dir, "riscv64-unknown-elf-gcc", ["-march=rv64imac", "-mabi=lp64", "-s", .. common, "-o", "tiny64-stripped.elf"]);
        Run(dir, "riscv64-unknown-elf-gcc", ["-march=rv32im", "-mabi=ilp32", .. common, "-o", "tiny32.elf"]);
        Run(dir, "riscv64-unknown-elf-gcc", ["-march=rv64imac", "-mabi=lp64", "-mcmodel=medany", "-c", "main.c", "-o", "main64.o"]);
        return dir;
    }

    /// <summary>Runs a tool and returns its stdout; throws (failing the test) when it is missing or fails.</summary>
    public static string Run(string workingDirectory, string tool, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(tool)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {tool}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{tool} is missing (run tools/test, which installs it): {e.Message}", e);
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"{tool} {string.Join(' ', arguments)} failed ({process.ExitCode}): {stderr.Result}");
            return stdout;
        }
    }
}
