using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ReplayVm.Replica.Tests.Support;

/// <summary>
/// A real etcd (Debian's etcd-server, installed by tools/test) on 127.0.0.1 with free ports and a
/// temporary data directory, killed and removed on dispose. Missing etcd fails the test.
/// </summary>
public sealed class EtcdServer : IDisposable
{
    private readonly Process _process;
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-etcd-").FullName;
    private readonly List<string> _log = [];

    public EtcdServer()
    {
        string etcd = new[] { "/usr/bin/etcd", "/usr/local/bin/etcd" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("etcd is not installed: run tools/ensure-packages etcd-server (tools/test does)");
        Port = FreePort();
        int peer = FreePort();
        var info = new ProcessStartInfo(etcd)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (var a in new[]
        {
            "--name", "test", "--data-dir", Path.Combine(_dir, "data"),
            "--listen-client-urls", $"http://127.0.0.1:{Port}", "--advertise-client-urls", $"http://127.0.0.1:{Port}",
            "--listen-peer-urls", $"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peer}",
            "--initial-cluster", $"test=http://127.0.0.1:{peer}",
        }) info.ArgumentList.Add(a);
        _process = Process.Start(info)!;
        var ready = new ManualResetEventSlim();
        void Read(StreamReader reader) => new Thread(() =>
        {
            while (reader.ReadLine() is { } line)
            {
                lock (_log) _log.Add(line);
                if (line.Contains("ready to serve client requests", StringComparison.Ordinal)) ready.Set();
            }
        }) { IsBackground = true }.Start();
        Read(_process.StandardError);
        Read(_process.StandardOutput);
        if (!ready.Wait(TimeSpan.FromSeconds(60)))
        {
            Dispose();
            lock (_log) throw new TimeoutException("etcd did not become ready within 60 s:\n" + string.Join('\n', _log.TakeLast(20)));
        }
    }

    public int Port { get; }

    /// <summary>The arbiter option for a guest called <paramref name="name"/> on this etcd.</summary>
    public string Arbiter(string name = "test") => $"etcd://127.0.0.1:{Port}/{name}";

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill();
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
