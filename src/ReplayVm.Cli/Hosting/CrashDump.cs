using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ReplayVm.Cli.Hosting;

/// <summary>
/// <c>record --dump-on-crash</c> (the default): when the recorder dies of an unhandled exception,
/// the runtime's own <c>createdump</c> writes a dump of its memory beside the trace before the
/// process ends, and the salvage command is printed — so events the trace never got (up to 100 ms
/// of them, or all of them on a full disk) and the machine's final state are not lost. It costs
/// nothing until then: one handler. A fatal signal inside the runtime (no managed handler runs)
/// is covered only by the runtime's own DOTNET_DbgEnableMiniDump, read at process start; the
/// README says how to set it.
/// </summary>
internal static class CrashDump
{
    private static string? _tracePath;
    private static int _armed;

    /// <summary>Where the dump of a crashed recorder of <paramref name="tracePath"/> goes.</summary>
    public static string DumpPathFor(string tracePath) => Path.GetFullPath(tracePath) + ".core";

    public static void Arm(string tracePath)
    {
        _tracePath = tracePath;
        if (Interlocked.Exchange(ref _armed, 1) == 0) AppDomain.CurrentDomain.UnhandledException += OnUnhandledException;
        if (Environment.GetEnvironmentVariable("REPLAYVM_TEST_CRASH_ON_SIGUSR1") == "1")
            // A test hook: SIGUSR1 makes a thread throw, as a bug in the recorder would.
            _testSignal = PosixSignalRegistration.Create((PosixSignal)10, context =>
            {
                context.Cancel = true;
                new Thread(() => throw new InvalidOperationException("test crash (REPLAYVM_TEST_CRASH_ON_SIGUSR1)")).Start();
            });
    }

    private static PosixSignalRegistration? _testSignal;

    private static void OnUnhandledException(object? sender, UnhandledExceptionEventArgs e)
    {
        if (_tracePath is not { } trace) return;
        var error = Console.Error;
        string dump = DumpPathFor(trace);
        string createdump = Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "createdump");
        error.WriteLine($"replayvm: the recorder crashed: {(e.ExceptionObject as Exception)?.GetType().Name}: {(e.ExceptionObject as Exception)?.Message}");
        try
        {
            File.Delete(dump);
            using var process = Process.Start(new ProcessStartInfo(createdump, ["-f", dump, Environment.ProcessId.ToString()])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode == 0 && File.Exists(dump))
            {
                error.WriteLine($"replayvm: its memory is in {dump}; salvage the recording with:");
                error.WriteLine($"replayvm:   replayvm inspect {dump} --salvage -o {Path.ChangeExtension(trace, null)}.salvaged.rvtrace");
                return;
            }
            error.WriteLine($"replayvm: createdump failed (exit {process.ExitCode}); {trace} holds what was flushed");
        }
        catch (Exception failure) when (failure is IOException or System.ComponentModel.Win32Exception or UnauthorizedAccessException)
        {
            error.WriteLine($"replayvm: no dump written ({failure.Message}); {trace} holds what was flushed");
        }
    }
}
