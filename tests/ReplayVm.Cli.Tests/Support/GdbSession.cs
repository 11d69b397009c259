using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace ReplayVm.Cli.Tests.Support;

/// <summary>
/// gdb-multiarch in batch mode against a <c>replayvm gdb</c> server: the commands a user would type,
/// after attaching as RISC-V 64, with the transcript (stdout and stderr) returned for assertions.
/// </summary>
public static class GdbSession
{
    /// <summary>gdb-multiarch from PATH; its absence fails the test (tools/test installs it).</summary>
    public static string GdbMultiarch()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            if (File.Exists(Path.Combine(dir, "gdb-multiarch"))) return Path.Combine(dir, "gdb-multiarch");
        throw new Xunit.Sdk.XunitException("gdb-multiarch not found: install the Debian package gdb-multiarch (tools/test does)");
    }

    /// <summary>
    /// Runs <paramref name="commands"/> in <c>gdb -batch -nx</c> attached to 127.0.0.1:<paramref name="port"/>.
    /// <paramref name="symbolFile"/> (relative to the repository root) gives gdb the guest's symbols;
    /// without one (raw firmware binaries) gdb knows addresses only.
    /// </summary>
    public static string Run(string gdb, int port, string? symbolFile, TimeSpan timeout, params string[] commands)
    {
        var info = StartInfo(gdb, port, symbolFile, [], commands);
        return RunProcess(info, timeout, interruptWhen: null);
    }

    /// <summary>
    /// As <see cref="Run"/>, but presses Ctrl-C (SIGINT to gdb, which sends the remote interrupt) once
    /// the transcript contains <paramref name="interruptWhen"/>; the transcript is stdout and stderr interleaved.
    /// </summary>
    public static string RunInterrupting(string gdb, int port, string? symbolFile, TimeSpan timeout, string interruptWhen, params string[] commands)
    {
        var info = StartInfo(gdb, port, symbolFile, [], commands);
        return RunProcess(info, timeout, interruptWhen);
    }

    /// <summary>As <see cref="Run"/> with extra gdb options before the commands (e.g. <c>-x tools/gdb/replayvm.py</c>).</summary>
    public static string RunWith(string gdb, int port, string? symbolFile, TimeSpan timeout, string[] options, params string[] commands) =>
        RunProcess(StartInfo(gdb, port, symbolFile, options, commands), timeout, interruptWhen: null);

    private static ProcessStartInfo StartInfo(string gdb, int port, string? symbolFile, string[] options, string[] commands)
    {
        var info = new ProcessStartInfo(gdb)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = CliProcess.RepoRoot,
        };
        List<string> setup = ["set pagination off", "set architecture riscv:rv64", "directory tools/guests"];
        if (symbolFile is not null) setup.Add($"file {symbolFile}");
        info.ArgumentList.Add("-batch");
        info.ArgumentList.Add("-nx");
        foreach (var command in setup)
        {
            info.ArgumentList.Add("-ex");
            info.ArgumentList.Add(command);
        }
        foreach (var option in options) info.ArgumentList.Add(option);
        foreach (var command in commands.Prepend($"target remote 127.0.0.1:{port}"))
        {
            info.ArgumentList.Add("-ex");
            info.ArgumentList.Add(command);
        }
        return info;
    }

    private static string RunProcess(ProcessStartInfo info, TimeSpan timeout, string? interruptWhen)
    {
        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var transcript = new System.Text.StringBuilder();
        bool interrupted = false;
        void Collect(string? line)
        {
            if (line is null) return;
            lock (transcript)
            {
                transcript.Append(line).Append('\n');
                if (interruptWhen is null || interrupted || !line.Contains(interruptWhen, StringComparison.Ordinal)) return;
                interrupted = true;
                Kill(process.Id, 2);
            }
        }
        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            lock (transcript) throw new TimeoutException($"gdb did not finish in {timeout.TotalSeconds:0} s:\n{transcript}");
        }
        process.WaitForExit(); // the output handlers have run
        lock (transcript) return transcript.ToString();
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}

/// <summary>Reads the labelled <c>printf</c> lines tests ask gdb for out of its transcript.</summary>
public static class GdbTranscript
{
    /// <summary>The rest of the first output line starting with <paramref name="label"/> and a space.</summary>
    public static string Line(string output, string label)
    {
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith(label + " ", StringComparison.Ordinal));
        Assert.True(line is not null, $"no '{label}' line in the gdb output:\n{output}");
        return line![(label.Length + 1)..].Trim();
    }

    /// <summary>The hex value of <c>name=...</c> in a line.</summary>
    public static ulong Hex(string line, string name)
    {
        var match = Regex.Match(line, $@"\b{name}=([0-9a-f]+)");
        Assert.True(match.Success, line);
        return Convert.ToUInt64(match.Groups[1].Value, 16);
    }
}

/// <summary>
/// A running <c>replayvm gdb TRACE --port 0</c>, told its port by its first stderr line and stopped
/// with SIGINT as a user's Ctrl-C would.
/// </summary>
public sealed partial class GdbServerProcess : IDisposable
{
    private readonly Process _process;

    private GdbServerProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public static GdbServerProcess Start(string trace) => Start([trace], stdin: null);

    /// <summary>
    /// Starts <c>replayvm gdb ARGS --port 0</c>, with <paramref name="stdin"/> as its standard input when given (then closed),
    /// printing a long run's progress every <paramref name="progressInterval"/> when given (the server's default: every second).
    /// </summary>
    public static GdbServerProcess Start(string[] arguments, byte[]? stdin, TimeSpan? progressInterval = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = stdin is not null,
            WorkingDirectory = CliProcess.RepoRoot,
        };
        foreach (var argument in new[] { CliProcess.CliDll, "gdb" }.Concat(arguments).Concat(["--port", "0"])) info.ArgumentList.Add(argument);
        if (progressInterval is { } interval) info.Environment["REPLAYVM_TEST_PROGRESS_INTERVAL_MS"] = ((int)interval.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var process = Process.Start(info)!;
        if (stdin is not null)
        {
            process.StandardInput.BaseStream.Write(stdin);
            process.StandardInput.Close();
        }
        var line = process.StandardError.ReadLineAsync();
        var match = line.Wait(TimeSpan.FromSeconds(60)) && line.Result is not null ? Listening().Match(line.Result) : null;
        if (match is not { Success: true })
        {
            process.Kill();
            throw new Xunit.Sdk.XunitException($"replayvm gdb did not say where it listens: {(line.IsCompleted ? line.Result : "(nothing)")}");
        }
        // Keep draining both pipes so the server never blocks on a full one.
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        return new GdbServerProcess(process, int.Parse(match.Groups[1].Value)) { _errors = errors, _output = output };
    }

    private Task<string>? _errors, _output;

    /// <summary>What the server printed on stdout (the guest's console in a live session); after <see cref="Stop"/>.</summary>
    public string Output => _output!.Result;

    /// <summary>What the server printed on stderr after its first line; after <see cref="Stop"/>.</summary>
    public string Errors => _errors!.Result;

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

    // The whole line, so a change to what the server tells the user (the gdb command to type) is noticed.
    [GeneratedRegex(@"^replayvm: gdb server listening on 127\.0\.0\.1:(\d+) \(target remote 127\.0\.0\.1:\1\)$")]
    private static partial Regex Listening();

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
