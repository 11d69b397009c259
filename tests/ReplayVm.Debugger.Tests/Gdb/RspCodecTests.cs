using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Debugger.Gdb;

namespace ReplayVm.Debugger.Tests.Gdb;

public class RspCodecTests
{
    // The readers here read from memory streams, so their tasks complete synchronously.
    private static RspEvent? Next(RspReader reader) => reader.ReadAsync(default).GetAwaiter().GetResult();

    [Fact]
    public void FrameAddsTheModulo256Checksum()
    {
        Assert.Equal("$OK#9a", Encoding.ASCII.GetString(RspCodec.Frame("OK"u8)));
        Assert.Equal("$#00", Encoding.ASCII.GetString(RspCodec.Frame([])));
    }

    [Fact]
    public void SpecialCharactersAreEscapedWithXor20()
    {
        byte[] escaped = RspCodec.EscapeBytes("a$#}*"u8);
        Assert.Equal("a}\u0004}\u0003}]}\n", Encoding.Latin1.GetString(escaped));
        Assert.Equal("a$#}*"u8.ToArray(), RspCodec.Decode(escaped));
    }

    [Fact]
    public void RunLengthEncodingExpandsAsTheManualDescribes()
    {
        // "0* " means '0' plus 3 more (' ' is 32 = 3 + 29).
        Assert.Equal("0000"u8.ToArray(), RspCodec.Decode("0* "u8));
        // Runs of 7 or 8 would need '#' or '$' as the count; the encoder avoids them.
        foreach (int n in Enumerable.Range(1, 120))
        {
            byte[] raw = RspCodec.RunLengthEncode(Enumerable.Repeat((byte)'7', n).ToArray());
            Assert.DoesNotContain((byte)'#', raw);
            Assert.DoesNotContain((byte)'$', raw);
            Assert.Equal(n, RspCodec.Decode(raw)!.Length);
        }
    }

    [Theory]
    [InlineData("*a")]   // repeat with nothing before it
    [InlineData("a*")]   // repeat without a count
    [InlineData("ab}")]  // dangling escape
    [InlineData("a*\u0001")] // count below zero
    public void MalformedBodiesDecodeToNull(string body) =>
        Assert.Null(RspCodec.Decode(Encoding.Latin1.GetBytes(body)));

    public static class Payloads
    {
        // Biased towards the bytes the codec must treat specially, and towards runs.
        public static Arbitrary<byte[]> Bytes() =>
            Gen.Frequency(
                    (3, ArbMap.Default.GeneratorFor<byte>()),
                    (2, Gen.Elements((byte)'$', (byte)'#', (byte)'}', (byte)'*', (byte)0x03, (byte)'+', (byte)'-')),
                    (1, Gen.Constant((byte)'a')))
                .ArrayOf()
                .ToArbitrary();
    }

    [Property(Arbitrary = [typeof(Payloads)], MaxTest = 300)]
    public void AnyPayloadSurvivesFramingEscapingAndRunLengthEncoding(byte[] payload, bool compress)
    {
        byte[] body = RspCodec.EscapeBytes(payload);
        if (compress) body = RspCodec.RunLengthEncode(body);
        byte[] frame = RspCodec.FrameRaw(body);

        var reader = new RspReader(new MemoryStream([.. "+-"u8, .. frame]), 1 << 20);
        Assert.Equal(RspEventKind.Ack, Next(reader)!.Kind);
        Assert.Equal(RspEventKind.Nack, Next(reader)!.Kind);
        RspEvent packet = Next(reader)!;
        Assert.Equal(RspEventKind.Packet, packet.Kind);
        Assert.True(packet.ChecksumOk);
        Assert.Equal(payload, packet.Payload);
        Assert.Null(Next(reader)); // end of stream
    }

    [Fact]
    public void ReaderReportsBadChecksumsAndSkipsJunk()
    {
        var reader = new RspReader(new MemoryStream("junk$OK#00\u0003"u8.ToArray()), 100);
        RspEvent packet = Next(reader)!;
        Assert.False(packet.ChecksumOk);
        Assert.Equal(RspEventKind.Interrupt, Next(reader)!.Kind);
    }

    [Fact]
    public void ReaderDropsOversizedFramesWithoutBufferingThem()
    {
        byte[] frame = RspCodec.Frame(Enumerable.Repeat((byte)'x', 500).ToArray());
        var reader = new RspReader(new MemoryStream(frame), 100);
        Assert.Null(Next(reader)!.Payload);
    }
}
