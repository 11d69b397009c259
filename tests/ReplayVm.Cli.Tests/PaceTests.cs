using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>`--pace` may only make a run wait for the wall clock: what the guest computes, prints and
/// records must be exactly what it is without it.</summary>
public sealed class PaceTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("replayvm-pace-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void Paced_run_prints_and_exits_as_an_unpaced_one()
    {
        // traps waits for CLINT timer interrupts with wfi: the pacer sleeps there, results must not move.
        var plain = CliProcess.Run("run", CliProcess.Guest("traps.elf"));
        var paced = CliProcess.Run("run", "--pace", CliProcess.Guest("traps.elf"));
        Assert.Equal(0, plain.ExitCode);
        Assert.Equal(plain.ExitCode, paced.ExitCode);
        Assert.Equal(plain.StdoutText, paced.StdoutText);
    }

    [Fact]
    public void Paced_recording_replays_exactly()
    {
        string trace = Path.Combine(_dir.FullName, "paced.rvtrace");
        var recorded = CliProcess.Run("record", "--pace", "-o", trace, CliProcess.Guest("hello.elf"));
        Assert.Equal(0, recorded.ExitCode);
        var replayed = CliProcess.Run("replay", trace);
        Assert.Equal(0, replayed.ExitCode);
        Assert.Equal(recorded.StdoutText, replayed.StdoutText);
    }
}
