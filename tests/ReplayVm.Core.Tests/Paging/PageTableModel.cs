namespace ReplayVm.Core.Tests.Paging;

/// <summary>
/// The page tables a test guest starts with, built on the host: a pool of 4 KiB tables at
/// <see cref="PagingLayout.PageTablePool"/>, table 0 the root. Entries are written into the guest
/// image as data, and every non-zero entry is dumped after the run to compare the hardware A/D
/// updates (privileged spec 4.3.2 step 7).
/// </summary>
public sealed class PageTableModel(int levels)
{
    public const ulong V = 1, R = 2, W = 4, X = 8, U = 16, G = 32, A = 64, D = 128;

    private readonly List<ulong[]> _tables = [new ulong[512]];

    /// <summary>(table, slot) of every pointer entry this model created, with the child table index.</summary>
    private readonly Dictionary<(int Table, int Slot), int> _pointers = [];

    /// <summary>Tables the guest's own code and trap handlers are reached through: never corrupted.</summary>
    public HashSet<int> Protected { get; } = [0];

    public int Levels => levels;

    public int VaBits => 12 + 9 * levels;

    public IReadOnlyList<ulong[]> Tables => _tables;

    public static ulong PointerTo(ulong physical) => (physical >> 12) << 10 | V;

    public static ulong Leaf(ulong ppn, ulong flags) => ppn << 10 | flags;

    /// <summary>The virtual address of <paramref name="vpn"/> (index per level, [0] = level 0), sign-extended.</summary>
    public ulong Address(int[] vpn, ulong offset)
    {
        ulong va = offset;
        for (int l = 0; l < levels; l++) va |= (ulong)vpn[l] << (12 + 9 * l);
        int shift = 64 - VaBits;
        return (ulong)((long)(va << shift) >> shift);
    }

    /// <summary>
    /// Installs <paramref name="pte"/> at level <paramref name="leafLevel"/> of the walk for
    /// <paramref name="vpn"/>, creating intermediate tables. False when the path is taken by a
    /// leaf already, the slot is used, or the pool is full; <paramref name="path"/> lists the tables walked.
    /// </summary>
    public bool TryInstall(int[] vpn, int leafLevel, ulong pte, out List<int> path)
    {
        path = [];
        int t = 0;
        for (int level = levels - 1; level > leafLevel; level--)
        {
            path.Add(t);
            int slot = vpn[level];
            if (_pointers.TryGetValue((t, slot), out int child)) { t = child; continue; }
            if (_tables[t][slot] != 0 || _tables.Count == PagingLayout.PageTablePages) return false;
            child = _tables.Count;
            _tables.Add(new ulong[512]);
            _tables[t][slot] = PointerTo(PagingLayout.Table(child));
            _pointers[(t, slot)] = child;
            t = child;
        }
        path.Add(t);
        if (_tables[t][vpn[leafLevel]] != 0) return false;
        _tables[t][vpn[leafLevel]] = pte;
        return true;
    }

    /// <summary>True if the walk for <paramref name="vpn"/> reaches a slot that is in use (a leaf or a pointer).</summary>
    public bool Touches(int[] vpn)
    {
        int t = 0;
        for (int level = levels - 1; level >= 0; level--)
        {
            int slot = vpn[level];
            if (_pointers.TryGetValue((t, slot), out int child)) { t = child; continue; }
            return _tables[t][slot] != 0;
        }
        return false;
    }

    /// <summary>Pointer entries outside the protected tables' paths, for corruption.</summary>
    public List<(int Table, int Slot)> CorruptiblePointers() =>
        _pointers.Where(p => !Protected.Contains(p.Value)).Select(p => p.Key).ToList();

    public void Set(int table, int slot, ulong pte) => _tables[table][slot] = pte;

    public ulong Get(int table, int slot) => _tables[table][slot];

    /// <summary>A table a level-0 non-leaf pointer can point at (any but the protected ones if possible).</summary>
    public int AnyTable(Random rng) => rng.Next(_tables.Count);

    /// <summary>satp for these tables: MODE 8, 9 or 10 for Sv39, Sv48 or Sv57 (privileged spec 4.1.11).</summary>
    public ulong Satp(int asid) => (ulong)(levels + 5) << 60 | (ulong)asid << 44 | PagingLayout.PageTablePool >> 12;

    /// <summary>Physical addresses of all non-zero entries, in table order.</summary>
    public IEnumerable<(ulong Address, string Meaning)> UsedEntries()
    {
        for (int t = 0; t < _tables.Count; t++)
            for (int s = 0; s < 512; s++)
                if (_tables[t][s] != 0)
                    yield return (PagingLayout.Table(t) + (ulong)s * 8, $"PTE table {t} slot {s} (initially 0x{_tables[t][s]:x})");
    }
}
