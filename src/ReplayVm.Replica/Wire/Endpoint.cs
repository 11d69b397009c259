using System.Buffers.Binary;
using System.Globalization;
using System.Net;

namespace ReplayVm.Replica.Wire;

/// <summary>A <c>[HOST:]PORT</c> as given on the command line; the host defaults to 127.0.0.1.</summary>
public sealed record Endpoint(string Host, int Port)
{
    public static Endpoint Parse(string text, string what)
    {
        string host = "127.0.0.1", port = text;
        int colon = text.LastIndexOf(':');
        if (colon >= 0)
        {
            host = text[..colon].Trim('[', ']');
            port = text[(colon + 1)..];
        }
        if (host.Length == 0 || !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int number) || number > 65535)
            throw new ReplicaException($"{what}: '{text}' is not [HOST:]PORT (e.g. 127.0.0.1:7400)");
        return new Endpoint(host, number);
    }

    public static IReadOnlyList<Endpoint> ParseList(string text, string what) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(t => Parse(t, what)).ToList() is { Count: > 0 } list
            ? list
            : throw new ReplicaException($"{what}: give at least one [HOST:]PORT");

    /// <summary>
    /// The host as an IPv4 address when it is written as one in plain dotted decimal (127.0.0.1),
    /// else null: a name, an IPv6 address or another spelling, for .NET to parse or resolve. Read
    /// here rather than by <see cref="IPAddress.TryParse(string?, out IPAddress?)"/>, whose parser
    /// is generic code the runtime JIT-compiles in every process at its first use (about 3 ms of a
    /// primary's connection to its backup, by host string against by address).
    /// </summary>
    public IPAddress? Ipv4
    {
        get
        {
            uint address = 0;
            int parts = 0, value = 0, digits = 0;
            foreach (char c in Host)
            {
                if (c == '.')
                {
                    if (digits == 0 || ++parts > 3) return null;
                    address = address << 8 | (uint)value;
                    value = digits = 0;
                }
                // At most three digits, no leading zero (which some parsers read as octal), at most 255.
                else if (c is >= '0' and <= '9' && digits < 3 && !(digits == 1 && value == 0))
                {
                    value = value * 10 + (c - '0');
                    digits++;
                    if (value > 255) return null;
                }
                else return null;
            }
            if (digits == 0 || parts != 3) return null;
            address = address << 8 | (uint)value;
            // IPAddress(long) takes the address as its bytes lie in memory, in network order.
            return new IPAddress(BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(address) : address);
        }
    }

    public override string ToString() => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}
