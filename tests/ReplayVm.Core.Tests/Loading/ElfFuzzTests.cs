using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Core.Loading;
using ReplayVm.Tests.Support;

namespace ReplayVm.Core.Tests.Loading;

/// <summary>A change to a real guest ELF: cut it short and/or overwrite bytes.</summary>
public sealed record ElfDamage(int? TruncateAt, (int Position, byte[] Bytes)[] Writes)
{
    public byte[] ApplyTo(byte[] original)
    {
        var data = (byte[])original.Clone();
        if (data.Length == 0) return data;
        foreach (var (position, bytes) in Writes)
        {
            // A negative position counts back from the end, where the section header table lives.
            int start = position >= 0 ? position % data.Length : data.Length - (-position % data.Length);
            for (int i = 0; i < bytes.Length; i++)
                data[(start + i) % data.Length] = bytes[i];
        }
        return TruncateAt is int cut ? data[..(cut % (data.Length + 1))] : data;
    }

    public override string ToString() =>
        $"truncate at {TruncateAt?.ToString() ?? "-"}; writes " +
        string.Join(", ", Writes.Select(w => $"{w.Position}:{Convert.ToHexString(w.Bytes)}"));
}

public static class ElfDamageArbitrary
{
    public static Arbitrary<ElfDamage> Damage()
    {
        // Most of an ELF's structure is in its first few hundred bytes (file and program headers)
        // and in the section header table at the end, so aim most writes there.
        var position = Gen.Frequency(
            (4, Gen.Choose(0, 63)),
            (4, Gen.Choose(64, 64 + 4 * 56)),
            (2, Gen.Choose(-1024, -1)), // from the end
            (2, Gen.Choose(0, 1 << 20)));
        // Single bytes (flips), and 8-byte fields set to extreme values.
        var bytes = Gen.OneOf(
            Gen.Choose(0, 255).Select(b => new[] { (byte)b }),
            Gen.Elements(ulong.MaxValue, 1UL << 63, 0x1_0000_0000UL, 0UL, 0xffffUL).Select(BitConverter.GetBytes),
            Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), 8));
        var write = from p in position from b in bytes select (p, b);
        var truncate = Gen.Frequency(
            (3, Gen.Constant<int?>(null)),
            (2, Gen.Choose(0, 1 << 16).Select(n => (int?)n)));
        var damage = from t in truncate
                     from count in Gen.Choose(0, 6)
                     from writes in Gen.ArrayOf(write, count)
                     select new ElfDamage(t, writes);
        return damage.ToArbitrary();
    }
}

public class ElfFuzzTests
{
    private static readonly Lazy<byte[]> Original = new(() => File.ReadAllBytes(TestGuests.Rv64Elf));

    [Property(Arbitrary = [typeof(ElfDamageArbitrary)], MaxTest = 3000)]
    public void Damaged_elf_parses_or_throws_GuestImageException(ElfDamage damage)
    {
        byte[] data = damage.ApplyTo(Original.Value);
        try
        {
            var image = ElfImage.Parse(data);
            // Whatever parsed must also be safe to query.
            foreach (var symbol in image.Symbols) _ = image.SymbolAt(symbol.Value);
            _ = image.SymbolAt(image.Entry);
            foreach (var segment in image.Segments)
                Assert.True((ulong)segment.FileBytes.Length <= segment.MemorySize);
        }
        catch (GuestImageException e)
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
            Assert.DoesNotContain('\n', e.Message);
        }
    }

    [Fact]
    public void Every_truncation_parses_or_throws_GuestImageException()
    {
        byte[] original = Original.Value;
        for (int length = 0; length <= original.Length; length++)
        {
            try { ElfImage.Parse(original.AsSpan(0, length)); }
            catch (GuestImageException) { }
        }
    }
}
