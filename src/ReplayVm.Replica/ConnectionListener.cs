using System.Net;
using System.Net.Sockets;
using ReplayVm.Replica.Wire;

namespace ReplayVm.Replica;

/// <summary>
/// A listening TCP socket that serves each accepted connection on its own thread, for the replica's
/// servers (the authenticated one and the plain console): they differ only in what a connection gets.
/// </summary>
internal sealed class ConnectionListener : IDisposable
{
    private readonly TcpListener _listener;
    private readonly string _name;
    private readonly Action<TcpClient> _serve;

    public ConnectionListener(IPAddress address, Endpoint endpoint, string name, Action<TcpClient> serve)
    {
        _name = name;
        _serve = serve;
        _listener = new TcpListener(address, endpoint.Port);
        try
        {
            _listener.Start();
        }
        catch (SocketException e)
        {
            throw new ReplicaException($"{endpoint}: cannot listen: {e.Message}");
        }
        var bound = (IPEndPoint)_listener.LocalEndpoint;
        Endpoint = new Endpoint(bound.Address.ToString(), bound.Port);
    }

    /// <summary>Where it listens (port 0 resolved).</summary>
    public Endpoint Endpoint { get; }

    public void Start() => new Thread(AcceptLoop) { IsBackground = true, Name = $"{_name} {Endpoint}" }.Start();

    private void AcceptLoop()
    {
        while (true)
        {
            TcpClient tcp;
            try
            {
                tcp = _listener.AcceptTcpClient();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            new Thread(() => _serve(tcp)) { IsBackground = true, Name = $"{_name} connection" }.Start();
        }
    }

    public void Dispose() => _listener.Stop();
}
