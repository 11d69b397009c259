namespace ReplayVm.Core.Hart;

/// <summary>
/// One entry of the software TLB, as in QEMU's softmmu: a page is cached with one tag per access
/// type, each tag set only if that access is already known to be allowed (translation, PTE
/// permissions, A/D bits and PMP all checked). A tag that does not match sends the access to the
/// slow path, which walks the page table and refills.
/// </summary>
internal struct TlbEntry
{
    public const ulong Invalid = ulong.MaxValue;

    /// <summary>
    /// Or'd into the write tag of a page holding page-table entries: a store there may skip the walk
    /// but not the check of what it overwrites (Hart.PageTableCoherence.cs), so the tag matches no
    /// fast path and only the slow one uses it. (Virtual page numbers stay below bit 52.)
    /// </summary>
    public const ulong CheckedWrite = 1UL << 62;

    public ulong ReadTag;
    public ulong WriteTag;
    public ulong ExecuteTag;
    /// <summary>Physical address of the page.</summary>
    public ulong PhysicalPage;
}
