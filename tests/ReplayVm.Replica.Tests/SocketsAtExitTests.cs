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
    /// A replica lingering after its run's end (here no client collects the end, so it lingers
    /// for all of --linger) leaves at most <see cref="ReplicaNode.MaxLeftToExit"/> connections to
    /// the process's exit: 60 plain console clients refused one after another (a wrong token),
    /// each closing its side, must leave it holding exactly that many connections — the first
    /// ones, never closed — and no more: peers reconnecting over and over must not exhaust its
    /// descriptors. The count is the process's own: its socket descriptors that are TCP
    /// connections (not listeners) in /proc/net/tcp.
    /// </summary>
    [Fact]
    public void A_lingering_replica_leaves_at_most_a_bounded_number_of_connections_to_its_exit()
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-sockets-bound-").FullName;
        try
        {
            using var primary = new ReplicaProcess(["primary", "--arbiter", "file:" + Path.Combine(dir, "arbiter"), "--console-listen", "127.0.0.1:0",
                "--plain-console-listen", "127.0.0.1:0", "--linger", "600", ReplicaProcess.Guest("hello.elf")], Path.Combine(dir, "config"), "primary");
            int console = primary.Port("primary console"), plain = primary.Port("primary plain console");
            // The run has ended (hello exits at once): from here on, the replica only lingers.
            string status = "";
            for (int tries = 0; tries < 300 && !status.StartsWith("role ended\n"); tries++)
                status = Encoding.UTF8.GetString(ReplicaProcess.Run(Path.Combine(dir, "config"), "status", $"127.0.0.1:{console}").Stdout);
            Assert.StartsWith("role ended\n", status);
            const int clients = 60;
            for (int i = 0; i < clients; i++)
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, plain);
                var stream = client.GetStream();
                stream.Write("not-the-token\n"u8);
                var refusal = new StreamReader(stream, Encoding.UTF8).ReadLine();
                Assert.StartsWith("replayvm: refused:", refusal);
            }
            // Each refused connection is released once its refusal is written: the replica's side
            // of the last few may still be open for a moment. Past the bound they are closed; without
            // it all 60 stay open, and this waits in vain.
            int held = ConnectionsHeldBy(primary.Id);
            for (var waited = System.Diagnostics.Stopwatch.StartNew(); held > ReplicaNode.MaxLeftToExit && waited.Elapsed < TimeSpan.FromSeconds(60); held = ConnectionsHeldBy(primary.Id))
                Thread.Sleep(100);
            Assert.Equal(ReplicaNode.MaxLeftToExit, held);
            Assert.False(primary.HasExited, primary.Stderr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>TCP connections (not listening sockets) among the process's open descriptors.</summary>
    private static int ConnectionsHeldBy(int pid)
    {
        var inodes = new HashSet<string>();
        foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[")) inodes.Add(target["socket:[".Length..^1]);
            }
            catch (IOException)
            {
                // Closed while listed.
            }
        }
        int held = 0;
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" }.Where(File.Exists))
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                const string Listen = "0A";
                if (fields[3] != Listen && inodes.Contains(fields[9])) held++;
            }
        return held;
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
