using ReplayVm.Core.Devices;

namespace ReplayVm.Core.Tests.Devices;

public class PlicTests
{
    private const ulong Claim0 = 0x20_0004, Threshold0 = 0x20_0000, Claim1 = 0x20_1004, Threshold1 = 0x20_1000;

    private readonly Plic _plic;
    private int _notifications;

    public PlicTests() => _plic = new Plic(() => _notifications++);

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
        _plic.SetLevel(10, true);
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
        foreach (int s in new[] { 3, 5, 7 }) { _plic.SetLevel(s, true); Enable(1, s); }
        Write(4 * 3, 2);
        Write(4 * 5, 6);
        Write(4 * 7, 6);
        Assert.Equal(5u, Read(Claim1));
        Assert.Equal(7u, Read(Claim1));
        Assert.Equal(3u, Read(Claim1));
        Assert.Equal(0u, Read(Claim1));
    }

    // QEMU 7.2's sifive_plic: completion ends the claim but does not re-pend a source whose line
    // merely stays high; only the device driving its line high again does.
    [Fact]
    public void Completion_does_not_re_pend_a_source_until_its_device_drives_the_line_again()
    {
        _plic.SetLevel(10, true);
        Write(4 * 10, 1);
        Enable(0, 10);
        Assert.Equal(10u, Read(Claim0));
        Assert.False(_plic.IsPending(10));
        Assert.False(_plic.ContextInterrupt(0));
        Assert.Equal(0u, Read(0x1000));
        Write(Claim0, 10); // complete; the device has not driven its line since
        Assert.False(_plic.IsPending(10));
        Assert.False(_plic.ContextInterrupt(0));
        Assert.Equal(0u, Read(Claim0));
        _plic.SetLevel(10, true); // the device signals again (QEMU: any qemu_set_irq with level 1)
        Assert.True(_plic.IsPending(10));
        Assert.Equal(10u, Read(Claim0));
    }

    [Fact]
    public void A_source_signalled_while_claimed_shows_pending_and_is_claimable_after_completion()
    {
        _plic.SetLevel(4, true);
        Write(4 * 4, 1);
        Enable(0, 4);
        Assert.Equal(4u, Read(Claim0));
        _plic.SetLevel(4, true);
        Assert.Equal(1u << 4, Read(0x1000)); // the raw pending bit, as QEMU reads it
        Assert.False(_plic.ContextInterrupt(0)); // but a claimed source does not interrupt
        Write(Claim0, 4);
        Assert.True(_plic.ContextInterrupt(0));
        Assert.Equal(4u, Read(Claim0));
    }

    // QEMU's sifive_plic_irq_request sets the pending bit to the level it is given: a device that
    // lowers its line before the claim withdraws the request.
    [Fact]
    public void A_line_driven_low_before_the_claim_withdraws_the_request()
    {
        _plic.SetLevel(2, true);
        Write(4 * 2, 1);
        Enable(0, 2);
        Assert.True(_plic.ContextInterrupt(0));
        _plic.SetLevel(2, false);
        Assert.False(_plic.ContextInterrupt(0));
        Assert.Equal(0u, Read(Claim0));
    }

    [Fact]
    public void Peeking_the_claim_register_shows_the_source_without_claiming_it()
    {
        _plic.SetLevel(6, true);
        Write(4 * 6, 2);
        Enable(1, 6);
        Assert.True(_plic.Peek(Claim1, 4, out ulong peeked));
        Assert.Equal(6UL, peeked);
        Assert.True(_plic.IsPending(6));
        Assert.Equal(6u, Read(Claim1));
        Assert.True(_plic.Peek(Claim1, 4, out peeked));
        Assert.Equal(0UL, peeked);
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
