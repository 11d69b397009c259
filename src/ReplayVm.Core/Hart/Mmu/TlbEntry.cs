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
    /// Or'd into a tag that no fast path may take but the slow path may use without a walk: the write
    /// tag of a page holding page-table entries (a store there must check what it overwrites,
    /// Hart.PageTableCoherence.cs) and the read and write tags of a page outside RAM (its accesses go
    /// to the bus). So a fast path's hit is always a RAM page, and needs no bounds check of its own.
    /// (Virtual page numbers stay below bit 52.)
    /// </summary>
    public const ulong SlowPathOnly = 1UL << 62;

    /// <summary>Whether the entry holds virtual page <paramref name="vpn"/> for some access, by any path.</summary>
    public readonly bool Holds(ulong vpn) =>
        (ReadTag & ~SlowPathOnly) == vpn || (WriteTag & ~SlowPathOnly) == vpn || ExecuteTag == vpn;

    public ulong ReadTag;
    public ulong WriteTag;
    public ulong ExecuteTag;
    /// <summary>Physical address of the page.</summary>
    public ulong PhysicalPage;
}
