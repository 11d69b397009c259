using System.Diagnostics;
using System.Globalization;

namespace ReplayVm.Replica.Tests.Support;

/// <summary>Unix signals for the replica processes: SIGSTOP makes a process merely slow (or silent), not dead.</summary>
public static class Signals
{
    public static void Send(string signal, int pid) => Assert.True(TrySend(signal, pid), $"kill -{signal} {pid} failed");

    /// <summary>Sends a signal; false if the process is gone.</summary>
    public static bool TrySend(string signal, int pid)
    {
        var info = new ProcessStartInfo("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]) { RedirectStandardError = true };
        using var kill = Process.Start(info)!;
        kill.StandardError.ReadToEnd();
        kill.WaitForExit();
        return kill.ExitCode == 0;
    }

    /// <summary>
    /// Stops and continues a process in turn (stopped half of each <paramref name="periodMs"/>) until
    /// disposed or the process exits, so that it runs at about half the speed of its peers whatever the machine's load;
    /// it is left running.
    /// </summary>
    public static IDisposable Throttle(int pid, int periodMs = 200, int offsetMs = 0)
    {
        var stop = new CancellationTokenSource();
        var thread = new Thread(() =>
        {
            stop.Token.WaitHandle.WaitOne(offsetMs);
            // Until stopped, or until the process has exited.
            while (!stop.IsCancellationRequested && TrySend("STOP", pid))
            {
                stop.Token.WaitHandle.WaitOne(periodMs / 2);
                if (!TrySend("CONT", pid)) break;
                stop.Token.WaitHandle.WaitOne(periodMs / 2);
            }
            TrySend("CONT", pid);
        }) { IsBackground = true, Name = "throttle " + pid };
        thread.Start();
        return new Stopper(() =>
        {
            stop.Cancel();
            thread.Join();
        });
    }

    private sealed class Stopper(Action stop) : IDisposable
    {
        public void Dispose() => stop();
    }
}
