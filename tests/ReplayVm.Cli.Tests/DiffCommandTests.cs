using System.Text;
using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// <c>replayvm diff</c> on real recordings of the demo guest made with <c>record --deterministic
/// --input</c>, so that two recordings differ exactly where their scripted keys do.
/// </summary>
public sealed class DiffCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-diff-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Record(string name, byte[] keys)
    {
        string input = Path.Combine(_dir, name + ".stdin");
        File.WriteAllBytes(input, keys);
        string trace = Path.Combine(_dir, name + ".rvtrace");
        var outcome = CliProcess.Run("record", "--deterministic", "--hash-interval", "2000", "-o", trace, "--input", input, CliProcess.Guest("demo.elf"));
        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        return trace;
    }

    private static byte[] DemoKeys => File.ReadAllBytes(CliProcess.Expected("demo.stdin"));

    [Fact]
    public void Two_recordings_of_the_same_keys_are_identical()
    {
        var outcome = CliProcess.Run("diff", Record("a", DemoKeys), Record("b", DemoKeys));
        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        Assert.StartsWith("identical:", outcome.StdoutText);
    }

    [Fact]
    public void One_different_key_is_found_at_the_load_that_reads_it()
    {
        byte[] keys = DemoKeys;
        int at = Encoding.ASCII.GetString(keys).IndexOf("add bob", StringComparison.Ordinal) + 5;
        byte[] other = keys.ToArray();
        other[at] = (byte)'O';
        var outcome = CliProcess.Run("diff", Record("a", keys), Record("b", other));

        Assert.True(outcome.ExitCode == 1, outcome.ToString());
        string text = outcome.StdoutText;
        Assert.Matches(@"^differ at step \d+:", text);
        Assert.Matches(@"pc\s+0x[0-9a-f]{16} <console_getc\+0x[0-9a-f]+>", text);
        Assert.Matches(@"instruction\s+lbu\s", text);
        // The loaded byte lands in a register named by its ABI name: 'o' in A, 'O' in B.
        Assert.Matches(@"\n  (a[0-7]|t[0-6]|s\d+)\s+A 0x[0-9a-f]+ -> 0x000000000000006f\s+B 0x[0-9a-f]+ -> 0x000000000000004f", text);
        // The input events near the step show each side's key ('o' in A, 'O' in B).
        Assert.Matches(@"inputs A nearest the step:(\n  .*)*ConsoleInput @\d+: [0-9a-f]+ ""[^""]*add bo", text);
        Assert.Matches(@"inputs B nearest the step:(\n  .*)*ConsoleInput @\d+: [0-9a-f]+ ""[^""]*add bO", text);
    }

    [Fact]
    public void A_missing_trace_is_bad_input()
    {
        var outcome = CliProcess.Run("diff", Path.Combine(_dir, "nope.rvtrace"), Path.Combine(_dir, "nope2.rvtrace"));
        Assert.Equal(2, outcome.ExitCode);
        Assert.StartsWith("replayvm: ", Assert.Single(outcome.StderrLines));
    }
}
