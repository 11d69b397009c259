using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// <c>replayvm gdb</c> as a user meets it: gdb-multiarch in batch mode against a recording of the
/// demo guest, with breakpoints, reverse stepping, reverse-finish / reverse-next, and the demo's
/// deliberate bug found with a watchpoint and reverse-continue.
/// </summary>
public sealed partial class GdbCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-gdb-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // copy_name in tools/guests/bin/demo.elf: a leaf of six instructions (lbu, addi, addi, sb, bnez, ret).
    private const ulong CopyNameStart = 0x800008c0, CopyNameEnd = 0x800008d0;

    [Fact]
    public void Gdb_steps_back_and_finds_the_store_that_overwrote_the_secret()
    {
        string gdb = GdbMultiarch();
        string trace = RecordDemo();
        using var server = GdbServerProcess.Start(trace);

        string output = RunGdb(gdb, server.Port,
            "break copy_name",
            "continue",
            Registers("AT0"),
            "stepi",
            Registers("AT1"),
            "stepi",
            Registers("AT2"),
            "reverse-stepi",
            Registers("BACK1"),
            "reverse-stepi",
            Registers("BACK0"),
            "delete",
            "stepi",
            "reverse-finish",
            "printf \"FINISHED pc=%lx\\n\", $pc",
            "reverse-next",
            "printf \"NEXTED pc=%lx\\n\", $pc",
            "monitor when",
            "watch -l state.secret",
            "continue",
            "printf \"FORWARD pc=%lx\\n\", $pc",
            "continue",
            "reverse-continue",
            "printf \"REVERSE pc=%lx\\n\", $pc",
            "x/i $pc",
            "delete",
            "continue");

        Assert.Contains("Breakpoint 1, copy_name", output);
        // reverse-stepi restores the pc and the registers of the instruction before.
        Assert.Equal(Line(output, "AT1"), Line(output, "BACK1"));
        Assert.Equal(Line(output, "AT0"), Line(output, "BACK0"));
        Assert.NotEqual(Line(output, "AT1"), Line(output, "AT2"));
        Assert.Equal(CopyNameStart, Hex(Line(output, "AT0"), "pc"));

        // reverse-finish leaves copy_name for the call in its caller; reverse-next goes back further in the caller.
        ulong finished = Hex(Line(output, "FINISHED"), "pc"), nexted = Hex(Line(output, "NEXTED"), "pc");
        Assert.False(finished is >= CopyNameStart and < CopyNameEnd, output);
        Assert.False(nexted is >= CopyNameStart and < CopyNameEnd, output);
        Assert.True(nexted < finished, output);
        Assert.Matches(@"Current event: \d+", output);

        // Forwards, the next write is the overflowing copy_name overwriting the secret (with '#', 35).
        Assert.Contains("New value = 35", output);
        Assert.InRange(Hex(Line(output, "FORWARD"), "pc"), CopyNameStart, CopyNameEnd - 1);
        // Backwards from the win (which clears it), the last write is the store in copy_name.
        ulong writer = Hex(Line(output, "REVERSE"), "pc");
        Assert.InRange(writer, CopyNameStart, CopyNameEnd - 1);
        Assert.Matches(@"<copy_name\+\d+>:\s+sb\s", output);

        // And forwards again to the recording's end: the guest's exit.
        Assert.Contains("[Inferior 1 (Remote target) exited normally]", output);

        Assert.Equal(0, server.Stop());
    }

    [Fact]
    public void A_port_in_use_is_one_line_and_exit_2()
    {
        string trace = RecordDemo();
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var outcome = CliProcess.Run("gdb", trace, "--port", port.ToString());

        Assert.Equal(2, outcome.ExitCode);
        var line = Assert.Single(outcome.StderrLines);
        Assert.StartsWith($"replayvm: cannot listen on 127.0.0.1:{port}", line);
    }

    [Fact]
    public void A_file_that_is_not_a_trace_is_one_line_and_exit_2()
    {
        var outcome = CliProcess.Run("gdb", CliProcess.Guest("demo.elf"), "--port", "0");
        Assert.Equal(2, outcome.ExitCode);
        Assert.StartsWith("replayvm: ", Assert.Single(outcome.StderrLines));
    }

    [Fact]
    public void A_bad_port_is_one_line_and_exit_2()
    {
        var outcome = CliProcess.Run("gdb", "x.rvtrace", "--port", "70000");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("bad port '70000'", Assert.Single(outcome.StderrLines));
    }

    private string RecordDemo()
    {
        string trace = Path.Combine(_dir, "demo.rvtrace");
        var recorded = CliProcess.Run(["record", "--deterministic", "--input", CliProcess.Expected("demo.stdin"), "-o", trace, CliProcess.Guest("demo.elf")], []);
        Assert.True(recorded.ExitCode == 0, recorded.ToString());
        return trace;
    }

    private static string Registers(string label) =>
        $"printf \"{label} pc=%lx ra=%lx sp=%lx a0=%lx a1=%lx a5=%lx\\n\", $pc, $ra, $sp, $a0, $a1, $a5";

    /// <summary>The rest of the first output line starting with <paramref name="label"/>.</summary>
    private static string Line(string output, string label)
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

    private static string RunGdb(string gdb, int port, params string[] commands)
    {
        var info = new ProcessStartInfo(gdb)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = CliProcess.RepoRoot,
        };
        string[] setup =
        [
            "set pagination off",
            "set architecture riscv:rv64",
            "file tools/guests/bin/demo.elf",
            $"target remote 127.0.0.1:{port}",
        ];
        foreach (var argument in new[] { "-batch", "-nx" }) info.ArgumentList.Add(argument);
        foreach (var command in setup.Concat(commands))
        {
            info.ArgumentList.Add("-ex");
            info.ArgumentList.Add(command);
        }
        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"gdb did not finish in 120 s:\n{stdout.Result}\n{stderr.Result}");
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

    /// <summary>A running <c>replayvm gdb TRACE --port 0</c>, stopped with SIGINT as a user's Ctrl-C would.</summary>
    private sealed partial class GdbServerProcess : IDisposable
    {
        private readonly Process _process;

        private GdbServerProcess(Process process, int port)
        {
            _process = process;
            Port = port;
        }

        public int Port { get; }

        public static GdbServerProcess Start(string trace)
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
            if (!line.Wait(TimeSpan.FromSeconds(60)) || line.Result is null)
            {
                process.Kill();
                throw new Xunit.Sdk.XunitException("replayvm gdb did not say where it listens");
            }
            var match = Listening().Match(line.Result);
            if (!match.Success)
            {
                process.Kill();
                throw new Xunit.Sdk.XunitException($"unexpected first line from replayvm gdb: {line.Result}");
            }
            return new GdbServerProcess(process, int.Parse(match.Groups[1].Value));
        }

        /// <summary>Sends SIGINT and returns the exit status.</summary>
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

        [GeneratedRegex(@"^replayvm: gdb server listening on 127\.0\.0\.1:(\d+) \(target remote 127\.0\.0\.1:\1\)$")]
        private static partial Regex Listening();

        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        private static extern int Kill(int pid, int signal);
    }
}
