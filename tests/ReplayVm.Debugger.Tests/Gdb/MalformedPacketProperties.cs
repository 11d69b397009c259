using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Debugger.Gdb;

namespace ReplayVm.Debugger.Tests.Gdb;

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

    [Property(Arbitrary = [typeof(Packets)], MaxTest = 500)]
    public void TheHandlerNeverThrows(string payload)
    {
        var handler = new GdbCommandHandler(new FakeDebugTarget());
        GdbReply reply = handler.Handle(RspCodec.AsBytes(payload));
        if (reply is GdbReply.Resume resume) resume.Run(CancellationToken.None);
    }
}
