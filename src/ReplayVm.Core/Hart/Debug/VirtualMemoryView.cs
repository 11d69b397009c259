namespace ReplayVm.Core.Hart;

/// <summary>
/// Reads memory at virtual addresses the way the hart currently translates them, without touching
/// the hart: no TLB fill, no A/D bit update, no exception. The hart's own walk updates PTEs (as
/// QEMU does), which would change a replayed machine, so a debugger must never use it.
///
/// Like a JTAG debugger's view, it ignores the leaf's R/W/X/U permission bits and PMP: a user
/// inspecting a stopped kernel wants to see user pages too. It follows satp in S and U mode; M-mode
/// addresses are physical (privileged spec 4.1.11: satp does not apply in M-mode).
/// </summary>
public static class VirtualMemoryView
{
    private const uint SatpCsr = 0x180;
    private const ulong PteV = 1, PteR = 2, PteW = 4, PteX = 8;
    private const ulong PpnMask = (1UL << 44) - 1;
    private const ulong PageSize = 4096;

    /// <summary>Copies <paramref name="destination"/>.Length bytes from <paramref name="address"/>; false if any byte is unmapped.</summary>
    public static bool Read(Hart hart, ulong address, Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            // Translate page by page: consecutive virtual pages need not be consecutive physically.
            int chunk = (int)Math.Min((ulong)destination.Length, PageSize - (address & (PageSize - 1)));
            if (!TryTranslate(hart, address, out ulong physical) || !hart.DebugRead(physical, destination[..chunk])) return false;
            destination = destination[chunk..];
            address += (ulong)chunk;
        }
        return true;
    }

    /// <summary>The physical address <paramref name="address"/> maps to now, or false if it is unmapped.</summary>
    public static bool TryTranslate(Hart hart, ulong address, out ulong physical)
    {
        physical = address;
        ulong satp = hart.ReadCsr(SatpCsr);
        // satp.MODE: 0 Bare, 8 Sv39, 9 Sv48, 10 Sv57 (privileged spec 4.1.11, table 4.4).
        ulong mode = satp >> 60;
        if (hart.Mode == PrivilegeLevel.Machine || mode == 0) return true;
        if (mode is < 8 or > 10) return false;

        int levels = (int)mode - 5;
        int vaBits = 12 + 9 * levels;
        // A virtual address must be its top bit sign-extended (4.3.1, 4.4.1, 4.5.1).
        if ((ulong)((long)(address << (64 - vaBits)) >> (64 - vaBits)) != address) return false;

        ulong table = (satp & PpnMask) << 12;
        Span<byte> entry = stackalloc byte[8];
        for (int level = levels - 1; level >= 0; level--)
        {
            ulong pteAddress = table + ((address >> (12 + 9 * level)) & 511) * 8;
            if (!hart.DebugRead(pteAddress, entry)) return false;
            ulong pte = BitConverter.ToUInt64(entry);
            // The walk of 4.3.2: invalid, W without R, or reserved bits set is a fault.
            if ((pte & PteV) == 0 || ((pte & PteR) == 0 && (pte & PteW) != 0) || (pte >> 54) != 0) return false;
            ulong ppn = (pte >> 10) & PpnMask;
            if ((pte & (PteR | PteX)) == 0)
            {
                table = ppn << 12;
                continue;
            }
            ulong superpageMask = (1UL << (9 * level)) - 1;
            if ((ppn & superpageMask) != 0) return false; // misaligned superpage (4.3.2 step 6)
            physical = ((ppn & ~superpageMask) << 12) | (address & ((1UL << (12 + 9 * level)) - 1));
            return true;
        }
        return false;
    }
}
