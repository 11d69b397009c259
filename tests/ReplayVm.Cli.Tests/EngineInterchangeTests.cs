using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// Engine choice never changes results: a recording made with one engine replays on the other with
/// every state hash equal (the replayer checks each one and exits 3 at the first that differs), and
/// prints the same console. The guests are an OS workload of ours (kernel: traps, paging, timer
/// interrupts, console input) and the CPU benchmark, long enough for the translator to run most of
/// them from translated regions.
/// </summary>
public sealed class EngineInterchangeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-engines-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("kernel", "translator", "interpreter")]
    [InlineData("kernel", "interpreter", "translator")]
    [InlineData("bench", "translator", "interpreter")]
    [InlineData("bench", "interpreter", "translator")]
    public void A_recording_replays_on_the_other_engine(string guest, string recordedWith, string replayedWith)
    {
        string trace = Path.Combine(_dir, $"{guest}-{recordedWith}.rvtrace");
        string stdin = CliProcess.Expected($"{guest}.stdin");
        var arguments = new List<string> { "record", "--engine", recordedWith, "--deterministic", "--hash-interval", "100000", "-o", trace };
        if (File.Exists(stdin)) arguments.AddRange(["--input", stdin]);
        // The kernel checks a virtio-blk disk (its committed image; guest writes stay in the session, and the trace embeds it).
        if (guest == "kernel") arguments.AddRange(["--drive", Path.Combine(CliProcess.RepoRoot, "tools", "guests", "kernel", "disk.img")]);
        arguments.Add(CliProcess.Guest($"{guest}.elf"));
        var recorded = CliProcess.Run([.. arguments], stdin: [], timeoutSeconds: 600);
        int expectedStatus = int.Parse(File.ReadAllText(CliProcess.Expected($"{guest}.status")).Trim());
        Assert.True(recorded.ExitCode == expectedStatus, recorded.ToString());

        var replayed = CliProcess.Run(["replay", "--engine", replayedWith, trace], stdin: [], timeoutSeconds: 600);
        Assert.True(replayed.ExitCode == expectedStatus, replayed.ToString());
        Assert.Equal(recorded.StdoutText, replayed.StdoutText);
        Assert.Matches(@"replay identical: \d+ steps, \d+ state hashes matched", replayed.Stderr);
    }
}
