using ReplayVm.Replica.Tests.Support;

namespace ReplayVm.Replica.Tests;

/// <summary>
/// A replica's <c>-o</c> is opened as <c>record</c> opens its output: locked against every other
/// recorder, and never one of the replica's own inputs, refused with the same one line as <c>record</c>.
/// </summary>
public sealed class TraceOutputTests
{
    [Fact]
    public void Primary_and_backup_refuse_an_output_another_recorder_holds_and_its_recording_survives()
    {
        using var pair = new ReplicaPair();
        string trace = Path.Combine(pair.Dir, "held.rvtrace");
        using var recorder = new ReplicaProcess(["record", "-o", trace, "--deterministic", ReplicaProcess.Guest("demo.elf")], pair.ConfigHome, "record");
        // The demo waits at its prompt: once the trace has its header, the recorder holds the file.
        for (int i = 0; i < 600 && (!File.Exists(trace) || new FileInfo(trace).Length == 0); i++) Thread.Sleep(100);
        Assert.True(new FileInfo(trace).Length > 0, "the recorder never wrote its header");
        string refusal = $"replayvm: {trace}: another replayvm is recording to this file; wait for it to finish or give another -o";

        // --max-instructions bounds the run should the primary wrongly start.
        var primary = ReplicaProcess.Run(pair.ConfigHome, "primary", "--arbiter", pair.Arbiter, "-o", trace,
            "--max-instructions", "1M", ReplicaProcess.Guest("hello.elf"));
        Assert.True(primary.Exit == 2, primary.Stderr);
        Assert.Equal(refusal, primary.Stderr.Trim());

        using (var backup = new ReplicaProcess(["backup", "--listen", "127.0.0.1:0", "--arbiter", pair.Arbiter, "-o", trace], pair.ConfigHome, "backup"))
        {
            backup.Stdin.Close();
            Assert.Equal(2, backup.WaitForExit(90));
            Assert.Equal(refusal, backup.Stderr.Trim());
        }

        recorder.Stdin.Write("quit\n"u8);
        recorder.Stdin.Close();
        Assert.Equal(0, recorder.WaitForExit());
        var replay = pair.Replay(trace);
        Assert.True(replay.Exit == 0, replay.Stderr);
        Assert.Contains("replay identical", replay.Stderr);
    }

    [Fact]
    public void Primary_and_backup_refuse_an_output_that_is_one_of_their_inputs_and_leave_it_whole()
    {
        using var pair = new ReplicaPair();
        string guest = Path.Combine(pair.Dir, "hello.elf");
        File.Copy(ReplicaProcess.Guest("hello.elf"), guest);
        byte[] image = File.ReadAllBytes(guest);
        string link = Path.Combine(pair.Dir, "link.rvtrace");
        File.CreateSymbolicLink(link, guest);

        // The guest itself, reached through a link.
        var primary = ReplicaProcess.Run(pair.ConfigHome, "primary", "--arbiter", pair.Arbiter, "-o", link, "--max-instructions", "1M", guest);
        Assert.True(primary.Exit == 2, primary.Stderr);
        Assert.Equal($"replayvm: {link}: is also an input of this recording ({guest}); write the trace to another file", primary.Stderr.Trim());
        Assert.Equal(image, File.ReadAllBytes(guest));

        // The backup's key file.
        string key = Path.Combine(pair.Dir, "replica.key");
        byte[] secret = Enumerable.Range(0, 32).Select(i => (byte)(i * 5 + 1)).ToArray();
        File.WriteAllBytes(key, secret);
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using (var backup = new ReplicaProcess(["backup", "--listen", "127.0.0.1:0", "--arbiter", pair.Arbiter, "--key", key, "-o", key], pair.ConfigHome, "backup"))
        {
            backup.Stdin.Close();
            Assert.Equal(2, backup.WaitForExit(90));
            Assert.Equal($"replayvm: {key}: is also an input of this recording ({key}); write the trace to another file", backup.Stderr.Trim());
        }
        Assert.Equal(secret, File.ReadAllBytes(key));
    }
}
