using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace ReplayVm.Replica.Tests.Support;

/// <summary>
/// A replayvm process (primary, backup, console) run as a user would: stdin fed by the test,
/// stdout collected, stderr lines collected and waited for. Killed (SIGKILL) on dispose if still running.
/// </summary>
public sealed class ReplicaProcess : IDisposable
{
    private readonly Process _process;
    private readonly MemoryStream _stdout = new();
    private readonly List<string> _stderr = [];
    private readonly Task _copyOut, _readErr;

    public static string RepoRoot { get; } = FindRepoRoot();

    public static string CliDll
    {
        get
        {
            string configuration = typeof(ReplicaProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            string path = Path.Combine(RepoRoot, "src", "ReplayVm.Cli", "bin", configuration, "net10.0", "replayvm.dll");
            if (!File.Exists(path)) throw new FileNotFoundException($"the CLI is not built: {path}");
            return path;
        }
    }

    public static string Guest(string name) => Path.Combine(RepoRoot, "tools", "guests", "elf", name);

    /// <param name="environment">Variables set for the process besides XDG_CONFIG_HOME (such as the runtime's DOTNET_ settings).</param>
    public ReplicaProcess(IEnumerable<string> arguments, string configHome, string? name = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        Name = name ?? string.Join(' ', arguments.Take(1));
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepoRoot,
        };
        info.Environment["XDG_CONFIG_HOME"] = configHome;
        foreach (var (variable, value) in environment ?? new Dictionary<string, string>()) info.Environment[variable] = value;
        info.ArgumentList.Add(CliDll);
        foreach (var a in arguments) info.ArgumentList.Add(a);
        _process = Process.Start(info)!;
        _copyOut = _process.StandardOutput.BaseStream.CopyToAsync(_stdout);
        _readErr = Task.Run(async () =>
        {
            while (await _process.StandardError.ReadLineAsync() is { } line)
                lock (_stderr)
                {
                    _stderr.Add(line);
                    Monitor.PulseAll(_stderr);
                }
            lock (_stderr)
            {
                _eof = true;
                Monitor.PulseAll(_stderr);
            }
        });
    }

    private bool _eof;

    public string Name { get; }

    public int Id => _process.Id;

    public Stream Stdin => _process.StandardInput.BaseStream;

    public string Stderr
    {
        get
        {
            lock (_stderr) return string.Join('\n', _stderr);
        }
    }

    /// <summary>Waits for a stderr line matching <paramref name="pattern"/> and returns its match.</summary>
    public Match WaitForLine(string pattern, int seconds = 60)
    {
        var regex = new Regex(pattern);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        lock (_stderr)
        {
            int seen = 0;
            while (true)
            {
                for (; seen < _stderr.Count; seen++)
                    if (regex.Match(_stderr[seen]) is { Success: true } m) return m;
                if (_eof || DateTime.UtcNow > deadline)
                    throw new TimeoutException($"{Name}: no stderr line like /{pattern}/ ({(_eof ? "it exited" : "timed out")}):\n{string.Join('\n', _stderr)}");
                Monitor.Wait(_stderr, 100);
            }
        }
    }

    /// <summary>The port in the line "... listening on HOST:PORT" matching <paramref name="what"/>.</summary>
    public int Port(string what) => int.Parse(WaitForLine(what + @" listening on 127\.0\.0\.1:(\d+)").Groups[1].Value);

    public void KillHard()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
        _process.WaitForExit();
    }

    /// <summary>Waits for exit; the exit status.</summary>
    public int WaitForExit(int seconds = 120)
    {
        if (!_process.WaitForExit(TimeSpan.FromSeconds(seconds)))
        {
            KillHard();
            throw new TimeoutException($"{Name} did not exit within {seconds} s:\n{Stderr}");
        }
        _copyOut.Wait();
        _readErr.Wait();
        return _process.ExitCode;
    }

    public bool HasExited => _process.HasExited;

    public byte[] Stdout
    {
        get
        {
            _copyOut.Wait();
            return _stdout.ToArray();
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited) KillHard();
        _process.Dispose();
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ReplayVm.sln"))) return dir.FullName;
        throw new InvalidOperationException("ReplayVm.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Runs replayvm to completion with no input.</summary>
    /// <summary>The step <c>replayvm status</c> reports for the replica whose console listens on <paramref name="port"/>.</summary>
    public static ulong StatusStep(string configHome, int port)
    {
        var status = Run(configHome, "status", $"127.0.0.1:{port}");
        Assert.True(status.Exit == 0, status.Stderr);
        var step = Regex.Match(Encoding.UTF8.GetString(status.Stdout), @"^step (\d+)$", RegexOptions.Multiline);
        Assert.True(step.Success, Encoding.UTF8.GetString(status.Stdout));
        return ulong.Parse(step.Groups[1].Value);
    }

    public static (int Exit, byte[] Stdout, string Stderr) Run(string configHome, params string[] arguments)
    {
        using var p = new ReplicaProcess(arguments, configHome);
        p.Stdin.Close();
        int exit = p.WaitForExit();
        return (exit, p.Stdout, p.Stderr);
    }
}
