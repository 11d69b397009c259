using System.Net.Sockets;
using System.Text;
using ReplayVm.Replica.Tests.Support;

namespace ReplayVm.Replica.Tests;

/// <summary>The plain TCP console for scripts (<c>--plain-console-listen</c>), over real sockets.</summary>
public sealed class PlainConsoleTests
{
    private static string Token(ReplicaPair pair)
    {
        var printed = ReplicaProcess.Run(pair.ConfigHome, "console", "--print-token");
        Assert.True(printed.Exit == 0, printed.Stderr);
        var token = Encoding.ASCII.GetString(printed.Stdout).TrimEnd('\n');
        Assert.Matches("^[0-9a-f]{64}$", token);
        return token;
    }

    /// <summary>Connects, sends <paramref name="send"/>, half-closes and reads until the replica closes.</summary>
    private static byte[] Session(int port, byte[] send, bool halfClose = true)
    {
        using var tcp = new TcpClient();
        tcp.Connect("127.0.0.1", port);
        var stream = tcp.GetStream();
        stream.ReadTimeout = 120_000;
        stream.Write(send);
        if (halfClose) tcp.Client.Shutdown(SocketShutdown.Send);
        var output = new MemoryStream();
        stream.CopyTo(output);
        return output.ToArray();
    }

    private static string Masked(byte[] b) => string.Join('\n', Encoding.UTF8.GetString(b).Split('\n')
        .Select(l => l.StartsWith("rand: ") ? "rand: *" : l.StartsWith("time: ") ? "time: *" : l));

    private static byte[] DemoInput => File.ReadAllBytes(Path.Combine(ReplicaProcess.RepoRoot, "tools", "guests", "expected", "demo.stdin"));
    private static byte[] DemoOutput => File.ReadAllBytes(Path.Combine(ReplicaProcess.RepoRoot, "tools", "guests", "expected", "demo.out"));

    /// <summary>
    /// A script sends the token line and the demo's keystrokes and reads until the connection
    /// closes: it gets the demo's whole transcript, nothing else, and the primary's trace replays
    /// to the same bytes. A second client asking for offset 10 gets the console from byte 10.
    /// </summary>
    [Fact]
    public void A_script_drives_the_guest_through_the_plain_console_and_gets_exactly_its_console()
    {
        using var pair = new ReplicaPair();
        pair.StartPrimary(ReplicaProcess.Guest("demo.elf"), null, "--plain-console-listen", "127.0.0.1:0");
        int port = pair.Primary!.Port("primary plain console");
        string token = Token(pair);

        // A client from offset 0 waits for the banner; an offset beyond what the guest has printed
        // (the guest may not have run yet) would rightly be refused.
        Assert.Equal(DemoOutput[..30], ReadSome(port, token + "\n", 30));
        Assert.Equal(DemoOutput[10..30], ReadSome(port, token + " 10\n", 20));
        var transcript = Session(port, [.. Encoding.ASCII.GetBytes(token + "\n"), .. DemoInput]);
        Assert.Equal(Masked(DemoOutput), Masked(transcript));
        Assert.Equal(0, pair.Primary.WaitForExit());
        var replay = pair.Replay(pair.PrimaryTrace);
        Assert.True(replay.Exit == 0, replay.Stderr);
        Assert.Equal(transcript, replay.Console);
    }

    /// <summary>
    /// No token, another key's token, or the backup (not live) get one line and a closed
    /// connection, and the refusal is logged; a plain console on a non-loopback address is refused
    /// at start with one line.
    /// </summary>
    [Fact]
    public void Strangers_and_the_backup_are_refused_and_a_plain_console_never_listens_off_loopback()
    {
        using var pair = new ReplicaPair();
        pair.StartBackup("--plain-console-listen", "127.0.0.1:0");
        int backupPlain = pair.Backup!.Port("backup plain console");
        pair.StartPrimary(ReplicaProcess.Guest("demo.elf"), null, "--plain-console-listen", "127.0.0.1:0");
        int primaryPlain = pair.Primary!.Port("primary plain console");
        pair.Backup.WaitForLine("following the primary");
        string token = Token(pair);

        const string refusal = "replayvm: refused: the first line must be the console token ('replayvm console --print-token' prints it)\n";
        Assert.Equal(refusal, Encoding.UTF8.GetString(Session(primaryPlain, "help\n"u8.ToArray())));
        pair.Primary.WaitForLine(@"refused plain console client 127\.0\.0\.1:\d+: wrong token");
        // Another user's key (another config home) makes another token.
        using var stranger = new ReplicaPair();
        string otherToken = Token(stranger);
        Assert.NotEqual(token, otherToken);
        Assert.Equal(refusal, Encoding.UTF8.GetString(Session(primaryPlain, Encoding.ASCII.GetBytes(otherToken + "\nhelp\n"))));

        Assert.Equal("replayvm: this replica is not live (backup): connect to the live one\n",
            Encoding.UTF8.GetString(Session(backupPlain, Encoding.ASCII.GetBytes(token + "\n"))));

        var open = ReplicaProcess.Run(pair.ConfigHome, "primary", "--arbiter", "file:" + Path.Combine(pair.Dir, "other-arbiter"),
            "--plain-console-listen", "0.0.0.0:0", ReplicaProcess.Guest("demo.elf"));
        Assert.Equal(2, open.Exit);
        var line = Assert.Single(open.Stderr.Trim().Split('\n'));
        Assert.Contains("listens on loopback only", line);
    }

    private static byte[] ReadSome(int port, string line, int count)
    {
        using var tcp = new TcpClient();
        tcp.Connect("127.0.0.1", port);
        var stream = tcp.GetStream();
        stream.ReadTimeout = 120_000;
        stream.Write(Encoding.ASCII.GetBytes(line));
        var bytes = new byte[count];
        stream.ReadExactly(bytes);
        return bytes;
    }
}
