using System.Text.Json;
using ReplayVm.Cli.Tests.Support;
using ReplayVm.Inspect.Tests.Support;

namespace ReplayVm.Inspect.Tests;

/// <summary>
/// A backup waiting for its primary has no machine of its own yet; the throwaway machine it ran to
/// have the engine compiled before the log arrives (still on the heap until a collection) is not
/// reported as one of its machines.
/// </summary>
public sealed class InspectReplicaTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-inspect-replica-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_waiting_backup_shows_no_machine_not_its_warm_up_one()
    {
        using var backup = GuestProcess.Start(null, "backup", "--listen", "127.0.0.1:0", "--arbiter", "file:" + Path.Combine(_dir, "arbiter.lock"));
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            JsonElement report;
            while (true)
            {
                var outcome = CliProcess.Run("inspect", backup.Id.ToString(), "--json");
                bool starting = outcome.ExitCode != 0 && outcome.Stderr.Contains("ReplayVm.Core is not loaded");
                Assert.True(starting || outcome.ExitCode == 0, outcome.ToString());
                if (!starting)
                {
                    report = JsonDocument.Parse(outcome.StdoutText).RootElement.Clone();
                    // Done warming up: the thread that ran the throwaway machine has ended.
                    bool warming = report.GetProperty("threads").EnumerateArray()
                        .Any(t => t.TryGetProperty("name", out var name) && name.GetString() == "warm-up");
                    // Caught while a machine's constructor runs, it is counted as being built, not shown.
                    bool building = report.GetProperty("notes").EnumerateArray().Any(n => n.GetString()!.Contains("still being built", StringComparison.Ordinal));
                    if (!warming && !building && report.GetProperty("command").GetString() == "backup") break;
                }
                Assert.True(DateTime.UtcNow < deadline, "the backup never finished warming up");
                Thread.Sleep(200);
            }
            Assert.Equal(0, report.GetProperty("machines").GetArrayLength());
            Assert.Contains(report.GetProperty("notes").EnumerateArray(), n => n.GetString()!.StartsWith("no machine on the heap", StringComparison.Ordinal));
        }
        finally
        {
            backup.KillHard();
        }
    }
}
