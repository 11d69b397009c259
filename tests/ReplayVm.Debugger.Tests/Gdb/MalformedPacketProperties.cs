using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Debugger.Gdb;

namespace ReplayVm.Debugger.Tests.Gdb;

/// <summary>A packet's text, from <see cref="MalformedPacketProperties.Packets.Structured"/>.</summary>
public sealed record PacketText(string Text)
{
    public override string ToString() => Text;
}

/// <summary>Random packets and random junk never crash or hang the server.</summary>
public sealed class MalformedPacketProperties : IDisposable
{
    private readonly FakeDebugTarget _target = new(recordingLength: 200);
    private readonly RunningServer _server;

    public MalformedPacketProperties() => _server = new RunningServer(_target);

    public void Dispose() => _server.Dispose();

    public static class Packets
    {
        // Mostly characters that mean something to the protocol, so the fuzz reaches the parsers.
        private const string Alphabet = "qQvZzmMXgGpPcsbHTDk?,:;=-0123456789abcdefx$#}*+ \u0003";

        public static Arbitrary<string> Strings() =>
            Gen.Frequency(
                    (6, Gen.Elements(Alphabet.ToCharArray())),
                    (1, Gen.Choose(0, 255).Select(c => (char)c)))
                .ArrayOf()
                .Select(chars => new string(chars))
                .ToArbitrary();

        /// <summary>
        /// Packets built from the protocol's own pieces: a command, then hex numbers (small, at type
        /// limits, huge) between its separators, so the fuzz gets past the first parse into each handler.
        /// </summary>
        public static Arbitrary<PacketText> Structured()
        {
            string[] commands = ["m", "M", "X", "Z0,", "Z2,", "z1,", "p", "P", "G", "g", "qRcmd,", "qXfer:features:read:target.xml:", "vCont;", "vCont;c:", "H", "c", "s", "bc", "bs", "?", "qC", "T"];
            var number = Gen.OneOf(
                Gen.Choose(0, 300).Select(n => n.ToString("x")),
                Gen.Elements("0", "1", "7fffffff", "80000000", "ffffffff", "100000000", "7fffffffffffffff", "ffffffffffffffff", "10000000000000000", "80000000", "80000ffc", "4000", "3fff"),
                Gen.Choose(1, 40).Select(n => new string('f', n)));
            var separator = Gen.Frequency((4, Gen.Constant(",")), (2, Gen.Constant(":")), (1, Gen.Elements(";", "=", "", "x")));
            // command, number, then up to three (separator, number) pairs: "m80000000,ffffffff", "P20=0011", "Z2,0,4;X1,0".
            return (from command in Gen.Elements(commands)
                    from first in number
                    from count in Gen.Choose(0, 3)
                    from rest in Gen.ArrayOf(from sep in separator from n in number select sep + n, count)
                    select new PacketText(command + first + string.Concat(rest))).ToArbitrary();
        }

        public static Arbitrary<byte[]> Junk() =>
            Gen.Elements("$#+-}*\u0003ab01".Select(c => (byte)c).ToArray()).ArrayOf().ToArbitrary();
    }

    [Property(Arbitrary = [typeof(Packets)], MaxTest = 150)]
    public void RandomPacketsGetAReplyAndTheServerKeepsServing(string payload, string prefix)
    {
        // A prefix makes packets that start like real commands but continue with garbage.
        string[] commands = ["m", "M", "X", "Z", "z", "p", "P", "G", "qRcmd,", "qXfer:features:read:", "vCont;", "H", "qSupported:", "s", "bs"];
        string packet = (prefix.Length % 3 == 0 ? commands[prefix.Length % commands.Length] : "") + payload;

        using (var client = _server.Connect())
        {
            client.Send(packet);
            client.Send("qC");
            string? reply;
            do reply = client.ReadReply();
            while (reply is not null && reply != "QC1");
            if (reply is not null) return;
        }
        // The packet ended the session (D, k, vKill): the next client must be served.
        using var next = _server.Connect();
        Assert.Equal("QC1", next.Request("qC"));
    }

    [Property(Arbitrary = [typeof(Packets)], MaxTest = 60)]
    public void JunkThenHangUpLeavesTheServerReady(byte[] junk)
    {
        using (var client = _server.Connect()) client.SendRaw(junk);
        using var next = _server.Connect();
        Assert.Equal("QC1", next.Request("qC"));
    }

    /// <summary>
    /// Straight at the handler, with no server around it to catch anything: every packet gets a reply,
    /// long work (a resume, a monitor command) completes. The handler
    /// turns only a target's own refusals into error replies, so a bug in a parser (an overflow, an
    /// index out of range) escapes and fails this property.
    /// </summary>
    [Property(Arbitrary = [typeof(Packets)], MaxTest = 2000)]
    public void TheHandlerNeverThrows(PacketText structured, string payload, bool raw)
    {
        string packet = raw ? payload : structured.Text;
        var handler = new GdbCommandHandler(new FakeDebugTarget());
        GdbReply reply = handler.Handle(RspCodec.AsBytes(packet));
        string? sent = reply switch
        {
            GdbReply.Send send => send.Payload,
            GdbReply.Run run => run.Work(CancellationToken.None, new Progress<RunProgress>()).Reply,
            _ => null, // ends the session
        };
        if (sent is null) return;
        Assert.DoesNotContain("internal error", sent);
        // And the session still answers.
        Assert.Equal(new GdbReply.Send("QC1"), handler.Handle("qC"u8));
    }
}
