using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using ReplayVm.Replica.Tests.Support;

namespace ReplayVm.Replica.Tests;

/// <summary>
/// A replica keeps only the most recent <c>--console-history</c> MiB of the guest's console: a
/// guest printing more runs on in bounded memory, a client resuming inside the history gets every
/// byte once (across a failover too), and one asking for dropped bytes is told so in one line.
/// </summary>
public sealed class BoundedConsoleTests
{
    /// <summary>What <see cref="ChatterGuest.LongKeyWaitingPath"/> prints before it waits for its key, and after.</summary>
    private static byte[] LongChatter(bool done)
    {
        var text = new StringBuilder();
        for (int burst = 0; burst < 2500; burst++)
            for (int line = 0; line < 16; line++)
                text.Append("burst ").Append(burst).Append(" line ").Append(line).Append(" the quick brown fox jumps over the lazy dog\n");
        if (done) text.Append("chatter done\n");
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    private static Dictionary<string, string> Status(ReplicaPair pair, int port)
    {
        var status = ReplicaProcess.Run(pair.ConfigHome, "status", $"127.0.0.1:{port}");
        Assert.True(status.Exit == 0, status.Stderr);
        return Encoding.UTF8.GetString(status.Stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "");
    }

    /// <summary>Polls the replica's status until <paramref name="done"/> holds (generous deadline: a loaded 2-core machine).</summary>
    private static Dictionary<string, string> WaitForStatus(ReplicaPair pair, int port, Func<Dictionary<string, string>, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(180);
        while (true)
        {
            var status = Status(pair, port);
            if (done(status)) return status;
            Assert.True(DateTime.UtcNow < deadline, $"no {what} within 180 s: {string.Join(", ", status.Select(kv => kv.Key + " " + kv.Value))}");
            Thread.Sleep(200);
        }
    }

    private static string Token(ReplicaPair pair)
    {
        var printed = ReplicaProcess.Run(pair.ConfigHome, "console", "--print-token");
        Assert.True(printed.Exit == 0, printed.Stderr);
        return Encoding.ASCII.GetString(printed.Stdout).TrimEnd('\n');
    }

    /// <summary>Sends <paramref name="first"/> to the plain console and reads <paramref name="count"/> bytes, or to the end when the replica closes first.</summary>
    private static byte[] PlainRead(int port, string first, int count)
    {
        using var tcp = new TcpClient();
        tcp.Connect("127.0.0.1", port);
        var stream = tcp.GetStream();
        stream.ReadTimeout = 120_000;
        stream.Write(Encoding.ASCII.GetBytes(first));
        var output = new MemoryStream();
        var buffer = new byte[65536];
        int n;
        while (output.Length < count && (n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, count - output.Length))) > 0) output.Write(buffer, 0, n);
        return output.ToArray();
    }

    /// <summary>
    /// 2.4 MB of output under a pair with a 1 MiB history, the guest then waiting for a key. A
    /// client asking for byte 0 (<c>--from 0</c>, or a plain client's offset) gets one line saying
    /// which bytes were dropped and what to do, and a non-zero exit; a plain client asking inside
    /// the history gets exactly those bytes; a fresh <c>replayvm console</c> says it starts at the
    /// oldest byte held and shows every byte from there exactly once, through its key and the end.
    /// Both traces replay to the whole 2.4 MB (the trace holds everything the history dropped).
    /// </summary>
    [Fact]
    public void A_guest_printing_past_the_history_runs_on_and_clients_asking_for_dropped_output_are_told_so()
    {
        var before = LongChatter(done: false);
        var all = LongChatter(done: true);
        using var pair = new ReplicaPair();
        pair.StartBackup("--console-history", "1");
        pair.StartPrimary(ChatterGuest.LongKeyWaitingPath, null, "--console-history", "1", "--plain-console-listen", "127.0.0.1:0");
        int plain = pair.Primary!.Port("primary plain console");
        var status = WaitForStatus(pair, pair.PrimaryConsolePort, s => long.Parse(s["console-bytes"]) == before.Length, "complete output");
        long oldest = long.Parse(status["console-held-from"]);
        Assert.InRange(oldest, before.Length - (2L << 20), before.Length - (1L << 20));

        using (var explicitFrom = pair.StartConsole("--from", "0"))
        {
            explicitFrom.Stdin.Close();
            Assert.NotEqual(0, explicitFrom.WaitForExit());
            Assert.Empty(explicitFrom.Stdout);
            var line = Assert.Single(explicitFrom.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains($"output from byte 0 to byte {oldest - 1} is no longer held", line);
            Assert.Contains($"--from {oldest}", line);
        }

        string token = Token(pair);
        var refused = Encoding.UTF8.GetString(PlainRead(plain, token + " 0\n", 1 << 20));
        Assert.Matches($"^replayvm: the guest's console output from byte 0 to byte {oldest - 1} is no longer held[^\n]*\n$", refused);
        long inside = before.Length - 5000;
        Assert.Equal(before[(int)inside..], PlainRead(plain, $"{token} {inside}\n", 5000));

        using var console = pair.StartConsole();
        console.WaitForLine($"showing from byte {oldest}");
        console.Stdin.Write("k"u8);
        console.Stdin.Close();
        Assert.Equal(0, console.WaitForExit());
        Assert.True(console.Stdout.AsSpan().SequenceEqual(all.AsSpan((int)oldest)), $"the console showed {console.Stdout.Length} bytes, expected {all.Length - oldest}");
        Assert.Equal(0, pair.Primary.WaitForExit());
        Assert.Equal(0, pair.Backup!.WaitForExit());
        foreach (var trace in new[] { pair.PrimaryTrace, pair.BackupTrace })
        {
            var replay = pair.Replay(trace);
            Assert.True(replay.Exit == 0, replay.Stderr);
            Assert.True(replay.Console.AsSpan().SequenceEqual(all), $"{trace} replays to {replay.Console.Length} bytes, not the {all.Length} printed");
        }
    }

    /// <summary>
    /// A client attached before the guest prints (it waits for the client's first key) keeps up
    /// with the 2.4 MB; the primary is killed once more than 1.5 MiB is out (so both replicas' 1 MiB
    /// histories have dropped their start): the client resumes from its offset on the backup,
    /// inside its history, and shows every byte exactly once.
    /// </summary>
    [Fact]
    public void A_client_resuming_inside_the_history_after_a_failover_shows_every_byte_once()
    {
        var all = LongChatter(done: true);
        using var pair = new ReplicaPair();
        pair.StartBackup("--console-history", "1");
        pair.StartPrimary(ChatterGuest.PacedPath, null, "--console-history", "1");
        pair.Primary!.WaitForLine("caught up");
        using var console = pair.StartConsole();
        console.Stdin.Write("s"u8);
        console.Stdin.Flush();
        WaitForStatus(pair, pair.PrimaryConsolePort, s => long.Parse(s["console-bytes"]) > 3L << 19, "1.5 MiB of output");
        pair.Primary.KillHard();
        pair.Backup!.WaitForLine(": live at step ");
        try
        {
            console.Stdin.Write("k"u8);
            console.Stdin.Close();
        }
        catch (IOException)
        {
            // The client ended already: what it said is checked below.
        }
        int consoleExit = console.WaitForExit();
        Assert.True(consoleExit == 0, $"console exit {consoleExit}\n--- console ---\n{console.Stderr}\n--- backup ---\n{pair.Backup.Stderr}");
        int backupExit = pair.Backup.WaitForExit();
        string context = $"console exit {consoleExit}, backup exit {backupExit}\n--- backup ---\n{pair.Backup.Stderr}\n--- console ---\n{console.Stderr}";
        Assert.True(consoleExit == 0 && backupExit == 0, context);
        Assert.True(console.Stdout.AsSpan().SequenceEqual(all), context + $"\nthe console showed {console.Stdout.Length} bytes of {all.Length}");
        Assert.DoesNotContain("no longer held", pair.Backup.Stderr);
        var replay = pair.Replay(pair.BackupTrace);
        Assert.True(replay.Exit == 0, replay.Stderr);
        Assert.True(replay.Console.AsSpan().SequenceEqual(all), context);
    }
}
