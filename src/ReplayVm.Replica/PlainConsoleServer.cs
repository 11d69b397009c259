using System.Net;
using System.Net.Sockets;
using ReplayVm.Replica.Wire;

namespace ReplayVm.Replica;

/// <summary>
/// A raw TCP console for scripts (<c>nc</c>, socat, expect): after a one-line token, bytes in are
/// guest input and bytes out are the guest's console. The stream is not encrypted, so it binds only
/// to loopback addresses: across hosts, use <c>replayvm console</c> (or tunnel this port over SSH).
/// The token line (<see cref="ReplicaKey.PlainConsoleToken"/>) keeps other local users out.
/// </summary>
internal sealed class PlainConsoleServer : IDisposable
{
    private readonly ConnectionListener _listener;

    /// <param name="handle">Serves a connection on its own thread, and closes it (or keeps it for the process's exit to close).</param>
    public PlainConsoleServer(Endpoint endpoint, Action<TcpClient> handle)
    {
        IPAddress address = endpoint.Host == "localhost" ? IPAddress.Loopback
            : endpoint.Ipv4 is { } ipv4 ? ipv4
            : IPAddress.TryParse(endpoint.Host, out var parsed) ? parsed
            : throw new ReplicaException($"--plain-console-listen {endpoint}: give a loopback address (127.0.0.1 or ::1), not a host name");
        if (!IPAddress.IsLoopback(address))
            throw new ReplicaException($"--plain-console-listen {endpoint}: a plain console is unencrypted, so it listens on loopback only; from another host use 'replayvm console' (authenticated and encrypted) or an SSH tunnel");
        _listener = new ConnectionListener(address, endpoint, "plain console", handle);
    }

    public Endpoint Endpoint => _listener.Endpoint;

    public void Start() => _listener.Start();

    public void Dispose() => _listener.Dispose();
}
