using System.Net;
using System.Net.Sockets;
using ReplayVm.Replica.Wire;

namespace ReplayVm.Replica;

/// <summary>
/// A listening socket of a replica. Every connection is authenticated (<see cref="SecureChannel.Accept"/>)
/// on its own thread and then handed over by purpose; refusals are logged as one line.
/// </summary>
internal sealed class ReplicaServer : IDisposable
{
    private readonly ConnectionListener _listener;
    private readonly ReplicaKey _key;
    private readonly Action<SecureChannel> _handle;
    private readonly Action<string> _say;

    public ReplicaServer(Endpoint endpoint, ReplicaKey key, Action<SecureChannel> handle, Action<string> say)
    {
        _key = key;
        _handle = handle;
        _say = say;
        IPAddress address;
        try
        {
            address = endpoint.Ipv4
                ?? (IPAddress.TryParse(endpoint.Host, out var parsed) ? parsed
                    : endpoint.Host == "localhost" ? IPAddress.Loopback
                    : Dns.GetHostAddresses(endpoint.Host).First());
        }
        catch (Exception e) when (e is SocketException or InvalidOperationException)
        {
            throw new ReplicaException($"{endpoint}: cannot resolve {endpoint.Host}");
        }
        _listener = new ConnectionListener(address, endpoint, "replica server", Serve);
    }

    /// <summary>Where it listens (port 0 resolved).</summary>
    public Endpoint Endpoint => _listener.Endpoint;

    public void Start() => _listener.Start();

    private void Serve(TcpClient tcp)
    {
        var channel = SecureChannel.Accept(tcp, _key, out string? refused);
        if (channel is null)
        {
            _say(refused!);
            tcp.Dispose();
            return;
        }
        try
        {
            _handle(channel);
        }
        catch (ReplicaException e)
        {
            _say($"{channel.Peer}: {e.Message}");
            channel.Dispose();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException or TimeoutException)
        {
            channel.Dispose();
        }
    }

    public void Dispose() => _listener.Dispose();
}
