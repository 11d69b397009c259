using System.Diagnostics;
using ReplayVm.Core;
using ReplayVm.Replay;

namespace ReplayVm.Replay.Tests;

/// <summary>The guests the tests record: the committed ones under tools/guests/elf and the echo guest built here.</summary>
internal static class TestGuests
{
    /// <summary>Small RAM keeps full-RAM state hashes cheap.</summary>
    public static readonly MachineConfig Config = new() { RamSize = 16UL << 20 };

    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "ReplayVm.sln"))) return dir.FullName;
            throw new InvalidOperationException("ReplayVm.sln not found above " + AppContext.BaseDirectory);
        }
    }

    public static MachineSetup Committed(string name) =>
        MachineSetup.ForElf(Config, name + ".elf", File.ReadAllBytes(Path.Combine(RepoRoot, "tools", "guests", "elf", name + ".elf")));

    private static readonly Lazy<byte[]> EchoElf = new(() => Assemble("echo"));
    private static readonly Lazy<byte[]> TimerElf = new(() => Assemble("timer"));

    public static MachineSetup Echo => MachineSetup.ForElf(Config, "echo.elf", EchoElf.Value);

    /// <summary>Data/timer.S: a loop interrupted by the CLINT's timer at ever different instructions.</summary>
    public static MachineSetup Timer => MachineSetup.ForElf(Config, "timer.elf", TimerElf.Value);

    public static byte[] TimerImage => TimerElf.Value;

    /// <summary>Assembles Data/NAME.S; a missing cross compiler fails the test (it is a required tool).</summary>
    private static byte[] Assemble(string name)
    {
        var source = Path.Combine(RepoRoot, "tests", "ReplayVm.Replay.Tests", "Data", name + ".S");
        var dir = Directory.CreateTempSubdirectory("replayvm-" + name + "-").FullName;
        var elf = Path.Combine(dir, name + ".elf");
        var info = new ProcessStartInfo("riscv64-unknown-elf-gcc")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (var arg in new[] { "-march=rv64imac_zicsr", "-mabi=lp64", "-nostdlib", "-static", "-Wl,-Ttext=0x80000000", "-Wl,--no-warn-rwx-segments", source, "-o", elf })
            info.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("riscv64-unknown-elf-gcc is required (apt-get install gcc-riscv64-unknown-elf): " + e.Message);
        }
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"assembling {name}.S failed: " + errors);
        try
        {
            return File.ReadAllBytes(elf);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>Records and replays in memory.</summary>
internal static class RoundTrip
{
    public sealed record Recording(byte[] Trace, string Output, RecordResult Result);

    public static Recording Record(MachineSetup setup, Core.Input.IInputPort live, ulong interval = 5_000, ulong maxSteps = 50_000_000)
    {
        var stream = new MemoryStream();
        var output = new List<byte>();
        RecordResult result;
        using (var recorder = new Recorder(setup, live, output.Add, stream,
                   new RecorderOptions { StateHashInterval = interval, Writer = new TraceWriterOptions { FlushInterval = TimeSpan.Zero } }))
            result = recorder.Run(maxSteps);
        return new Recording(stream.ToArray(), System.Text.Encoding.Latin1.GetString(output.ToArray()), result);
    }

    public static (ReplayResult Result, string Output) Replay(byte[] trace)
    {
        var output = new List<byte>();
        var replayer = new Replayer(TraceReader.Read(trace), output.Add);
        var result = replayer.Run();
        return (result, System.Text.Encoding.Latin1.GetString(output.ToArray()));
    }
}
