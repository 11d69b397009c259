namespace ReplayVm.Core.Hart;

/// <summary>
/// A set of leaf page-table entries (by physical address) that may answer yes for one it does not
/// hold, never no for one it does: 4096 bits, one per entry index in its table and the low three
/// bits of the table's page. Emptied only when nothing it stood for is left (a full TLB flush).
/// </summary>
internal sealed class LeafFilter
{
    private readonly ulong[] _bits = new ulong[64];

    public void Add(ulong leafAddress) => _bits[(leafAddress >> 3) & 63] |= 1UL << (int)((leafAddress >> 9) & 63);

    public bool MayContain(ulong leafAddress) => (_bits[(leafAddress >> 3) & 63] & (1UL << (int)((leafAddress >> 9) & 63))) != 0;

    public void Clear() => Array.Clear(_bits);
}
