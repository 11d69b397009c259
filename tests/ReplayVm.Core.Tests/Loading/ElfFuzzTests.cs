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

    /// <summary>
    /// Every prefix of a real ELF, with and without its section headers (a stripped file has none, so
    /// only the file header, program headers and segment bytes are needed): one that cuts any of those
    /// must be refused with a one-line <see cref="GuestImageException"/>, never loaded with missing
    /// bytes nor another exception; without section headers every longer prefix loads, and loads
    /// exactly the original's segments. What is needed is read here from the ELF specification's
    /// offsets (Elf64_Ehdr, Elf64_Phdr), independently of the loader.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Every_truncation_parses_or_throws_GuestImageException(bool stripSectionHeaders)
    {
        byte[] original = (byte[])Original.Value.Clone();
        if (stripSectionHeaders)
        {
            original.AsSpan(0x28, 8).Clear(); // e_shoff
            original.AsSpan(0x3c, 4).Clear(); // e_shnum, e_shstrndx
        }
        var loads = LoadSegments(original);
        Assert.NotEmpty(loads);
        ulong phEnd = ReadU64(original, 0x20) + (ulong)ReadU16(original, 0x38) * ReadU16(original, 0x36);
        ulong needed = Math.Max(phEnd, loads.Max(l => l.Offset + l.FileSize));
        Assert.True(needed < (ulong)original.Length);
        ulong entry = ReadU64(original, 0x18);
        for (int length = 0; length <= original.Length; length++)
        {
            ElfImage image;
            try
            {
                image = ElfImage.Parse(original.AsSpan(0, length));
            }
            catch (GuestImageException e)
            {
                Assert.False(length == original.Length, $"the whole file was refused: {e.Message}");
                Assert.False(stripSectionHeaders && (ulong)length >= needed, $"a {length}-byte prefix holding everything a stripped file needs ({needed} bytes) was refused: {e.Message}");
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
                Assert.DoesNotContain('\n', e.Message);
                continue;
            }
            Assert.True((ulong)length >= needed, $"a {length}-byte prefix loaded although the segments need {needed} bytes");
            Assert.Equal(entry, image.Entry);
            Assert.Equal(loads.Select(l => Convert.ToHexString(original, (int)l.Offset, (int)l.FileSize)),
                image.Segments.Select(s => Convert.ToHexString(s.FileBytes)));
        }
    }

    /// <summary>(file offset, file size) of each PT_LOAD with file bytes, from the 64-bit program headers (ELF spec: Elf64_Phdr).</summary>
    private static List<(ulong Offset, ulong FileSize)> LoadSegments(byte[] elf)
    {
        ulong phoff = ReadU64(elf, 0x20);
        int entrySize = ReadU16(elf, 0x36), count = ReadU16(elf, 0x38);
        var loads = new List<(ulong, ulong)>();
        for (int i = 0; i < count; i++)
        {
            int at = (int)phoff + i * entrySize;
            if (System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan(at)) != 1) continue; // PT_LOAD
            loads.Add((ReadU64(elf, at + 8), ReadU64(elf, at + 32)));
        }
        return loads;
    }

    private static ulong ReadU64(byte[] data, int at) => System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(at));

    private static ushort ReadU16(byte[] data, int at) => System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(at));
}
