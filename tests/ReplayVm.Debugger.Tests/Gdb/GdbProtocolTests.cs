using System.Text;
using System.Xml.Linq;
using ReplayVm.Debugger.Gdb;

namespace ReplayVm.Debugger.Tests.Gdb;

/// <summary>Every packet the server handles, over a real socket, against the scripted fake target.</summary>
public sealed class GdbProtocolTests : IDisposable
{
    private readonly FakeDebugTarget _target = new();
    private readonly RunningServer _server;
    private readonly RspTestClient _client;

    public GdbProtocolTests()
    {
        _server = new RunningServer(_target);
        _client = _server.Connect();
    }

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
    }

    private string Ask(string packet) => _client.Request(packet);

    private static string Hex(string text) => Convert.ToHexStringLower(Encoding.ASCII.GetBytes(text));

    private static string Le(ulong value, int bytes = 8) => RspCodec.RegisterHex(value, bytes);

    [Fact]
    public void QSupportedAdvertisesWhatGdbNeeds()
    {
        string reply = Ask("qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vContSupported+");
        foreach (string feature in new[] { "PacketSize=4000", "qXfer:features:read+", "ReverseStep+", "ReverseContinue+",
                     "QStartNoAckMode+", "swbreak+", "hwbreak+", "vContSupported+" })
            Assert.Contains(feature, reply.Split(';'));
    }

    [Fact]
    public void TargetDescriptionReadsInChunksAndNumbersRegistersLikeGdb()
    {
        var xml = new StringBuilder();
        while (true)
        {
            string reply = Ask($"qXfer:features:read:target.xml:{xml.Length:x},100");
            Assert.True(reply[0] is 'm' or 'l', reply);
            xml.Append(reply[1..]);
            if (reply[0] == 'l') break;
        }
        XDocument doc = XDocument.Parse(xml.ToString());
        var regs = doc.Descendants("reg").ToDictionary(r => (string)r.Attribute("name")!, r => (int)r.Attribute("regnum")!);
        Assert.Equal(0, regs["zero"]);
        Assert.Equal(31, regs["t6"]);
        Assert.Equal(32, regs["pc"]);
        Assert.Equal(33, regs["ft0"]);
        Assert.Equal(64, regs["ft11"]);
        Assert.Equal(66, regs["fflags"]);
        Assert.Equal(67, regs["frm"]);
        Assert.Equal(68, regs["fcsr"]);
        Assert.Equal(65 + 0x300, regs["mstatus"]);
        Assert.Equal(65 + 0x180, regs["satp"]);
        Assert.Equal(65 + 4096, regs["priv"]);
        Assert.Equal(["org.gnu.gdb.riscv.cpu", "org.gnu.gdb.riscv.fpu", "org.gnu.gdb.riscv.csr", "org.gnu.gdb.riscv.virtual"],
            doc.Descendants("feature").Select(f => (string)f.Attribute("name")!));

        Assert.Equal("l", Ask("qXfer:features:read:target.xml:100000,100"));
        Assert.Equal("E00", Ask("qXfer:features:read:other.xml:0,100"));
        Assert.Equal("E01", Ask("qXfer:features:read:target.xml:zz"));
    }

    [Fact]
    public void ThreadAndAttachQueriesDescribeOneThread()
    {
        Assert.Equal("1", Ask("qAttached"));
        Assert.Equal("1", Ask("qAttached:1"));
        Assert.Equal("QC1", Ask("qC"));
        Assert.Equal("m1", Ask("qfThreadInfo"));
        Assert.Equal("l", Ask("qsThreadInfo"));
        Assert.Equal("OK", Ask("Hg0"));
        Assert.Equal("OK", Ask("Hc-1"));
        Assert.Equal("OK", Ask("T1"));
        Assert.Equal("", Ask("vMustReplyEmpty"));
        Assert.Equal("", Ask("qTStatus"));
        Assert.Equal("vCont;c;C;s;S", Ask("vCont?"));
    }

    [Fact]
    public void QuestionMarkReportsTheCurrentStop()
    {
        Assert.Equal($"T05thread:1;20:{Le(FakeDebugTarget.RamBase)};", Ask("?"));
    }

    [Fact]
    public void GeneralRegistersRoundTrip()
    {
        string g = Ask("g");
        Assert.Equal(33 * 16, g.Length);
        Assert.Equal(Le(FakeDebugTarget.RamBase), g[(32 * 16)..]);

        var values = Enumerable.Range(0, 33).Select(i => (ulong)i * 0x0101010101010101UL).ToArray();
        values[32] = FakeDebugTarget.RamBase + 8;
        Assert.Equal("OK", Ask("G" + string.Concat(values.Select(v => Le(v)))));
        Assert.Equal(0x0505050505050505UL, _target.ReadIntegerRegister(5));
        Assert.Equal(0UL, _target.ReadIntegerRegister(0));
        Assert.Equal(FakeDebugTarget.RamBase + 8, _target.ReadPc());
        Assert.Equal("E01", Ask("G1234"));
        Assert.Equal("E01", Ask("gx"));
    }

    [Fact]
    public void SingleRegistersReadAndWriteByGdbNumber()
    {
        Assert.Equal("OK", Ask("P5=" + Le(0x1234)));
        Assert.Equal(Le(0x1234), Ask("p5"));
        Assert.Equal(Le(FakeDebugTarget.RamBase), Ask("p20"));
        Assert.Equal(Le(BitConverter.DoubleToUInt64Bits(1.5)), Ask("p22")); // f1 = 33 + 1
        Assert.Equal("OK", Ask("P23=" + Le(0xdead)));                      // f2
        Assert.Equal(0xdeadUL, _target.ReadFloatRegister(2));
        Assert.Equal(Le(1, 4), Ask("p42"));                                // fflags = 66, 32 bits
        Assert.Equal(Le(0x41, 4), Ask("p44"));                             // fcsr
        Assert.Equal(Le(0xa00000000), Ask($"p{65 + 0x300:x}"));            // mstatus
        Assert.Equal("OK", Ask($"P{65 + 0x341:x}=" + Le(0x80000010)));     // mepc
        Assert.True(_target.TryReadCsr(0x341, out ulong mepc) && mepc == 0x80000010);
        Assert.Equal("E02", Ask($"P{65 + 0xF14:x}=" + Le(1)));             // mhartid is read-only
        Assert.Equal(new string('x', 16), Ask($"p{65 + 0x180:x}"));        // satp: the fake has none
        Assert.Equal(Le(3), Ask($"p{65 + 4096:x}"));                        // priv = Machine
        Assert.Equal("E02", Ask($"P{65 + 4096:x}=" + Le(0)));
        Assert.Equal("E01", Ask("p9999"));
        Assert.Equal("E01", Ask("p"));
        Assert.Equal("E01", Ask("P5=12"));
        Assert.Equal("E01", Ask("P5"));
    }

    [Fact]
    public void MemoryReadsWritesAndBinaryWrites()
    {
        Assert.Equal("93801000", Ask("m80000000,4"));
        Assert.Equal("OK", Ask("M80000200,3:aabbcc"));
        Assert.Equal("aabbcc", Ask("m80000200,3"));
        Assert.Equal("E02", Ask("m0,4"));
        Assert.Equal("E01", Ask("m80000000"));
        Assert.Equal("E01", Ask("M80000200,2:aabbcc"));
        Assert.Equal("E02", Ask("M10,1:00"));
        // A read running off the end of RAM returns the readable part.
        Assert.Equal(4, Ask($"m{FakeDebugTarget.RamBase + FakeDebugTarget.RamSize - 2:x},8").Length);

        // X carries binary; the framing bytes travel escaped.
        byte[] data = [(byte)'$', (byte)'#', (byte)'}', (byte)'*', 0, 0xff, 0x03];
        byte[] packet = [.. "X80000300,7:"u8, .. data];
        _client.SendRaw(RspCodec.Frame(packet));
        Assert.Equal("OK", _client.ReadReply());
        Assert.Equal(Convert.ToHexStringLower(data), Ask("m80000300,7"));
        Assert.Equal("OK", Ask("X80000300,0:"));
        Assert.Equal("E01", Ask("X80000300,5:ab"));
    }

    [Fact]
    public void StepReverseStepAndVContStep()
    {
        Assert.Equal($"T05thread:1;20:{Le(FakeDebugTarget.RamBase + 4)};", Ask("s"));
        Assert.Equal($"T05thread:1;20:{Le(FakeDebugTarget.RamBase + 8)};", Ask("vCont;s:1"));
        Assert.Equal($"T05thread:1;20:{Le(FakeDebugTarget.RamBase + 0xc)};", Ask("vCont;s:p1.1;c"));
        Assert.Equal(3UL, _target.CurrentStep);
        Assert.Equal($"T05thread:1;20:{Le(FakeDebugTarget.RamBase + 8)};", Ask("bs"));
        Assert.Equal(2UL, _target.CurrentStep);
        Assert.Equal(2UL, _target.ReadIntegerRegister(1));
        Assert.Equal($"T05thread:1;20:{Le(FakeDebugTarget.RamBase + 0x24)};", Ask("s80000020")); // s addr
        Assert.Equal("E01", Ask("vCont;x"));
        Assert.Equal("E01", Ask("vCont;s:2"));
        Assert.Equal("E01", Ask("sxyz"));
    }

    [Fact]
    public void BreakpointsStopContinueInBothDirections()
    {
        Assert.Equal("OK", Ask("Z0,80000020,4"));
        Assert.Equal("OK", Ask("Z1,80000030,2"));
        Assert.Equal($"T05swbreak:;thread:1;20:{Le(0x80000020)};", Ask("c"));
        Assert.Equal($"T05hwbreak:;thread:1;20:{Le(0x80000030)};", Ask("vCont;c"));
        Assert.Equal($"T05swbreak:;thread:1;20:{Le(0x80000020)};", Ask("bc"));
        Assert.Equal("OK", Ask("z0,80000020,4"));
        Assert.Equal("OK", Ask("z1,80000030,2"));
        Assert.Equal("E02", Ask("z1,80000030,2")); // already gone
        Assert.Equal($"T05replaylog:begin;thread:1;20:{Le(FakeDebugTarget.RamBase)};", Ask("bc"));
        Assert.Equal($"T05replaylog:begin;thread:1;20:{Le(FakeDebugTarget.RamBase)};", Ask("bs"));
        Assert.Equal($"T05replaylog:end;thread:1;20:{Le(0x80000020)};", Ask("c"));
        Assert.Equal($"T05replaylog:end;thread:1;20:{Le(0x80000020)};", Ask("s"));
        Assert.Equal($"T05replaylog:end;thread:1;20:{Le(0x80000020)};", Ask("?"));
        Assert.Equal(_target.RecordingLength, _target.CurrentStep);
    }

    [Fact]
    public void WatchpointsReportKindAndAddress()
    {
        Assert.Equal("OK", Ask("Z2,80000100,4"));
        Assert.Equal($"T05watch:80000100;thread:1;20:{Le(FakeDebugTarget.StorePc)};", Ask("c"));
        Assert.Equal("OK", Ask("z2,80000100,4"));
        Assert.Equal("OK", Ask("Z3,80000108,8"));
        Assert.Equal($"T05rwatch:80000108;thread:1;20:{Le(FakeDebugTarget.LoadPc)};", Ask("c"));
        Assert.Equal("OK", Ask("z3,80000108,8"));
        Assert.Equal("OK", Ask("Z4,80000100,4"));
        Assert.StartsWith("T05thread:1;", Ask("s")); // past the load
        Assert.Equal($"T05awatch:80000100;thread:1;20:{Le(FakeDebugTarget.StorePc + 4)};", Ask("bc"));
        Assert.Equal("", Ask("Z5,80000100,4"));
        Assert.Equal("E01", Ask("Z2,80000100"));
        Assert.Equal("E01", Ask("Zx,1,1"));
        Assert.Equal("OK", Ask("Z0,80000000,4;X1,0")); // conditions are accepted and ignored
    }

    [Fact]
    public void ExitedGuestGivesW()
    {
        var handler = new GdbCommandHandler(_target);
        Assert.Equal("W2a", handler.FormatStop(StopEvent.Exited(42)));
        Assert.Equal($"T02thread:1;20:{Le(4)};", handler.FormatStop(StopEvent.Interrupted(4)));
    }

    [Fact]
    public void MonitorCommandsGoToTheTargetAndAnswerInHex()
    {
        Ask("s");
        string reply = Ask("qRcmd," + Hex("when"));
        Assert.Equal("Current instruction: 1\n", Encoding.UTF8.GetString(Convert.FromHexString(reply)));
        Assert.Contains("Now at 5", Encoding.UTF8.GetString(Convert.FromHexString(Ask("qRcmd," + Hex("seek 5")))));
        Assert.Equal(5UL, _target.CurrentStep);
        Assert.Contains("Checkpoint", Encoding.UTF8.GetString(Convert.FromHexString(Ask("qRcmd," + Hex("checkpoint")))));
        Assert.Contains("fake target", Encoding.UTF8.GetString(Convert.FromHexString(Ask("qRcmd," + Hex("info")))));
        Assert.Equal(["when", "seek 5", "checkpoint", "info"], _target.MonitorCommands);
        Assert.Equal("E01", Ask("qRcmd,zz"));
    }

    [Fact]
    public void NoAckModeStopsAcknowledgements()
    {
        _client.Send("QStartNoAckMode");
        Assert.Equal(RspEventKind.Ack, _client.Next()!.Kind); // the request itself is still acked
        Assert.Equal("OK", _client.ReadReply());
        _client.NoAck = true;
        _client.Send("qC");
        RspEvent reply = _client.Next()!;
        Assert.Equal(RspEventKind.Packet, reply.Kind); // no '+' first
        Assert.Equal("QC1", Encoding.ASCII.GetString(reply.Payload!));
    }

    [Fact]
    public void BadChecksumIsNackedAndNackResends()
    {
        _client.SendRaw("$qC#00");
        Assert.Equal(RspEventKind.Nack, _client.Next()!.Kind);
        Assert.Equal("QC1", Ask("qC"));
        _client.SendRaw("-");
        Assert.Equal("QC1", _client.ReadReply());
    }

    [Fact]
    public void CtrlCInterruptsARunningContinue()
    {
        _target.SpinUntilCancelled = true;
        _client.Send("c");
        Assert.Equal(RspEventKind.Ack, _client.Next()!.Kind);
        _client.SendRaw([0x03]);
        Assert.Equal($"T02thread:1;20:{Le(FakeDebugTarget.RamBase)};", _client.ReadReply());
        Assert.Equal("QC1", Ask("qC")); // still serving
    }

    [Fact]
    public void DetachEndsTheSessionAndTheNextClientIsServed()
    {
        Assert.Equal("OK", Ask("Z0,80000020,4"));
        Assert.Equal("OK", Ask("D"));
        Assert.Null(_client.ReadReply());
        Assert.Empty(_target.Points); // the session's breakpoints went with it
        using var next = _server.Connect();
        Assert.Equal("QC1", next.Request("qC"));
    }

    [Fact]
    public void KillEndsTheSessionWithoutReplyAndKeepsListening()
    {
        _client.Send("k");
        Assert.Equal(RspEventKind.Ack, _client.Next()!.Kind);
        Assert.Null(_client.Next());
        using var next = _server.Connect();
        Assert.Equal("QC1", next.Request("qC"));
    }

    [Fact]
    public void ClientVanishingMidPacketOrMidRunLeavesTheServerReady()
    {
        Assert.Equal("OK", Ask("Z2,80000100,4"));
        _client.SendRaw("$m80000000,");
        _client.Dispose();

        using (var second = _server.Connect())
        {
            _target.SpinUntilCancelled = true;
            second.Send("c");
            Assert.Equal(RspEventKind.Ack, second.Next()!.Kind);
        } // gone while the target runs: the server must cancel the run

        _target.SpinUntilCancelled = false;
        using var third = _server.Connect();
        Assert.Equal("QC1", third.Request("qC"));
        Assert.Empty(_target.Points);
    }

    [Fact]
    public void PacketsSentWhileRunningAreAnsweredAfterTheStop()
    {
        // Found by the fuzz property: a client that does not wait for the stop reply must not be ignored.
        _client.Send("c");
        _client.Send("qC");
        Assert.StartsWith("T05replaylog:end;", _client.ReadReply());
        Assert.Equal("QC1", _client.ReadReply());
    }

    [Fact]
    public void UnknownPacketsGetTheEmptyReply()
    {
        Assert.Equal("", Ask("!"));
        Assert.Equal("", Ask("qUnknownThing"));
        Assert.Equal("", Ask("vUnknown"));
        Assert.Equal("", Ask("QNonStop:1"));
        Assert.Equal("", Ask(""));
        Assert.Equal("", Ask("bz"));
    }
}
