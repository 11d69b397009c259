using ReplayVm.Core.Devices;

namespace ReplayVm.Core.Tests.Devices;

public class PlicTests
{
    private const ulong Claim0 = 0x20_0004, Threshold0 = 0x20_0000, Claim1 = 0x20_1004, Threshold1 = 0x20_1000;

    private readonly bool[] _levels = new bool[Plic.SourceCount];
    private readonly Plic _plic;
    private int _notifications;

    public PlicTests()
    {
        _plic = new Plic(() => _notifications++);
        for (int s = 1; s < Plic.SourceCount; s++)
        {
            int source = s;
            _plic.Connect(source, () => _levels[source]);
        }
    }

    private uint Read(ulong offset)
    {
        Assert.True(_plic.Read(offset, 4, out ulong v));
        return (uint)v;
    }

    private void Write(ulong offset, uint value) => Assert.True(_plic.Write(offset, 4, value));

    private void Enable(int context, params int[] sources)
    {
        foreach (int s in sources)
        {
            ulong word = 0x2000 + 0x80 * (ulong)context + 4 * (ulong)(s / 32);
            Write(word, Read(word) | 1u << (s % 32));
        }
    }

    [Fact]
    public void Claim_returns_zero_when_nothing_is_pending()
    {
        Assert.Equal(0u, Read(Claim0));
        Assert.False(_plic.ContextInterrupt(0));
    }

    [Fact]
    public void A_source_needs_priority_above_threshold_and_enable()
    {
        _levels[10] = true;
        Assert.True(_plic.IsPending(10));
        Assert.False(_plic.ContextInterrupt(0)); // priority 0 never interrupts
        Write(4 * 10, 1);
        Assert.False(_plic.ContextInterrupt(0)); // not enabled
        Enable(0, 10);
        Assert.True(_plic.ContextInterrupt(0));
        Assert.False(_plic.ContextInterrupt(1)); // context 1 has its own enables
        Write(Threshold0, 1);
        Assert.False(_plic.ContextInterrupt(0)); // priority must exceed the threshold
        Write(Threshold0, 0);
        Assert.True(_plic.ContextInterrupt(0));
    }

    [Fact]
    public void Claim_picks_highest_priority_then_lowest_id()
    {
        foreach (int s in new[] { 3, 5, 7 }) { _levels[s] = true; Enable(1, s); }
        Write(4 * 3, 2);
        Write(4 * 5, 6);
        Write(4 * 7, 6);
        Assert.Equal(5u, Read(Claim1));
        Assert.Equal(7u, Read(Claim1));
        Assert.Equal(3u, Read(Claim1));
        Assert.Equal(0u, Read(Claim1));
    }

    [Fact]
    public void Claimed_source_is_not_pending_until_completed_and_reasserts_while_level_high()
    {
        _levels[10] = true;
        Write(4 * 10, 1);
        Enable(0, 10);
        Assert.Equal(10u, Read(Claim0));
        Assert.False(_plic.IsPending(10));
        Assert.False(_plic.ContextInterrupt(0));
        Assert.Equal(0u, Read(0x1000));
        Write(Claim0, 10); // complete with the level still high
        Assert.True(_plic.IsPending(10));
        Assert.Equal(1u << 10, Read(0x1000));
        Assert.Equal(10u, Read(Claim0));
        _levels[10] = false;
        Write(Claim0, 10);
        Assert.False(_plic.IsPending(10));
        Assert.Equal(0u, Read(Claim0));
    }

    // The gateway latches: once seen high, a source stays pending until claimed, even if the device
    // lowers its level first (PLIC spec 1.0.0 ch. 5; QEMU's sifive_plic does the same).
    [Fact]
    public void Level_that_drops_before_claim_stays_pending_until_claimed()
    {
        _levels[2] = true;
        Write(4 * 2, 1);
        Enable(0, 2);
        Assert.True(_plic.ContextInterrupt(0));
        _levels[2] = false;
        Assert.True(_plic.ContextInterrupt(0));
        Assert.Equal(2u, Read(Claim0));
        Write(Claim0, 2);
        Assert.False(_plic.IsPending(2));
        Assert.Equal(0u, Read(Claim0));
    }

    [Fact]
    public void Registers_read_back_with_qemu_widths()
    {
        Write(4 * 1, 0xFF);
        Assert.Equal(7u, Read(4 * 1)); // 3 priority bits
        Write(Threshold0, 9); // above the maximum priority: ignored, as QEMU
        Assert.Equal(0u, Read(Threshold0));
        Write(Threshold1, 3);
        Assert.Equal(3u, Read(Threshold1));
        Write(0x2000, 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_FFFEu, Read(0x2000)); // source 0 does not exist
        Write(0x1000, 0xFFFF_FFFF);
        Assert.Equal(0u, Read(0x1000)); // pending bits are read-only
        Assert.Equal(0u, Read(0x3000)); // context 2 does not exist
        Assert.Equal(0u, Read(0x20_3000));
    }

    [Fact]
    public void Writes_tell_the_machine_to_look_at_the_lines_again()
    {
        int before = _notifications;
        Write(Threshold0, 1);
        Assert.True(_notifications > before);
    }

    [Fact]
    public void Odd_sized_or_misaligned_accesses_fault()
    {
        Assert.False(_plic.Read(0x2, 4, out _));
        Assert.False(_plic.Write(0x4, 1, 1));
        Assert.True(_plic.Read(0x4, 8, out _));
    }
}
