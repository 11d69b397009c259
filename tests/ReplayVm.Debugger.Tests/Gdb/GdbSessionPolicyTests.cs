using System.Text;
using ReplayVm.Debugger.Gdb;

namespace ReplayVm.Debugger.Tests.Gdb;

/// <summary>
/// How the server treats clients beyond the packets: one at a time with a clear refusal for the
/// others, idle and silent clients dropped, progress on gdb's console, the end of a recording as a
/// place, read-only writes explained, bugs reported rather than hidden.
/// </summary>
public sealed class GdbSessionPolicyTests
{
    private static string Text(string hex) => Encoding.UTF8.GetString(Convert.FromHexString(hex));

    [Fact]
    public void A_second_client_is_refused_with_a_reason_while_the_first_is_idle_and_served_after_it_leaves()
    {
        var target = new FakeDebugTarget();
        using var server = new RunningServer(target);
        using var first = server.Connect();
        Assert.Equal("QC1", first.Request("qC")); // then idle: it sends nothing more

        using (var second = server.Connect())
        {
            string refusal = second.Request("qSupported:multiprocess+");
            Assert.StartsWith("E.replayvm serves one gdb at a time and another gdb (from 127.0.0.1:", refusal);
            Assert.Contains("detach or quit that one first", refusal);
            Assert.Null(second.ReadReply()); // and then it is closed
        }
        Assert.Equal("QC1", first.Request("qC")); // the first was not disturbed

        Assert.Equal("OK", first.Request("D"));
        using var third = server.Connect();
        Assert.Equal("QC1", third.Request("qC"));
    }

    [Fact]
    public void A_client_idle_past_the_timeout_is_dropped_and_the_next_one_served()
    {
        var target = new FakeDebugTarget();
        using var server = new RunningServer(target, new GdbServerOptions(System.Net.IPAddress.Loopback, 0) { IdleTimeout = TimeSpan.FromMilliseconds(300) });
        using var idle = server.Connect();
        Assert.Equal("OK", idle.Request("Z0,80000020,4"));
        Assert.Null(idle.ReadReply()); // the server closes it (the client's read gives up after 10 s)
        Assert.Empty(target.Points);    // and removes what it inserted
        Assert.Contains(server.Log, line => line.Contains("dropped so that another gdb can connect"));

        using var next = server.Connect();
        Assert.Equal("QC1", next.Request("qC"));
    }

    [Fact]
    public void A_connection_that_never_sends_a_packet_is_closed()
    {
        using var server = new RunningServer(new FakeDebugTarget(), new GdbServerOptions(System.Net.IPAddress.Loopback, 0) { HandshakeTimeout = TimeSpan.FromMilliseconds(300) });
        using var silent = server.Connect();
        Assert.Null(silent.Next());
        Assert.Contains(server.Log, line => line.Contains("no packet within"));
        using var next = server.Connect();
        Assert.Equal("QC1", next.Request("qC"));
    }

    [Fact]
    public void A_long_run_prints_progress_on_the_console_and_stops_on_ctrl_c()
    {
        var target = new FakeDebugTarget { SpinUntilCancelled = true };
        using var server = new RunningServer(target, new GdbServerOptions(System.Net.IPAddress.Loopback, 0) { ProgressInterval = TimeSpan.FromMilliseconds(50) });
        using var client = server.Connect();
        client.Send("c");
        string progress = client.ReadReply()!;
        Assert.StartsWith("O", progress);
        Assert.Matches(@"^replayvm: continue 50%, at event 0(, [\d.]+ [kM] events/s)?; Ctrl-C stops it\n$", Text(progress[1..]));
        client.SendRaw([0x03]);
        string? reply;
        do reply = client.ReadReply();
        while (reply is not null && reply.StartsWith('O'));
        Assert.StartsWith("T02", reply);
    }

    [Fact]
    public void The_end_of_a_recording_the_guest_ended_is_a_stop_with_a_note_and_the_session_goes_on()
    {
        var target = new FakeDebugTarget { GuestExitStatus = 3 };
        using var server = new RunningServer(target);
        using var client = server.Connect();
        string note = client.Request("c");
        Assert.StartsWith("O", note);
        Assert.StartsWith("replayvm: the guest exited with status 3 here, at the end of the recording;", Text(note[1..]));
        Assert.StartsWith("T05replaylog:end;", client.ReadReply());
        Assert.Equal(target.RecordingLength, target.CurrentStep);
        Assert.StartsWith("T05", client.Request("bs")); // still there, and it can go back
        Assert.Equal(target.RecordingLength - 1, target.CurrentStep);
    }

    [Fact]
    public void Writes_to_a_read_only_target_say_why()
    {
        var target = new FakeDebugTarget { WriteRefusal = "a recording is read-only" };
        using var server = new RunningServer(target);
        using var client = server.Connect();
        Assert.Equal("E.a recording is read-only", client.Request("P1=0100000000000000"));
        Assert.Equal("E.a recording is read-only", client.Request("M80000000,1:00"));
        Assert.Equal("E.a recording is read-only", client.Request("X80000000,1:a"));
        Assert.Equal("E.a recording is read-only", client.Request("c80000004"));
        Assert.Equal(0UL, target.ReadIntegerRegister(1));
    }

    [Fact]
    public void A_bug_in_the_server_is_an_error_reply_and_a_logged_stack_not_a_silent_E02()
    {
        var target = new FakeDebugTarget { PcReadsThrow = true };
        using var server = new RunningServer(target);
        using var client = server.Connect();
        Assert.Equal("E.replayvm internal error: InvalidOperationException: injected bug (details on the server's stderr)", client.Request("g"));
        Assert.Contains(server.Log, line => line.Contains("internal error handling the packet 'g'") && line.Contains("at ReplayVm."));
        Assert.Equal("QC1", client.Request("qC")); // still serving
    }
}
