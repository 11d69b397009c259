namespace ReplayVm.Cli.Tests;

public class NumberSyntaxTests
{
    [Theory]
    [InlineData("128", 128UL << 20)]
    [InlineData("128M", 128UL << 20)]
    [InlineData("128m", 128UL << 20)]
    [InlineData("128MiB", 128UL << 20)]
    [InlineData("128MB", 128UL << 20)]
    [InlineData("1G", 1UL << 30)]
    [InlineData("512K", 512UL << 10)]
    [InlineData("1T", 1UL << 40)]
    public void Memory_sizes_read_like_qemu(string text, ulong bytes)
    {
        Assert.True(NumberSyntax.TryParseMemorySize(text, out ulong value));
        Assert.Equal(bytes, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("M")]
    [InlineData("-1")]
    [InlineData("12X")]
    [InlineData("1.5G")]
    [InlineData("99999999999999999999")]
    [InlineData("17179869184G")] // overflows 64 bits
    [InlineData("2T")] // above the board's 1 TiB
    [InlineData("1K")] // not a multiple of the 4 KiB page
    [InlineData("1001K")]
    public void Bad_memory_sizes_are_rejected(string text) =>
        Assert.False(NumberSyntax.TryParseMemorySize(text, out _));

    [Theory]
    [InlineData("0", 0UL)]
    [InlineData("1000000", 1_000_000UL)]
    [InlineData("500K", 500_000UL)]
    [InlineData("3M", 3_000_000UL)]
    [InlineData("2g", 2_000_000_000UL)]
    [InlineData("18446744073709551615", ulong.MaxValue)]
    public void Counts_take_decimal_suffixes(string text, ulong expected)
    {
        Assert.True(NumberSyntax.TryParseCount(text, out ulong value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("many")]
    [InlineData("1e9")]
    [InlineData("-5")]
    [InlineData("20000000000G")]
    public void Bad_counts_are_rejected(string text) => Assert.False(NumberSyntax.TryParseCount(text, out _));

    [Theory]
    [InlineData("0x80000000", 0x8000_0000UL)]
    [InlineData("0X8000_0000", 0x8000_0000UL)]
    [InlineData("4096", 4096UL)]
    public void Addresses_are_hex_or_decimal(string text, ulong expected)
    {
        Assert.True(NumberSyntax.TryParseAddress(text, out ulong value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("0x")]
    [InlineData("0xZZ")]
    [InlineData("80000000h")]
    [InlineData("0x1_0000_0000_0000_0000")]
    public void Bad_addresses_are_rejected(string text) => Assert.False(NumberSyntax.TryParseAddress(text, out _));
}
