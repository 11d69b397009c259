using System.Globalization;
using System.Text;

namespace ReplayVm.Debugger.Gdb;

/// <summary>
/// The byte-level rules of the GDB Remote Serial Protocol ("Overview" and "Binary Data" in gdb's manual,
/// appendix E): framing <c>$payload#cs</c> with a modulo-256 checksum, <c>}</c>-escaping of the
/// characters that would break framing, and <c>*</c> run-length encoding.
/// </summary>
public static class RspCodec
{
    /// <summary>The escape character: the next byte is XORed with 0x20.</summary>
    public const byte Escape = (byte)'}';

    /// <summary>The run-length marker: repeat the previous byte (count char - 29) more times.</summary>
    public const byte Repeat = (byte)'*';

    /// <summary>Modulo-256 sum of the framed bytes, as gdb computes it.</summary>
    public static byte Checksum(ReadOnlySpan<byte> raw)
    {
        int sum = 0;
        foreach (byte b in raw) sum += b;
        return (byte)sum;
    }

    /// <summary>A whole frame for <paramref name="payload"/>, escaping it so any bytes survive.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> payload)
    {
        byte[] body = EscapeBytes(payload);
        return FrameRaw(body);
    }

    /// <summary>A whole frame around bytes that are already escaped (and possibly run-length encoded).</summary>
    public static byte[] FrameRaw(ReadOnlySpan<byte> raw)
    {
        var frame = new byte[raw.Length + 4];
        frame[0] = (byte)'$';
        raw.CopyTo(frame.AsSpan(1));
        frame[raw.Length + 1] = (byte)'#';
        byte sum = Checksum(raw);
        frame[raw.Length + 2] = HexDigit(sum >> 4);
        frame[raw.Length + 3] = HexDigit(sum & 0xF);
        return frame;
    }

    /// <summary>Escapes '$', '#', '}' and '*' (gdb escapes '*' too, so a decoder can expand runs first).</summary>
    public static byte[] EscapeBytes(ReadOnlySpan<byte> payload)
    {
        var output = new List<byte>(payload.Length + 8);
        foreach (byte b in payload)
        {
            if (b is (byte)'$' or (byte)'#' or Escape or Repeat)
            {
                output.Add(Escape);
                output.Add((byte)(b ^ 0x20));
            }
            else
            {
                output.Add(b);
            }
        }
        return output.ToArray();
    }

    /// <summary>
    /// Compresses runs of 4 or more identical bytes as <c>x*N</c>. The count character is kept printable
    /// and never '#' or '$' (counts 6 and 7), as the protocol requires.
    /// </summary>
    public static byte[] RunLengthEncode(ReadOnlySpan<byte> raw)
    {
        var output = new List<byte>(raw.Length);
        int i = 0;
        while (i < raw.Length)
        {
            byte b = raw[i];
            int run = 1;
            while (i + run < raw.Length && raw[i + run] == b && run < 98) run++;
            output.Add(b);
            int extra = run - 1;
            if (extra == 6 || extra == 7) extra = 5; // '#' and '$' cannot be counts
            if (extra >= 3)
            {
                output.Add(Repeat);
                output.Add((byte)(extra + 29));
                i += 1 + extra;
            }
            else
            {
                i += 1;
            }
        }
        return output.ToArray();
    }

    /// <summary>
    /// Undoes run-length encoding then escaping, giving the payload bytes. Returns null for a malformed
    /// body (a dangling escape, a repeat with nothing to repeat or a count out of range).
    /// </summary>
    public static byte[]? Decode(ReadOnlySpan<byte> raw)
    {
        // Runs are expanded on the raw (still escaped) bytes first, as gdb does: a '*' is always a run
        // marker there, because an escaped '*' travels as "}\n".
        var expanded = new List<byte>(raw.Length);
        for (int i = 0; i < raw.Length; i++)
        {
            byte b = raw[i];
            if (b != Repeat)
            {
                expanded.Add(b);
                continue;
            }
            if (expanded.Count == 0 || i + 1 >= raw.Length) return null;
            int count = raw[++i] - 29;
            if (count < 0 || count > 126 - 29) return null;
            byte previous = expanded[^1];
            for (int k = 0; k < count; k++) expanded.Add(previous);
        }
        return Unescape(expanded);
    }

    private static byte[]? Unescape(List<byte> bytes)
    {
        var output = new byte[bytes.Count];
        int o = 0;
        for (int i = 0; i < bytes.Count; i++)
        {
            if (bytes[i] == Escape)
            {
                if (++i >= bytes.Count) return null;
                output[o++] = (byte)(bytes[i] ^ 0x20);
            }
            else
            {
                output[o++] = bytes[i];
            }
        }
        return output.AsSpan(0, o).ToArray();
    }

    /// <summary>Lower-case hex digit for a value 0..15.</summary>
    public static byte HexDigit(int value) => (byte)"0123456789abcdef"[value & 0xF];

    /// <summary>Bytes as lower-case hex, two digits each.</summary>
    public static string ToHex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    /// <summary>An even-length hex string as bytes; null if it is not one.</summary>
    public static byte[]? FromHex(ReadOnlySpan<char> hex)
    {
        if (hex.Length % 2 != 0) return null;
        foreach (char c in hex)
            if (!char.IsAsciiHexDigit(c)) return null;
        return Convert.FromHexString(hex);
    }

    /// <summary>A little-endian register value of <paramref name="bytes"/> bytes as hex (target byte order).</summary>
    public static string RegisterHex(ulong value, int bytes)
    {
        Span<byte> buffer = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(buffer, value);
        return ToHex(buffer[..bytes]);
    }

    /// <summary>Parses a big-endian hex number as used for addresses and lengths (1..16 digits).</summary>
    public static bool TryParseNumber(ReadOnlySpan<char> text, out ulong value) =>
        ulong.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)
        && text.Length is > 0 and <= 16;

    /// <summary>Bytes as a one-byte-per-char string (Latin-1), so binary payloads keep every value.</summary>
    public static string AsText(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    /// <summary>The inverse of <see cref="AsText"/>.</summary>
    public static byte[] AsBytes(string text) => Encoding.Latin1.GetBytes(text);
}
