using System.Security.Cryptography;
using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// The kernel guest (virtio-blk) recorded with a copy of its disk and replayed through the CLI:
/// embedded (the default), or named by hash and supplied with <c>replay --drive</c>. The image on
/// disk never changes, though the guest writes sector 1.
/// </summary>
public sealed class DiskRecordReplayTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-disktrace-").FullName;
    private readonly byte[] _original = File.ReadAllBytes(Path.Combine(CliProcess.RepoRoot, "tools", "guests", "kernel", "disk.img"));
    private readonly string _disk;

    public DiskRecordReplayTests()
    {
        _disk = Path.Combine(_dir, "disk.img");
        File.WriteAllBytes(_disk, _original);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Trace(string name) => Path.Combine(_dir, name);

    private CliOutcome Record(string trace, params string[] extra) =>
        CliProcess.Run(["record", "-o", trace, "--hash-interval", "50K", "--input", CliProcess.Expected("kernel.stdin"),
            "--drive", _disk, .. extra, CliProcess.Guest("kernel.elf")]);

    private static string Sha256(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    [Fact]
    public void Kernel_guest_with_an_embedded_disk_replays_byte_for_byte_and_the_image_is_unchanged()
    {
        string trace = Trace("kernel.rvtrace");
        var recorded = Record(trace);
        Assert.True(File.ReadAllBytes(CliProcess.Expected("kernel.out")).SequenceEqual(recorded.Stdout), recorded.ToString());
        Assert.Equal(int.Parse(File.ReadAllText(CliProcess.Expected("kernel.status")).Trim()), recorded.ExitCode);

        // The trace replays with nothing else: the image may even be gone.
        File.Move(_disk, _disk + ".away");
        var replayed = CliProcess.Run("replay", trace);
        File.Move(_disk + ".away", _disk);
        Assert.Equal(recorded.ExitCode, replayed.ExitCode);
        Assert.True(recorded.Stdout.SequenceEqual(replayed.Stdout), replayed.ToString());
        Assert.Matches(@"replay identical: \d+ steps, ([1-9]\d+) state hashes matched", replayed.Stderr);
        Assert.Equal(_original, File.ReadAllBytes(_disk));

        var info = CliProcess.Run("info", trace);
        Assert.Matches($@"disk\s+1 disk\.img, {_original.Length} bytes, sha256 {Sha256(_original)}, embedded", info.StdoutText);
        Assert.Matches(@"board revision \d+", info.StdoutText);
    }

    [Fact]
    public void A_disk_recorded_by_hash_needs_a_matching_drive_at_replay()
    {
        string trace = Trace("byhash.rvtrace");
        var recorded = Record(trace, "--no-embed-disks");
        Assert.True(recorded.ExitCode == 0, recorded.ToString());
        Assert.Matches(@"not embedded", CliProcess.Run("info", trace).StdoutText);
        Assert.True(new FileInfo(trace).Length < _original.Length + new FileInfo(CliProcess.Guest("kernel.elf")).Length / 4);

        var replayed = CliProcess.Run("replay", "--drive", _disk, trace);
        Assert.Equal(0, replayed.ExitCode);
        Assert.True(recorded.Stdout.SequenceEqual(replayed.Stdout), replayed.ToString());
        Assert.Contains("replay identical", replayed.Stderr);
        Assert.Equal(_original, File.ReadAllBytes(_disk));

        var missing = CliProcess.Run("replay", trace);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--drive", Assert.Single(missing.StderrLines));

        string other = Path.Combine(_dir, "other.img");
        var changed = _original.ToArray();
        changed[3] ^= 0xFF;
        File.WriteAllBytes(other, changed);
        var wrong = CliProcess.Run("replay", "--drive", other, trace);
        Assert.Equal(2, wrong.ExitCode);
        string line = Assert.Single(wrong.StderrLines);
        Assert.Contains("other.img does not match disk 1 'disk.img'", line);
        Assert.Contains(Sha256(_original), line);
        Assert.Empty(wrong.Stdout);
    }

    [Fact]
    public void Record_refuses_persist_and_contradictory_embedding()
    {
        var persist = Record(Trace("p.rvtrace"), "--persist");
        Assert.Equal(2, persist.ExitCode);
        Assert.Contains("--persist", Assert.Single(persist.StderrLines));
        Assert.False(File.Exists(Trace("p.rvtrace")));

        var both = Record(Trace("b.rvtrace"), "--embed-disks", "--no-embed-disks");
        Assert.Equal(2, both.ExitCode);
        Assert.Single(both.StderrLines);
        Assert.Equal(_original, File.ReadAllBytes(_disk));
    }

    [Fact]
    public void Replay_refuses_a_drive_for_a_trace_that_embeds_its_disks()
    {
        string trace = Trace("embedded.rvtrace");
        Assert.Equal(0, Record(trace).ExitCode);
        var outcome = CliProcess.Run("replay", "--drive", _disk, trace);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("without --drive", Assert.Single(outcome.StderrLines));
    }
}
