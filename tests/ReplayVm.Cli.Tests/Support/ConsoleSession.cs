using System.Diagnostics;
using System.Text;

namespace ReplayVm.Cli.Tests.Support;

/// <summary>
/// An emulator (replayvm, QEMU, or either under a pseudo-terminal) driven through its console the
/// way a person would: wait until some text appears on stdout, then type. Stdout is read on its
/// own task, so a chatty guest never blocks on a full pipe while the test waits.
/// </summary>
public sealed class ConsoleSession : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Task _reader;
    private readonly Task<string> _stderr;
    private readonly string _description;
    private int _consumed;

    private ConsoleSession(ProcessStartInfo info)
    {
        info.RedirectStandardInput = true;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.WorkingDirectory = CliProcess.RepoRoot;
        _description = $"{info.FileName} {string.Join(' ', info.ArgumentList)}";
        _process = Process.Start(info)!;
        _stderr = _process.StandardError.ReadToEndAsync();
        _reader = Task.Run(ReadOutput);
    }

    /// <summary>The built replayvm CLI with these arguments.</summary>
    public static ConsoleSession Replayvm(params string[] arguments) =>
        Start("dotnet", [CliProcess.CliDll, .. arguments]);

    /// <summary>QEMU's virt board with its console on stdio, as the reference.</summary>
    public static ConsoleSession Qemu(params string[] arguments) =>
        Start(RequiredTools.Qemu, ["-machine", "virt", "-nographic", "-monitor", "none", .. arguments]);

    public static ConsoleSession Start(string program, string[] arguments)
    {
        var info = new ProcessStartInfo(program);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        return new ConsoleSession(info);
    }

    /// <summary>Everything written to stdout so far, with "\r\n" as "\n".</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString().Replace("\r\n", "\n"); }
    }

    /// <summary>
    /// Waits until <paramref name="text"/> (line ends written as "\n") appears after what earlier
    /// waits consumed; returns the output between the previous match and this one. Fails with the whole
    /// transcript if the text does not come in time or the process ends first.
    /// </summary>
    public string WaitFor(string text, int timeoutSeconds = 120)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            // Positions are in the "\n" form of the output, which only ever grows at its end.
            string all = Output;
            int at = all.IndexOf(text, _consumed, StringComparison.Ordinal);
            if (at >= 0)
            {
                string between = all[_consumed..at];
                _consumed = at + text.Length;
                return between;
            }
            if (_reader.IsCompleted)
                throw new Xunit.Sdk.XunitException($"'{text}' never came: the process ended.\n{Transcript()}");
            if (clock.Elapsed > TimeSpan.FromSeconds(timeoutSeconds))
                throw new Xunit.Sdk.XunitException($"'{text}' did not come within {timeoutSeconds} s.\n{Transcript()}");
            Thread.Sleep(10);
        }
    }

    /// <summary>Types <paramref name="text"/> on the console.</summary>
    public void Type(string text)
    {
        _process.StandardInput.Write(text);
        _process.StandardInput.Flush();
    }

    /// <summary>Waits for the process to end; returns its exit status.</summary>
    public int WaitForExit(int timeoutSeconds = 120)
    {
        if (!_process.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds)))
            throw new Xunit.Sdk.XunitException($"the process did not exit within {timeoutSeconds} s.\n{Transcript()}");
        _reader.Wait();
        return _process.ExitCode;
    }

    public string Stderr => _stderr.IsCompleted ? _stderr.Result : "(still running)";

    public string Transcript() => $"--- {_description}\n--- stdout ---\n{Output}\n--- stderr ---\n{Stderr}";

    private void ReadOutput()
    {
        var stream = _process.StandardOutput.BaseStream;
        var buffer = new byte[4096];
        var decoder = Encoding.UTF8.GetDecoder();
        var chars = new char[Encoding.UTF8.GetMaxCharCount(buffer.Length)];
        int count;
        while ((count = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            int n = decoder.GetChars(buffer, 0, count, chars, 0);
            lock (_output) _output.Append(chars, 0, n);
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
