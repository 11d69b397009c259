using System.Diagnostics;
using System.Text.RegularExpressions;
using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// <c>replayvm gdb</c> on a recording of OpenSBI + supervisor-mode U-Boot: gdb-multiarch stops at
/// U-Boot's entry, steps back across OpenSBI's <c>mret</c> into machine mode and forwards again,
/// with gdb's virtual <c>priv</c> register following the mode switch.
/// </summary>
public sealed partial class GdbFirmwareTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-gdbfw-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>fw_jump's FW_JUMP_ADDR for QEMU virt: where OpenSBI's mret enters the S-mode payload.</summary>
    private const ulong UBootEntry = 0x80200000;

    /// <summary>OpenSBI's own region: fw_jump is linked at 0x8000_0000 and reserves up to the payload.</summary>
    private const ulong OpenSbiStart = 0x80000000, OpenSbiEnd = UBootEntry;

    private const string Session = """
        # Stop autoboot once U-Boot offers it, ask for its version, then power off.
        wait Hit any key to stop autoboot
        send \n
        wait =>\x20
        send version\n
        wait =>\x20
        send poweroff\n
        """;

    [Fact]
    public void Gdb_steps_back_across_the_mret_from_OpenSbi_into_UBoot()
    {
        string gdb = GdbMultiarch();
        string trace = RecordFirmware();
        using var server = GdbServer.Start(trace);

        string output = RunGdb(gdb, server.Port,
            $"break *0x{UBootEntry:x}",
            "continue",
            Registers("ENTRY"),
            Privilege("ENTRY"),
            "info registers priv",
            "reverse-stepi",
            Registers("BEFORE"),
            Privilege("BEFORE"),
            "info registers priv",
            "x/i $pc",
            "stepi",
            Registers("AGAIN"),
            Privilege("AGAIN"),
            "info registers priv",
            "delete",
            "continue");

        // Stopped at U-Boot's first instruction, in supervisor mode (privileged spec 1.2, table 1.1: S = 1).
        Assert.Contains($"Breakpoint 1, 0x{UBootEntry:x16} in ?? ()", output);
        Assert.Equal(UBootEntry, Hex(Line(output, "ENTRY"), "pc"));
        Assert.Equal(1UL, Hex(Line(output, "ENTRY"), "priv"));
        // SBI boot protocol: a0 = boot hart id, a1 = device-tree address (in RAM, above the payload).
        Assert.Equal(0UL, Hex(Line(output, "ENTRY"), "a0"));
        Assert.InRange(Hex(Line(output, "ENTRY"), "a1"), UBootEntry + 1, 0x8800_0000UL - 1);

        // One instruction back is OpenSBI's mret, still in machine mode (M = 3); mret itself
        // changes no general register (privileged spec 3.3.2), so a0/a1 are already set.
        ulong before = Hex(Line(output, "BEFORE"), "pc");
        Assert.InRange(before, OpenSbiStart, OpenSbiEnd - 1);
        Assert.Equal(3UL, Hex(Line(output, "BEFORE"), "priv"));
        Assert.Matches($@"=> 0x{before:x}:\s+mret", output);
        Assert.Equal(Gprs(Line(output, "ENTRY")), Gprs(Line(output, "BEFORE")));

        // Forwards again: the mret lands on U-Boot's entry in S-mode with the same registers.
        Assert.Equal(Line(output, "ENTRY"), Line(output, "AGAIN"));

        // gdb's own view of the virtual register names the modes: S, then M one step back, then S again.
        var modes = Regex.Matches(output, @"^priv\s+0x\d\s+prv:\d \[(\w+)\]", RegexOptions.Multiline).Select(m => m.Groups[1].Value);
        Assert.Equal(["Supervisor", "Machine", "Supervisor"], modes);

        // Without breakpoints, the replay runs to U-Boot's poweroff: the end of the recording.
        Assert.Contains("[Inferior 1 (Remote target) exited normally]", output);

        Assert.Equal(0, server.Stop());
    }

    private string RecordFirmware()
    {
        string script = Path.Combine(_dir, "uboot.script");
        File.WriteAllText(script, Session);
        string trace = Path.Combine(_dir, "uboot.rvtrace");
        var recorded = CliProcess.Run("record", "-o", trace, "--input-script", script,
            "--bios", RequiredTools.OpenSbiFwJump, "--kernel", RequiredTools.UBootSupervisor);
        Assert.True(recorded.ExitCode == 0, recorded.ToString());
        Assert.Contains("=> version", recorded.StdoutText);
        return trace;
    }

    private static string Registers(string label) =>
        $"printf \"{label} pc=%lx a0=%lx a1=%lx sp=%lx ra=%lx\\n\", $pc, $a0, $a1, $sp, $ra";

    private static string Privilege(string label) => $"printf \"{label}-PRIV priv=%lx\\n\", $priv";

    /// <summary>The label's register line with its privilege appended, so one string compares both.</summary>
    private static string Line(string output, string label) =>
        FirstLine(output, label) + " " + FirstLine(output, label + "-PRIV");

    /// <summary>The line without its pc and priv: the general registers only.</summary>
    private static string Gprs(string line) => Regex.Replace(line, @"\b(pc|priv)=[0-9a-f]+", "");

    private static string FirstLine(string output, string label)
    {
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith(label + " ", StringComparison.Ordinal));
        Assert.True(line is not null, $"no '{label}' line in the gdb output:\n{output}");
        return line![(label.Length + 1)..].Trim();
    }

    private static ulong Hex(string line, string name)
    {
        var match = Regex.Match(line, $@"\b{name}=([0-9a-f]+)");
        Assert.True(match.Success, line);
        return Convert.ToUInt64(match.Groups[1].Value, 16);
    }

    /// <summary>gdb in batch mode with no symbol file: the firmware is raw binaries, so addresses only.</summary>
    private static string RunGdb(string gdb, int port, params string[] commands)
    {
        var info = new ProcessStartInfo(gdb)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = CliProcess.RepoRoot,
        };
        string[] setup = ["set pagination off", "set architecture riscv:rv64", $"target remote 127.0.0.1:{port}"];
        info.ArgumentList.Add("-batch");
        info.ArgumentList.Add("-nx");
        foreach (var command in setup.Concat(commands))
        {
            info.ArgumentList.Add("-ex");
            info.ArgumentList.Add(command);
        }
        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"gdb did not finish in 60 s:\n{stdout.Result}\n{stderr.Result}");
        }
        return stdout.Result + "\n" + stderr.Result;
    }

    /// <summary>gdb-multiarch from PATH; its absence fails the test (tools/test installs it).</summary>
    private static string GdbMultiarch()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            if (File.Exists(Path.Combine(dir, "gdb-multiarch"))) return Path.Combine(dir, "gdb-multiarch");
        throw new Xunit.Sdk.XunitException("gdb-multiarch not found: install the Debian package gdb-multiarch (tools/test does)");
    }

    /// <summary>A running <c>replayvm gdb TRACE --port 0</c>, told its port by its first stderr line.</summary>
    private sealed partial class GdbServer : IDisposable
    {
        private readonly Process _process;

        private GdbServer(Process process, int port)
        {
            _process = process;
            Port = port;
        }

        public int Port { get; }

        public static GdbServer Start(string trace)
        {
            var info = new ProcessStartInfo("dotnet")
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                WorkingDirectory = CliProcess.RepoRoot,
            };
            foreach (var argument in new[] { CliProcess.CliDll, "gdb", trace, "--port", "0" }) info.ArgumentList.Add(argument);
            var process = Process.Start(info)!;
            var line = process.StandardError.ReadLineAsync();
            var match = line.Wait(TimeSpan.FromSeconds(60)) && line.Result is not null ? Listening().Match(line.Result) : null;
            if (match is not { Success: true })
            {
                process.Kill();
                throw new Xunit.Sdk.XunitException($"replayvm gdb did not say where it listens: {(line.IsCompleted ? line.Result : "(nothing)")}");
            }
            // Keep draining stderr so the server never blocks on a full pipe.
            _ = process.StandardError.ReadToEndAsync();
            return new GdbServer(process, int.Parse(match.Groups[1].Value));
        }

        /// <summary>Asks the server to stop as a user's Ctrl-C would and returns its exit status.</summary>
        public int Stop()
        {
            Assert.Equal(0, Kill(_process.Id, 2));
            if (!_process.WaitForExit(TimeSpan.FromSeconds(30))) throw new TimeoutException("replayvm gdb ignored SIGINT");
            return _process.ExitCode;
        }

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill();
            _process.Dispose();
        }

        [GeneratedRegex(@"^replayvm: gdb server listening on 127\.0\.0\.1:(\d+) ")]
        private static partial Regex Listening();

        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        private static extern int Kill(int pid, int signal);
    }
}
