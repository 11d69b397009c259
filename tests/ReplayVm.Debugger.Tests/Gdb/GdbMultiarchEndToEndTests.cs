using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace ReplayVm.Debugger.Tests.Gdb;

/// <summary>
/// The real client: gdb-multiarch (Debian package) in batch mode against the server over the fake target.
/// Fails, not skips, when gdb-multiarch is missing.
/// </summary>
public class GdbMultiarchEndToEndTests(ITestOutputHelper output)
{
    private string RunGdb(int port, params string[] commands)
    {
        var start = new ProcessStartInfo("gdb-multiarch")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // remotetimeout: gdb waits 2 s for a reply by default; on a busy host the server's first reply
        // can take longer, and gdb then pairs each later reply with the wrong packet (seen with test
        // projects run side by side: "Remote replied unexpectedly to 'vMustReplyEmpty'").
        foreach (string arg in new[] { "-batch", "-nx", "-ex", "set architecture riscv:rv64", "-ex", "set confirm off",
                     "-ex", "set pagination off", "-ex", "set remotetimeout 60", "-ex", $"target remote 127.0.0.1:{port}" })
            start.ArgumentList.Add(arg);
        foreach (string command in commands)
        {
            start.ArgumentList.Add("-ex");
            start.ArgumentList.Add(command);
        }

        Process gdb;
        try
        {
            gdb = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"gdb-multiarch is not installed (apt-get install gdb-multiarch): {e.Message}");
            throw;
        }
        using (gdb)
        {
            Task<string> stdout = gdb.StandardOutput.ReadToEndAsync();
            Task<string> stderr = gdb.StandardError.ReadToEndAsync();
            if (!gdb.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                gdb.Kill(entireProcessTree: true);
                Assert.Fail("gdb-multiarch did not finish within 60 s");
            }
            string text = stdout.Result + stderr.Result;
            output.WriteLine(text);
            return text;
        }
    }

    private static string Pc(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    [Fact]
    public void GdbStepsReverseStepsAndStopsAtBreakAndWatchPoints()
    {
        var target = new FakeDebugTarget();
        using var server = new RunningServer(target);
        string text = RunGdb(server.Port,
            // Each marker precedes the commands whose output its section holds.
            "echo @@start\\n", "info registers pc",
            "echo @@after-stepi\\n", "stepi", "info registers pc ra",
            "echo @@after-reverse-stepi\\n", "reverse-stepi", "info registers pc ra",
            "echo @@memory\\n", "x/4xw 0x80000000",
            "echo @@fpu\\n", "info registers ft1 fflags frm fcsr mstatus priv",
            "echo @@at-break\\n", "break *0x80000020", "continue", "info registers pc",
            "delete",
            "echo @@at-watch\\n", "watch *(int*)0x80000100", "continue", "info registers pc",
            "echo @@reverse-watch\\n", "reverse-continue", "info registers pc",
            "delete",
            "echo @@monitor\\n", "monitor when",
            "echo @@at-begin\\n", "reverse-continue", "info registers pc",
            "echo @@at-end\\n", "continue", "info registers pc");

        string Section(string name)
        {
            int from = text.IndexOf("@@" + name, StringComparison.Ordinal);
            Assert.True(from >= 0, $"gdb output lacks section {name}:\n{text}");
            int to = text.IndexOf("@@", from + 2, StringComparison.Ordinal);
            return to < 0 ? text[from..] : text[from..to];
        }

        Assert.Contains(Pc(FakeDebugTarget.RamBase), Section("start"));
        Assert.Matches(@"pc\s+0x80000004", Section("after-stepi"));
        Assert.Matches(@"ra\s+0x1\b", Section("after-stepi"));
        Assert.Matches(@"pc\s+0x80000000", Section("after-reverse-stepi"));
        Assert.Matches(@"ra\s+0x0\b", Section("after-reverse-stepi"));
        Assert.Contains("0x00108093", Section("memory"));
        Assert.Matches(@"fflags\s+0x1\b", Section("fpu"));
        Assert.Matches(@"frm\s+0x2\b", Section("fpu"));
        Assert.Matches(@"mstatus\s+0xa00000000", Section("fpu"));
        Assert.Contains("Machine", Section("fpu"));
        Assert.Contains("1.5", Section("fpu"));
        Assert.Matches(@"pc\s+0x80000020", Section("at-break"));
        // The store at 0x80000014 (second time round the loop, ra = 22) has run: gdb stepped over it.
        Assert.Matches(@"pc\s+0x80000018", Section("at-watch"));
        Assert.Contains("New value = 22", Section("at-watch"));
        // Backwards, gdb stops with that store next to run and the value it overwrote.
        Assert.Matches(@"pc\s+0x80000014", Section("reverse-watch"));
        Assert.Contains("New value = 6", Section("reverse-watch"));
        Assert.Contains("Current instruction: 21", text); // just before the second store (16 + 5)
        Assert.Contains("No more reverse-execution history", Section("at-begin"));
        Assert.Matches(@"pc\s+0x80000000", Section("at-begin"));
        Assert.Contains("No more reverse-execution history", Section("at-end"));
        Assert.Equal(target.RecordingLength, target.CurrentStep);
    }
}
