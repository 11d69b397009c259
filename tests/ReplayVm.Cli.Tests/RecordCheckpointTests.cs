using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// <c>record --checkpoint-every N</c>: the recorder writes the trace's sidecar as it records, the
/// very file <c>replayvm index --every N</c> would build from the finished trace, and a recording
/// killed on the way leaves no sidecar.
/// </summary>
public sealed class RecordCheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-recordindex-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_recorders_sidecar_is_the_one_index_builds()
    {
        string trace = Path.Combine(_dir, "bench.rvtrace");
        string sidecar = trace + ".rvindex";
        var recorded = CliProcess.Run("record", "-o", trace, "--hash-interval", "5M", "--checkpoint-every", "20M", CliProcess.Guest("bench.elf"));
        Assert.True(recorded.ExitCode == 0, recorded.ToString());
        Assert.Matches(@"^replayvm: wrote .*bench\.rvtrace\.rvindex: [1-9]\d* snapshots, \d+ bytes$", recorded.StderrLines[^2]);
        var written = File.ReadAllBytes(sidecar);

        // Sound and used as it is: index keeps it, replay --jobs starts its segments from it without a notice.
        Assert.Contains("is up to date", CliProcess.Run("index", trace).Stderr);
        var replay = CliProcess.Run("replay", "--jobs", "2", trace);
        Assert.True(replay.ExitCode == 0, replay.ToString());
        Assert.DoesNotContain("ignored", replay.Stderr);

        // Byte for byte what indexing the finished trace writes: snapshots, traps, executed pages, end record.
        var rebuilt = CliProcess.Run("index", trace, "--every", "20M", "--force");
        Assert.True(rebuilt.ExitCode == 0, rebuilt.ToString());
        Assert.Equal(written, File.ReadAllBytes(sidecar));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp-*"));
    }

    [Fact]
    public void A_killed_recording_leaves_no_sidecar()
    {
        string trace = Path.Combine(_dir, "uboot.rvtrace");
        // U-Boot idles at its prompt: the recording runs until killed, snapshots being written meanwhile.
        var info = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true, WorkingDirectory = CliProcess.RepoRoot,
        };
        foreach (var argument in new[] { CliProcess.CliDll, "record", "-o", trace, "--hash-interval", "1M", "--checkpoint-every", "1M",
                     "--bios", RequiredTools.OpenSbiFwJump, "--kernel", RequiredTools.UBootSupervisor })
            info.ArgumentList.Add(argument);
        using var recorder = System.Diagnostics.Process.Start(info)!;
        _ = recorder.StandardOutput.ReadToEndAsync();
        _ = recorder.StandardError.ReadToEndAsync();
        var deadline = DateTime.UtcNow.AddMinutes(3);
        // Its working file holds some snapshots by now (it grows past the first few records).
        while (!(Directory.GetFiles(_dir, "*.rvindex.tmp-*").FirstOrDefault() is { } working && new FileInfo(working).Length > 200_000))
        {
            Assert.False(recorder.HasExited, "the recording ended by itself");
            Assert.True(DateTime.UtcNow < deadline, "no snapshots written within 3 minutes");
            Thread.Sleep(100);
        }
        recorder.Kill();
        recorder.WaitForExit();
        Assert.False(File.Exists(trace + ".rvindex"), "a killed recording left a sidecar");
        // What it did leave is a trace without an end record; indexing it works from scratch.
        var index = CliProcess.Run("index", trace);
        Assert.True(index.ExitCode == 0, index.ToString());
        Assert.True(File.Exists(trace + ".rvindex"));
    }
}
