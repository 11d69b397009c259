using System.Diagnostics;
using System.Text.Json.Nodes;
using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// <c>replay --segment</c> / <c>--segment-from-env</c> / <c>--merge</c> as a cluster runs them: N
/// segment processes, each told its index by <c>JOB_COMPLETION_INDEX</c> as a Kubernetes Indexed Job
/// tells its pods, then one merge that must say what a serial replay says, and that refuses
/// results that are missing, doubled, of another trace or tampered with.
/// </summary>
public sealed class SegmentCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-segments-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string IndexedDemo()
    {
        string trace = Path.Combine(_dir, "demo.rvtrace");
        var recorded = CliProcess.Run(["record", "-o", trace, "--hash-interval", "1000", "--input", CliProcess.Expected("demo.stdin"), CliProcess.Guest("demo.elf")]);
        Assert.True(File.Exists(trace), recorded.ToString());
        Assert.Equal(0, CliProcess.Run("index", trace, "--every", "2000").ExitCode);
        return trace;
    }

    /// <summary>Runs the N segment processes at once, as the Job's pods, with only JOB_COMPLETION_INDEX telling them apart; their stdout goes to result files.</summary>
    private string[] RunSegments(string trace, int count)
    {
        var processes = Enumerable.Range(0, count).Select(i =>
        {
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = CliProcess.RepoRoot };
            foreach (var argument in new[] { CliProcess.CliDll, "replay", "--segment-from-env", count.ToString(), trace }) info.ArgumentList.Add(argument);
            info.Environment["JOB_COMPLETION_INDEX"] = i.ToString();
            var process = Process.Start(info)!;
            return (process, stdout: process.StandardOutput.ReadToEndAsync(), stderr: process.StandardError.ReadToEndAsync());
        }).ToList();
        var files = new string[count];
        for (int i = 0; i < count; i++)
        {
            var (process, stdout, stderr) = processes[i];
            Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)), $"segment {i} did not finish");
            Assert.True(process.ExitCode == 0, $"segment {i}: exit {process.ExitCode}: {stderr.Result}");
            Assert.Matches($@"^replayvm: segment {i}/{count}: steps \d+\.\.\d+, \d+ state hashes matched, identical\n$", stderr.Result);
            files[i] = Path.Combine(_dir, $"segment-{i}.json");
            File.WriteAllText(files[i], stdout.Result);
            process.Dispose();
        }
        return files;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(20)] // more segments than snapshots: some are empty
    public void Segments_merged_say_what_a_serial_replay_says(int count)
    {
        string trace = IndexedDemo();
        var serial = CliProcess.Run("replay", trace);
        var files = RunSegments(trace, count);
        var merged = CliProcess.Run(["replay", trace, "--merge", .. files.Reverse()]); // any order
        Assert.Equal(serial.ExitCode, merged.ExitCode);
        Assert.Equal(serial.StderrLines[^1], merged.StderrLines.Single());
        Assert.Empty(merged.Stdout);
        // The segments cover the trace end to end.
        var results = files.Select(f => JsonNode.Parse(File.ReadAllText(f))!).OrderBy(r => (int)r["segment"]!).ToList();
        Assert.Equal(0UL, (ulong)results[0]["start"]!);
        for (int i = 1; i < count; i++) Assert.Equal((ulong)results[i - 1]["end"]!, (ulong)results[i]["start"]!);
    }

    [Fact]
    public void Missing_doubled_foreign_or_tampered_results_are_one_line_and_status_2()
    {
        string trace = IndexedDemo();
        var files = RunSegments(trace, 3);
        string Refused(params string[] results)
        {
            var outcome = CliProcess.Run(["replay", trace, "--merge", .. results]);
            Assert.True(outcome.ExitCode == 2, outcome.ToString());
            return Assert.Single(outcome.StderrLines);
        }
        Assert.Contains("segment 1 of 3 missing", Refused(files[0], files[2]));
        Assert.Contains("is also in", Refused(files[0], files[1], files[1], files[2]));

        string Tampered(string name, Action<JsonNode> change)
        {
            var node = JsonNode.Parse(File.ReadAllText(files[1]))!;
            change(node);
            string path = Path.Combine(_dir, name);
            File.WriteAllText(path, node.ToJsonString());
            return Refused(files[0], path, files[2]);
        }
        Assert.Contains("state hashes matched", Tampered("fewer.json", n => n["hashPointsChecked"] = (int)n["hashPointsChecked"]! - 1));
        Assert.Contains("state the trace does not have", Tampered("hash.json", n => n["endHash"] = new string('0', 32)));
        Assert.Contains("where segment 0 did not end", Tampered("start.json", n => n["start"] = (ulong)n["start"]! + 1000));
        Assert.Contains("other inputs consumed", Tampered("cursor.json", n => n["startCursor"]![0] = (int)n["startCursor"]![0]! + 1));
        Assert.Contains("another trace", Tampered("digest.json", n => n["traceDigest"] = new string('f', 32)));
        Assert.Contains("not a segment result", Refused(files[0], WriteText("garbage.json", "{ not json"), files[2]));
    }

    private string WriteText(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void A_segment_without_an_index_or_its_index_variable_is_one_line_and_status_2()
    {
        string trace = Path.Combine(_dir, "hello.rvtrace");
        CliProcess.Run("record", "-o", trace, CliProcess.Guest("hello.elf"));
        var noIndex = CliProcess.Run("replay", "--segment", "0/2", trace);
        Assert.Equal(2, noIndex.ExitCode);
        Assert.Contains("run 'replayvm index", Assert.Single(noIndex.StderrLines));
        var noVariable = CliProcess.Run("replay", "--segment-from-env", "2", trace);
        Assert.Equal(2, noVariable.ExitCode);
        Assert.Contains("JOB_COMPLETION_INDEX", Assert.Single(noVariable.StderrLines));
        Assert.Equal(2, CliProcess.Run("replay", "--segment", "2/2", trace).ExitCode);
    }
}
