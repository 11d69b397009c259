using System.Globalization;
using System.Text;
using static ReplayVm.Core.Tests.Paging.PageTableModel;

namespace ReplayVm.Core.Tests.Paging;

/// <summary>
/// Generates a paging/PMP/privilege test guest from a seed. FsCheck picks the seeds; everything
/// else follows deterministically from <see cref="Random"/>(seed), so a seed alone reproduces a
/// program. What a guest does:
/// <list type="number">
/// <item>M-mode setup: trap vectors, medeleg, PMP (random entries over the data pages or a page
/// table, a catch-all RWX entry last), satp, mstatus (SUM, MXR, MPP, maybe MPRV);</item>
/// <item>the body, in S or U mode (entered by mret) or in M-mode with MPRV: loads, stores, AMOs,
/// LR/SC and fetches at generated virtual addresses, recording loaded values;</item>
/// <item>an ecall back to M, then a hex dump over the UART: trap log, recorded values, every
/// page-table entry (A/D updates) and the data pages' touched words; exit via the finisher.</item>
/// </list>
/// Cases whose outcome the spec leaves to the implementation are not generated; see the remarks
/// at each choice.
/// </summary>
public sealed class PagingProgramGenerator
{
    private const ulong Marker = 0x777;

    private readonly Random _rng;
    private readonly int _seed;
    private readonly StringBuilder _body = new();
    private readonly List<string> _meanings = [];
    private readonly List<(ulong Address, string Meaning)> _results = [];
    private int _resultSlots;

    private PageTableModel _pt = null!;
    private BodyMode _mode;
    private bool _pmpOverData;
    private bool _sum;

    /// <summary>A mapping the body can reach: the VA of its region start, its size, and where the data pages sit in it.</summary>
    private sealed record Mapping(int[] Vpn, int Level, ulong Va, ulong DataOffset, bool Misaligned, string Text, int Table);

    private readonly List<Mapping> _mappings = [];

    /// <summary>Page-table levels when the program must use one mode (5: Sv57), else null: Sv39 or Sv48 by the seed.</summary>
    private readonly int? _levels;

    private PagingProgramGenerator(int seed, int? levels)
    {
        _seed = seed;
        _rng = new Random(seed);
        _levels = levels;
    }

    /// <summary>An Sv39 or Sv48 program (the seed picks).</summary>
    public static PagingProgram Generate(int seed) => new PagingProgramGenerator(seed, null).Build();

    /// <summary>An Sv57 program (privileged spec 4.5): five levels, up to 256 TiB petapages.</summary>
    public static PagingProgram GenerateSv57(int seed) => new PagingProgramGenerator(seed, 5).Build();

    private bool Chance(double p) => _rng.NextDouble() < p;

    private T Pick<T>(params T[] items) => items[_rng.Next(items.Length)];

    private ulong Random64() => (ulong)_rng.NextInt64() ^ ((ulong)_rng.Next(4) << 62);

    private static string Hex(ulong v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);

    private PagingProgram Build()
    {
        // The draw is made even when the mode is fixed, so that Generate's programs stay what their seeds name.
        int levels = Chance(0.5) ? 4 : 3;
        levels = _levels ?? levels;
        _pt = new PageTableModel(levels);
        _mode = Pick(BodyMode.Supervisor, BodyMode.User, BodyMode.Supervisor, BodyMode.User, BodyMode.MprvSupervisor, BodyMode.MprvUser);
        bool dataAsUser = _mode is BodyMode.User or BodyMode.MprvUser;

        MapCode(dataAsUser);
        int mappings = _rng.Next(5, 13);
        for (int i = 0; i < mappings * 3 && _mappings.Count < mappings; i++) AddRandomMapping(dataAsUser);
        CorruptPointers();

        bool sum = Chance(0.5), mxr = Chance(0.5);
        _sum = sum;
        // Load and store/AMO causes are delegated together: QEMU 7.2 raises the load cause for
        // a faulting AMO (normalised by the handler), and would otherwise pick the other handler.
        ulong medeleg = 0;
        if (Chance(0.6)) medeleg |= 1UL << 13 | 1UL << 15;
        if (Chance(0.5)) medeleg |= 1UL << 12;
        if (Chance(0.25)) medeleg |= 1UL << 5 | 1UL << 7;
        if (Chance(0.25)) medeleg |= 1UL << 1;
        if (Chance(0.2)) medeleg |= 1UL << 4 | 1UL << 6;
        var pmp = PmpSetup();
        _pmpOverData = pmp.Count > 1;

        int accesses = _rng.Next(20, 60);
        for (int i = 0; i < accesses && _resultSlots < PagingLayout.MaxResults - 2; i++) AddAccess(dataAsUser);

        string summary = $"Sv{12 + 9 * levels} {_mode} SUM={(sum ? 1 : 0)} MXR={(mxr ? 1 : 0)} medeleg=0x{medeleg:x} " +
                         $"{_pt.Tables.Count} tables, {_mappings.Count} mappings, {pmp.Count} PMP entries";

        foreach (var r in _results) _meanings.Add(r.Meaning);
        var pteDump = _pt.UsedEntries().ToList();
        foreach (var p in pteDump) _meanings.Add(p.Meaning);
        var dataDump = new List<ulong>();
        for (int k = 0; k < PagingLayout.DataPageCount; k++)
            foreach (int off in PagingLayout.DumpedWordOffsets)
            {
                dataDump.Add(PagingLayout.DataPage(k) + (ulong)off);
                _meanings.Add($"data page {k} +0x{off:x}");
            }

        var dumpList = _results.Select(r => r.Address).Concat(pteDump.Select(p => p.Address)).Concat(dataDump).ToList();
        string source = PagingProgramWriter.Render(new PagingProgramWriter.Parts(
            _seed, summary, _mode, sum, mxr, medeleg, _pt.Satp(0), pmp, _pt, _body.ToString(), dumpList, SupervisorHandlerAlias));
        return new PagingProgram(_seed, source, _meanings.ToArray(), summary);
    }

    // ---- mappings ------------------------------------------------------------------------

    /// <summary>Identity gigapage for the image at VA 0x8000_0000, plus an alias at 0xC000_0000 (U = 0) for the S handler.</summary>
    private const ulong SupervisorHandlerAliasBase = 0xC000_0000;

    private ulong SupervisorHandlerAlias => SupervisorHandlerAliasBase;

    private void MapCode(bool dataAsUser)
    {
        // The identity map serves the body's fetches (S/U bodies) and its result stores, so its U
        // bit follows the mode the body runs or accesses data in. A and D are preset: the code
        // mapping's own A/D updates are not what this test is about.
        ulong flags = V | R | W | X | A | D | G | (dataAsUser ? U : 0);
        var vpnCode = new int[_pt.Levels];
        vpnCode[2] = 2;
        if (!_pt.TryInstall(vpnCode, 2, Leaf(PagingLayout.RamBase >> 12, flags), out var path)) throw new InvalidOperationException("code map");
        foreach (int t in path) _pt.Protected.Add(t);
        var vpnAlias = new int[_pt.Levels];
        vpnAlias[2] = 3;
        if (!_pt.TryInstall(vpnAlias, 2, Leaf(PagingLayout.RamBase >> 12, V | R | X | A | D | G), out path)) throw new InvalidOperationException("alias map");
        foreach (int t in path) _pt.Protected.Add(t);
    }

    private int[] RandomVpn()
    {
        var vpn = new int[_pt.Levels];
        for (int l = 0; l < _pt.Levels; l++)
            vpn[l] = Chance(0.5) ? Pick(0, 1, 2, 255, 256, 510, 511) : _rng.Next(512);
        return vpn;
    }

    /// <summary>True if <paramref name="vpn"/>'s 1 GiB region is the code identity map or the handler alias.</summary>
    private bool InCodeRegion(int[] vpn) =>
        vpn[2] is 2 or 3 && vpn.Skip(3).All(index => index == 0);

    private ulong RandomLeafFlags(bool dataAsUser)
    {
        ulong f = 0;
        if (Chance(0.93)) f |= V;
        // Mostly meaningful permissions; W without R (reserved, 4.3.1) now and then.
        f |= Pick(R, R | W, R | X, R | W | X, X, X, R, R | W, W, W | X);
        if (Chance(dataAsUser ? 0.85 : 0.2)) f |= U;
        if (Chance(0.3)) f |= G;
        if (Chance(0.6)) f |= A;
        if (Chance(0.4)) f |= D;
        return f;
    }

    private void AddRandomMapping(bool dataAsUser)
    {
        var vpn = RandomVpn();
        if (InCodeRegion(vpn) || _pt.Touches(vpn)) return;
        int maxLevel = _pt.Levels - 1;
        int level = Pick(0, 0, 0, 1, 1, 2, maxLevel);
        ulong flags = RandomLeafFlags(dataAsUser);
        // Bits 63:54: Svpbmt/Svnapot are not implemented, so they are reserved and must fault (4.3.1/4.4.1).
        ulong reserved = Chance(0.06) ? 1UL << _rng.Next(54, 64) : 0;
        bool misaligned = false;
        ulong ppn, dataOffset;
        string text;
        if (level == 0)
        {
            if (Chance(0.06))
            {
                // A pointer at level 0: the walk has run out of levels, a page fault (4.3.2 step 4).
                ulong pointer = PointerTo(PagingLayout.Table(_pt.AnyTable(_rng))) | (flags & (A | D | U | G));
                if (!_pt.TryInstall(vpn, 0, pointer, out var p0)) return;
                _mappings.Add(new Mapping(vpn, 0, _pt.Address(vpn, 0), 0, false, "non-leaf at level 0", p0[^1]));
                return;
            }
            int page = _rng.Next(PagingLayout.DataPageCount);
            ppn = PagingLayout.DataPage(page) >> 12;
            dataOffset = (ulong)(-(long)page * 4096); // so that "data page k" = offset k*4096 - page*4096 ... see VaFor
            text = $"4K -> data page {page}";
        }
        else
        {
            // Superpages map the start of RAM (tera- and petapages: physical 0), which holds the data pages.
            ulong basePa = level >= 3 ? 0 : PagingLayout.RamBase;
            ppn = basePa >> 12;
            if (Chance(0.2))
            {
                misaligned = true; // ppn bits below the superpage's size must be 0, else page fault (4.3.2 step 6)
                ppn += Pick(1UL, 2UL, 0x100UL, (1UL << (9 * level)) - 1) & ((1UL << (9 * level)) - 1);
            }
            dataOffset = PagingLayout.DataPages - basePa;
            text = $"{level switch { 1 => "2M", 2 => "1G", 3 => "512G", _ => "256T" }}{(misaligned ? " misaligned" : "")}";
        }
        ulong pte = Leaf(ppn, flags) | reserved;
        if (!_pt.TryInstall(vpn, level, pte, out var path)) return;
        var map = new Mapping(vpn, level, _pt.Address(ClearBelow(vpn, level), 0), dataOffset, misaligned,
            $"{text} flags 0x{pte & 0xff:x}{(reserved != 0 ? " reserved bits" : "")}", path[^1]);
        _mappings.Add(map);

        // A neighbouring 4 KiB page, so that accesses can cross from one page into the next.
        if (level == 0 && vpn[0] < 511 && Chance(0.5))
        {
            var next = (int[])vpn.Clone();
            next[0]++;
            int page = _rng.Next(PagingLayout.DataPageCount);
            ulong f2 = RandomLeafFlags(dataAsUser);
            if (_pt.TryInstall(next, 0, Leaf(PagingLayout.DataPage(page) >> 12, f2), out var p2))
                _mappings.Add(new Mapping(next, 0, _pt.Address(next, 0), (ulong)(-(long)page * 4096), false, $"4K -> data page {page} flags 0x{f2:x}", p2[^1]));
        }
    }

    private static int[] ClearBelow(int[] vpn, int level)
    {
        var v = (int[])vpn.Clone();
        for (int l = 0; l < level; l++) v[l] = 0;
        return v;
    }

    /// <summary>Breaks some pointer entries (not on the code's path): invalid, W-only, or reserved bits set.</summary>
    private void CorruptPointers()
    {
        foreach (var (table, slot) in _pt.CorruptiblePointers())
        {
            if (!Chance(0.12)) continue;
            ulong pte = _pt.Get(table, slot);
            pte = _rng.Next(3) switch
            {
                0 => pte & ~V,
                1 => pte | W,                          // W without R is reserved (4.3.1)
                _ => pte | 1UL << _rng.Next(54, 64),   // reserved high bits
            };
            _pt.Set(table, slot, pte);
        }
    }

    // ---- PMP -------------------------------------------------------------------------------

    /// <summary>A PMP entry: index, pmpaddr value, config byte.</summary>
    public sealed record PmpEntry(int Index, ulong Address, byte Config);

    private List<PmpEntry> PmpSetup()
    {
        var entries = new List<PmpEntry>();
        int n = Pick(0, 0, 1, 2, 3, 4, 5);
        bool previousOnTable = false;
        ulong regionLo = PagingLayout.DataPages, regionSize = (ulong)PagingLayout.DataPageCount * 4096;
        for (int i = 0; i < n; i++)
        {
            // R=0, W=1 is reserved (3.7.1): not generated.
            byte perms = Pick<byte>(0, 1, 3, 4, 5, 7, 1, 3, 7);
            bool locked = Chance(0.2);
            // A locked entry binds M-mode too; R stays set so that M can still dump the data pages.
            if (locked) perms |= 1;
            // Entry 0 is never TOR: its range would start at 0 and cover the code. Nor is an entry
            // after one over a page table: its range would reach down into the tables.
            int kind = i == 0 || previousOnTable ? _rng.Next(2) : _rng.Next(3);
            ulong lo = regionLo, size = regionSize;
            bool onTable = !locked && Chance(0.2) && _pt.Tables.Count > _pt.Protected.Count;
            // Over a page table: no access, or read and write. QEMU 7.2 does not PMP-check its
            // A/D write to a PTE, which 4.3.2 step 7 requires (an access fault when refused).
            if (onTable) perms = Pick<byte>(0, 3, 7);
            previousOnTable = onTable;
            if (onTable)
            {
                var candidates = Enumerable.Range(0, _pt.Tables.Count).Where(t => !_pt.Protected.Contains(t)).ToArray();
                lo = PagingLayout.Table(Pick(candidates));
                size = 4096;
            }
            ulong address;
            int mode;
            switch (kind)
            {
                case 0: // NA4
                    mode = 2;
                    address = (lo + (ulong)_rng.Next((int)size / 4) * 4) >> 2;
                    break;
                case 1: // NAPOT of 8 bytes .. the whole region
                {
                    mode = 3;
                    int log2 = _rng.Next(3, onTable ? 13 : 15);
                    ulong bytes = 1UL << log2;
                    ulong span = Math.Max(1, size / bytes);
                    ulong start = lo + (ulong)_rng.NextInt64((long)span) * bytes;
                    start &= ~(bytes - 1);
                    address = (start >> 2) | ((bytes / 8) - 1);
                    break;
                }
                default: // TOR up to an address in the region (from the previous entry's address)
                    mode = 1;
                    address = (lo + (ulong)(Chance(0.5) ? _rng.Next((int)size / 4096 + 1) * 4096 : _rng.Next((int)size / 4) * 4)) >> 2;
                    break;
            }
            entries.Add(new PmpEntry(i, address, (byte)((locked ? 0x80 : 0) | mode << 3 | perms)));
        }
        // Everything else: readable, writable, executable for S and U (with no entry matching, S/U fail, 3.7.1).
        entries.Add(new PmpEntry(15, ulong.MaxValue >> 10, 0x1f));
        return entries;
    }

    // ---- the body ----------------------------------------------------------------------------

    private void Line(string s) => _body.Append("  ").Append(s).Append('\n');

    private void Comment(string s) => _body.Append("# ").Append(s).Append('\n');

    private int Slot(string meaning)
    {
        int slot = _resultSlots++;
        _results.Add((PagingLayout.ResultsArea + (ulong)slot * 8, meaning));
        return slot;
    }

    /// <summary>A VA for an access of <paramref name="size"/> bytes, and a description.</summary>
    private (ulong Va, string Text, Mapping? Map) AccessAddress(int size, bool forFetch)
    {
        int roll = _rng.Next(100);
        if (roll < 8 || _mappings.Count == 0)
        {
            // Unmapped: the walk ends at an empty slot. (A random VA inside a superpage could
            // land on the image's code or tables.)
            int[] vpn;
            do vpn = RandomVpn(); while (InCodeRegion(vpn) || _pt.Touches(vpn));
            // A fetch must land on a ret whatever page it reaches.
            ulong offset = forFetch ? PagingLayout.RetOffset : (ulong)_rng.Next(4096 - size);
            if (_pmpOverData) offset &= ~(ulong)(size - 1); // see below: QEMU and misaligned accesses under PMP
            return (_pt.Address(vpn, offset), "random VA", null);
        }
        var m = _mappings[_rng.Next(_mappings.Count)];
        int page = _rng.Next(PagingLayout.DataPageCount);
        ulong pageOffset;
        if (forFetch) pageOffset = PagingLayout.RetOffset;
        else
        {
            int r = _rng.Next(10);
            // With PMP over the data pages, only naturally aligned accesses: QEMU 7.2 splits a
            // misaligned access to a page with sub-page PMP into the two aligned accesses around
            // it, checks bytes the access does not touch, and reports the aligned address as tval
            // (priv 3.1.16: tval is the faulting address of the access or of the faulting portion).
            bool aligned = _pmpOverData || Chance(0.7);
            // Low words, high words, or crossing into the next page (misaligned).
            pageOffset = r switch
            {
                < 5 => (ulong)(aligned ? _rng.Next(16) * size : _rng.Next(128 - size)),
                < 8 => (ulong)(4096 - 64 + (aligned ? _rng.Next(64 / size) * size : _rng.Next(64 - size))),
                // Crossing only without PMP over the data pages: QEMU 7.2 then checks PMP on the
                // access rounded down to its size, bytes the access does not touch, and reports
                // the original address (priv 3.7.1 and 3.1.16 decide per accessed portion).
                _ => _pmpOverData || size == 1 ? (ulong)_rng.Next(16) * (ulong)size : (ulong)(4096 - size + 1 + _rng.Next(size - 1)),
            };
            if (pageOffset + (ulong)size > 4096 && page == PagingLayout.DataPageCount - 1) page--;
            // Stores never touch the ret the fetch tests land on.
            if (pageOffset < PagingLayout.RetOffset + 4 && pageOffset + (ulong)size > PagingLayout.RetOffset) pageOffset = 0;
        }
        ulong va = m.Level == 0 ? m.Va + pageOffset : m.Va + m.DataOffset + (ulong)page * 4096 + pageOffset;
        string text = $"{(m.Level == 0 ? "" : $"data page {page} via ")}{m.Text} at VA {Hex(va)}";
        if (roll < 13)
        {
            // Non-canonical: flip one bit above the VA width (4.3.1/4.4.1: must fault).
            va ^= 1UL << _rng.Next(_pt.VaBits, 64);
            text = "non-canonical " + text;
        }
        return (va, text, m);
    }

    private void AddAccess(bool dataAsUser)
    {
        bool mprv = _mode is BodyMode.MprvSupervisor or BodyMode.MprvUser;
        int kind = _rng.Next(100);
        if (kind < 35) AddLoad();
        else if (kind < 65) AddStore();
        else if (kind < 78) AddAmo();
        else if (kind < 88) AddLrSc();
        else if (!mprv) AddFetch(); // with MPRV, fetches are not translated (3.1.6.3)
        else AddLoad();
    }

    private void AddLoad()
    {
        var (op, size) = Pick(("lb", 1), ("lbu", 1), ("lh", 2), ("lhu", 2), ("lw", 4), ("lwu", 4), ("ld", 8), ("ld", 8));
        var (va, text, _) = AccessAddress(size, false);
        int slot = Slot($"{op} from {text}");
        Comment($"{op} from {text}");
        Line($"li t1, {Hex(Marker)}");
        Line($"li t0, {Hex(va)}");
        Line($"{op} t1, 0(t0)");
        Line($"sd t1, {slot * 8}(s1)");
    }

    private void AddStore()
    {
        var (op, size) = Pick(("sb", 1), ("sh", 2), ("sw", 4), ("sd", 8));
        var (va, text, _) = AccessAddress(size, false);
        Comment($"{op} to {text}");
        Line($"li t0, {Hex(va)}");
        Line($"li t2, {Hex(Random64())}");
        Line($"{op} t2, 0(t0)");
    }

    private void AddAmo()
    {
        var (suffix, size) = Pick((".w", 4), (".d", 8));
        string op = Pick("amoswap", "amoadd", "amoxor", "amoand", "amoor", "amomin", "amomax", "amominu", "amomaxu");
        var (va, text, map) = AccessAddress(size, false);
        if (!PresetAccessedForAmo(map)) { AddLoad(); return; }
        // Mostly aligned: a misaligned AMO is a store/AMO address-misaligned exception (A spec 8.4).
        if (Chance(0.85)) va &= ~(ulong)(size - 1);
        int slot = Slot($"{op}{suffix} old value at {text}");
        Comment($"{op}{suffix} at {text}");
        Line($"li t0, {Hex(va)}");
        Line($"li t2, {Hex(Random64())}");
        Line($"li t1, {Hex(Marker)}");
        Line($"{op}{suffix} t1, t2, (t0)");
        Line($"sd t1, {slot * 8}(s1)");
    }

    /// <summary>
    /// QEMU 7.2 performs an AMO as a load probe, then a store probe: on a page that allows the
    /// load but not the store (no W; or PMP denying it) it sets A (and leaves D clear) although the
    /// AMO faults, where a store-type check (4.3.2: an AMO is checked as a store) would set
    /// nothing, or A and D before PMP refuses. Such leaves get A and D preset, so that the
    /// difference cannot show; AMOs to writable pages without PMP keep testing A/D updates.
    /// </summary>
    /// <remarks>
    /// With PMP over the data pages, an AMO to a page without W is not generated at all: QEMU's
    /// load probe then meets PMP first and raises an access fault, where the store-type check
    /// fails on the PTE first (page fault; the walk precedes the PMP check of its result, 4.3.2).
    /// Returns false in that case.
    /// </remarks>
    private bool PresetAccessedForAmo(Mapping? map)
    {
        if (map == null) return true;
        ulong pte = _pt.Get(map.Table, map.Vpn[map.Level]);
        if (_pmpOverData && (pte & W) == 0) return false;
        if ((pte & W) == 0 || _pmpOverData) _pt.Set(map.Table, map.Vpn[map.Level], pte | A | D);
        return true;
    }

    private void AddLrSc()
    {
        var (suffix, size) = Pick((".w", 4), (".d", 8));
        var (va, text, _) = AccessAddress(size, false);
        // Aligned only: QEMU 7.2 tests a misaligned SC's reservation before its alignment.
        va &= ~(ulong)(size - 1);
        int lrSlot = Slot($"lr{suffix} value at {text}");
        int scSlot = Slot($"sc{suffix} result at {text}");
        Comment($"lr/sc{suffix} at {text}");
        // An SC to a scratch word first drops any older reservation, so that a faulting LR leaves
        // none (whether a trap clears a reservation is up to the implementation).
        Line("sc.d t3, zero, (s2)");
        Line($"li t0, {Hex(va)}");
        Line($"li t2, {Hex(Random64())}");
        Line($"li t1, {Hex(Marker)}");
        Line($"li t3, {Hex(Marker)}");
        Line($"lr{suffix} t1, (t0)");
        Line($"sc{suffix} t3, t2, (t0)");
        Line($"sd t1, {lrSlot * 8}(s1)");
        Line($"sd t3, {scSlot * 8}(s1)");
    }

    private void AddFetch()
    {
        var (va, text, _) = AccessAddress(4, true);
        int slot = Slot($"fetch of ret at {text} (0x{Marker:x} = reached)");
        Comment($"fetch at {text}");
        Line($"li t1, 0");
        Line($"li t0, {Hex(va)}");
        // The target's ret comes back here; a fetch fault resumes at ra too (see the M handler).
        // QEMU 7.2 caches EXEC in the TLB entry a load through a U=1, X=1 page made with SUM=1,
        // so a later S-mode fetch there succeeds; 4.3.1: "irrespective of SUM, the supervisor may
        // not execute code on pages with U=1". sfence.vma drops that entry first.
        if (_mode == BodyMode.Supervisor && _sum) Line("sfence.vma");
        Line("jalr ra, 0(t0)");
        Line($"li t1, {Hex(Marker)}");
        Line($"sd t1, {slot * 8}(s1)");
    }
}
