using System.Diagnostics;
using System.Globalization;

namespace ReplayVm.Replica.Tests.Support;

/// <summary>Unix signals for the replica processes: SIGSTOP makes a process merely slow (or silent), not dead.</summary>
public static class Signals
{
    public static void Send(string signal, int pid)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>
    /// Stops and continues a process in turn (stopped half of each <paramref name="periodMs"/>) until
    /// disposed, so that it runs at about half the speed of its peers whatever the machine's load;
    /// it is left running.
    /// </summary>
    public static IDisposable Throttle(int pid, int periodMs = 200)
    {
        var stop = new CancellationTokenSource();
        var thread = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                Send("STOP", pid);
                stop.Token.WaitHandle.WaitOne(periodMs / 2);
                Send("CONT", pid);
                stop.Token.WaitHandle.WaitOne(periodMs / 2);
            }
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
