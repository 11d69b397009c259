using System.Globalization;

namespace ReplayVm.Core.State;

/// <summary>
/// A 128-bit digest of a machine's architectural state (see <see cref="MachineStateHasher"/>).
/// Two runs agree at a point in time exactly when their hashes there agree (up to collisions).
/// </summary>
public readonly record struct StateHash(ulong High, ulong Low)
{
    public const int Size = 16;

    /// <summary>32 lower-case hex digits, high half first.</summary>
    public override string ToString() => $"{High:x16}{Low:x16}";

    public static StateHash Parse(string hex)
    {
        if (hex.Length != 32
            || !ulong.TryParse(hex.AsSpan(0, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong high)
            || !ulong.TryParse(hex.AsSpan(16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong low))
            throw new FormatException($"'{hex}' is not a 32-digit hex state hash");
        return new StateHash(high, low);
    }

    /// <summary>Big-endian bytes, as the hash is written to a trace.</summary>
    public void WriteTo(Span<byte> destination)
    {
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(destination, High);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(destination[8..], Low);
    }

    public static StateHash ReadFrom(ReadOnlySpan<byte> source) => new(
        System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(source),
        System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(source[8..]));
}
