using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ReplayVm.Core;
using ReplayVm.Replay;
using ReplayVm.Replica.Arbiter;
using ReplayVm.Replica.Tests.Support;
using ReplayVm.Replica.Wire;

namespace ReplayVm.Replica.Tests;

/// <summary>
/// <see cref="ReplicaOptions.ExitClosesSockets"/>: a replica whose process ends with its run (the
/// command line) leaves its listening socket and the connections it served to the run's end for
/// the exit to close (a first socket close costs every .NET process on Unix its error tables'
/// build and JIT); a replica inside a longer-lived process closes them all on Dispose.
/// </summary>
public sealed class SocketsAtExitTests
{
    private static readonly ReplicaKey Key = ReplicaKey.FromBytes(Enumerable.Range(11, 32).Select(i => (byte)i).ToArray(), "test");

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Sockets_open_at_the_runs_end_are_left_to_the_process_exit_only_when_it_follows(bool exitClosesSockets)
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-sockets-at-exit-").FullName;
        var options = new ReplicaOptions
        {
            Say = _ => { },
            PlainConsoleListen = [new Endpoint("127.0.0.1", 0)],
            ExitClosesSockets = exitClosesSockets,
            Linger = TimeSpan.FromSeconds(60),
        };
        var setup = MachineSetup.ForElf(new MachineConfig(), "hello.elf", File.ReadAllBytes(ReplicaProcess.Guest("hello.elf")));
        using var arbiter = new FileArbiter(Path.Combine(dir, "arbiter"));
        var node = ReplicaNode.StartPrimary(setup, options, Key, arbiter, [], null);
        int port = node.PlainListening[0].Port;
        using var client = new TcpClient();
        client.Connect(IPAddress.Loopback, port);
        client.GetStream().Write(Encoding.ASCII.GetBytes(Key.PlainConsoleToken + "\n"));
        // The client keeps its side open: the replica sends the whole console, half-closes, waits
        // a moment for the client to close, and then is done with the connection. Run returns
        // once the end is delivered and no client is attached, each attached one released.
        Assert.Equal(0, node.Run());
        var console = new MemoryStream();
        client.GetStream().CopyTo(console);
        Assert.Equal(File.ReadAllBytes(Path.Combine(ReplicaProcess.RepoRoot, "tools", "guests", "expected", "hello.out")), console.ToArray());
        node.Dispose();

        int clientPort = ((IPEndPoint)client.Client.LocalEndPoint!).Port;
        Assert.Equal(exitClosesSockets, ReplicaSideOpen(port, clientPort));
        using var late = new TcpClient();
        if (exitClosesSockets)
        {
            // Still listening (no one accepts any more, but the kernel completes the connection).
            late.Connect(IPAddress.Loopback, port);
        }
        else
        {
            var refused = Assert.Throws<SocketException>(() => late.Connect(IPAddress.Loopback, port));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }
    }

    /// <summary>
    /// Whether the replica's end of the connection from <paramref name="clientPort"/> to
    /// <paramref name="port"/> is still held by a socket of this process: in /proc/net/tcp a
    /// connection whose socket was closed has no inode (an orphan finishing its close), or is gone.
    /// </summary>
    private static bool ReplicaSideOpen(int port, int clientPort)
    {
        foreach (var line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (PortOf(fields[1]) == port && PortOf(fields[2]) == clientPort) return fields[9] != "0";
        }
        return false;
    }

    private static int PortOf(string address) => int.Parse(address[(address.IndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
