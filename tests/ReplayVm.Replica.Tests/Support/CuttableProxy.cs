using System.Net;
using System.Net.Sockets;

namespace ReplayVm.Replica.Tests.Support;

/// <summary>
/// A TCP proxy on 127.0.0.1 standing in for the log channel's network: it forwards both ways
/// until <see cref="Cut"/>, after which it silently drops everything while keeping the
/// connections open — a partition, not a crash, so neither side sees the connection close.
/// </summary>
public sealed class CuttableProxy : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly List<TcpClient> _open = [];
    private volatile bool _cut;

    public CuttableProxy(int targetPort)
    {
        _target = targetPort;
        _listener.Start();
        new Thread(Accept) { IsBackground = true }.Start();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public void Cut() => _cut = true;

    private void Accept()
    {
        try
        {
            while (true)
            {
                var inbound = _listener.AcceptTcpClient();
                var outbound = new TcpClient("127.0.0.1", _target);
                lock (_open) _open.AddRange([inbound, outbound]);
                Pump(inbound.GetStream(), outbound.GetStream());
                Pump(outbound.GetStream(), inbound.GetStream());
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    private void Pump(NetworkStream from, NetworkStream to) => new Thread(() =>
    {
        var buffer = new byte[16384];
        try
        {
            int n;
            while ((n = from.Read(buffer)) > 0)
                if (!_cut) to.Write(buffer, 0, n);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
        }
    }) { IsBackground = true }.Start();

    public void Dispose()
    {
        _listener.Stop();
        lock (_open)
            foreach (var c in _open) c.Dispose();
    }
}
