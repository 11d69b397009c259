using System.Diagnostics;
using System.Text;
using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Inspect.Tests.Support;

/// <summary>
/// A replayvm process (e.g. a recorder) whose stdin the test types into slowly and whose stdout it
/// watches, as a user at a pipe would; killed when disposed.
/// </summary>
public sealed class GuestProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly MemoryStream _stdoutBytes = new();
    private readonly Lock _lock = new();
    private readonly Task _reader;
    private readonly Task<string> _stderr;
    private int _matched;

    private GuestProcess(Process process)
    {
        _process = process;
        _reader = Task.Run(ReadStdout);
        _stderr = process.StandardError.ReadToEndAsync();
    }

    public static GuestProcess Start(IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = CliProcess.RepoRoot,
        };
        info.ArgumentList.Add(CliProcess.CliDll);
        foreach (var a in arguments) info.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) info.Environment[k] = v;
        return new GuestProcess(Process.Start(info)!);
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the guest printed so far.</summary>
    public byte[] Output
    {
        get
        {
            lock (_lock) return _stdoutBytes.ToArray();
        }
    }

    public string Stderr => _process.HasExited ? _stderr.Result : "(running)";

    private void ReadStdout()
    {
        var buffer = new byte[4096];
        var stream = _process.StandardOutput.BaseStream;
        int n;
        while ((n = stream.Read(buffer)) > 0)
            lock (_lock)
            {
                _stdoutBytes.Write(buffer, 0, n);
                _stdout.Append(Encoding.Latin1.GetString(buffer, 0, n));
            }
    }

    /// <summary>Waits until the output shows <paramref name="text"/> after what the previous wait matched.</summary>
    public void WaitFor(string text, int timeoutSeconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            lock (_lock)
            {
                int at = _stdout.ToString().IndexOf(text, _matched, StringComparison.Ordinal);
                if (at >= 0)
                {
                    _matched = at + text.Length;
                    return;
                }
            }
            if (_process.HasExited && _reader.IsCompleted)
                throw new InvalidOperationException($"replayvm exited ({_process.ExitCode}) before printing '{text}': {_stderr.Result}\n{_stdout}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no '{text}' within {timeoutSeconds} s; output so far:\n{_stdout}");
            Thread.Sleep(20);
        }
    }

    public void Type(string text)
    {
        _process.StandardInput.BaseStream.Write(Encoding.ASCII.GetBytes(text));
        _process.StandardInput.BaseStream.Flush();
    }

    /// <summary>SIGTERM: a recorder closes its trace with the end record and exits.</summary>
    public int Terminate(int timeoutSeconds = 60)
    {
        Process.Start("kill", ["-TERM", _process.Id.ToString()])!.WaitForExit();
        if (!_process.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds))) throw new TimeoutException("replayvm did not stop on SIGTERM");
        _reader.Wait();
        return _process.ExitCode;
    }

    /// <summary>Waits for the process to end on its own; its exit status.</summary>
    public int WaitForExit(int timeoutSeconds = 120)
    {
        if (!_process.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds))) throw new TimeoutException("replayvm did not exit");
        _reader.Wait();
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: nothing is flushed or closed.</summary>
    public void KillHard()
    {
        _process.Kill();
        _process.WaitForExit();
        _reader.Wait();
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
    }
}
