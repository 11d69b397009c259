using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ReplayVm.Core.Memory;
using ReplayVm.Core.Translation;

namespace ReplayVm.Core.Hart;

/// <summary>
/// The translator engine's dispatcher: finds (or, once the code is hot, makes) the translated
/// region at pc and runs it; whatever it cannot run — cold code, instructions left to the
/// interpreter, a block that would overrun the slice, register-write watches — the interpreter
/// runs, up to its next control transfer. Results are identical to the interpreter's by
/// construction (see <see cref="RegionCompiler"/>) and by test.
/// </summary>
public sealed unsafe partial class Hart
{
    /// <summary>Guest steps the interpreter runs from an entry before the entry is translated, by
    /// default. Heat is counted in steps rather than arrivals because what a region saves is
    /// proportional to the instructions it runs: the .NET JIT takes about a millisecond of CPU per
    /// region, while the interpreter spends about 3 ns per step more than compiled code, so an entry
    /// pays for its translation after some 300000 further steps. Translating once an entry has cost
    /// that much in interpretation (the ski-rental rule) never spends more than twice the best
    /// choice in hindsight. A threshold in arrivals cannot do this: one that suits an entry running
    /// two instructions a time makes an entry with a 17-instruction loop body interpret a million
    /// steps first (bench.elf's loops at 60000 arrivals). Measured again on Linux's kernel regions
    /// (1.2–1.5 ms of JIT each, ~4.6 ns a step saved: 260000–330000 steps to repay), and by
    /// lowering it: at 100000 steps Linux + spawn 200 compiled three times the regions and ran 40%
    /// more CPU (README, "Translation cost").</summary>
    public const int DefaultTranslationThreshold = 300_000;

    /// <summary>The <see cref="TranslationThreshold"/>: what a region costs, in steps of interpretation.</summary>
    private int _baseThreshold = DefaultTranslationThreshold;
    /// <summary>Steps after which an entry of the current privilege mode is translated (<see cref="ModeThreshold"/>).</summary>
    private int _hotThreshold = DefaultTranslationThreshold;
    /// <summary>Steps after which an entry's region is looked for in <see cref="Translations"/> (<see cref="_hotThreshold"/> without a cache).</summary>
    private int _warmThreshold = WarmThreshold(DefaultTranslationThreshold, DefaultTranslations);

    /// <summary>Per privilege mode, the translation ledger: what the regions compiled in that mode
    /// cost (<see cref="_baseThreshold"/> steps each), and the steps run by regions entered in it.</summary>
    private readonly ulong[] _modeInvested = new ulong[4], _modeRealized = new ulong[4];

    /// <summary>
    /// How many steps an entry of privilege mode <paramref name="mode"/> runs before it is
    /// translated: the base threshold plus that mode's debt, what its regions have cost and not yet
    /// run. The threshold bets that a region runs after its translation at least the steps it ran
    /// before (the ski-rental rule). Where the regions of a mode lose that bet, each further entry of
    /// the mode must show as many more steps first as they fell short: Linux's kernel, whose boot
    /// loops are done by the time they are compiled (23 S-mode regions of the boot ran a median of
    /// 544 steps once translated), and whose fork and exec paths are warm, not hot (boot + spawn
    /// 200: 67 S-mode regions, 260000 steps each on average). A mode whose regions repay keeps the
    /// base threshold: `bench.elf`'s 29 regions run a median of 3.5×10⁶ steps, and boot + spawn
    /// 2000's kernel regions 2×10⁶ on average. Per mode, because the modes run different programs
    /// (firmware, kernel, processes) whose code is hot in different ways. A threshold of 1
    /// (translate everything at its first arrival: tests) is left as it is.
    /// </summary>
    private int ModeThreshold(int mode)
    {
        if (_baseThreshold == 1) return 1;
        ulong invested = _modeInvested[mode], realized = _modeRealized[mode];
        ulong debt = invested > realized ? invested - realized : 0;
        return (int)Math.Min((ulong)_baseThreshold + debt, 1UL << 30);
    }

    /// <summary>Taking a region from the shared cache costs no JIT, only planning it (tens of
    /// microseconds): by the same ski-rental rule as <see cref="DefaultTranslationThreshold"/>, an
    /// entry asks the cache after a thirty-second of the steps that earn a compilation.</summary>
    private const int WarmFraction = 32;

    private static int WarmThreshold(int hot, TranslationCache? cache) => cache is null ? hot : Math.Max(1, hot / WarmFraction);

    /// <summary>How many steps the interpreter runs from an entry before the entry is translated, at
    /// least (more in a privilege mode whose regions have not repaid their cost, see
    /// <see cref="ModeThreshold"/>); 1 to 2^30; 1 translates everything at its first arrival, which
    /// tests use to put every instruction through the translator.</summary>
    public int TranslationThreshold
    {
        get => _baseThreshold;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 1 << 30);
            _baseThreshold = value;
            _hotThreshold = ModeThreshold((int)Mode);
            _warmThreshold = WarmThreshold(value, _translations);
            RecomputeAttention();
        }
    }

    /// <summary>The cache of compiled regions new harts share (null: each hart compiles its own). The
    /// CLI sets <see cref="TranslationCache.Process"/>.</summary>
    public static TranslationCache? DefaultTranslations { get; set; }

    private TranslationCache? _translations = DefaultTranslations;

    /// <summary>
    /// Where this hart finds regions other harts compiled and leaves the ones it compiles (null: it
    /// compiles its own). Sharing never changes results: a region is taken only for exactly the code
    /// and modes it was compiled for (see <see cref="TranslationCache"/>). With a cache, an entry
    /// whose region may be there is looked up after a fraction of <see cref="TranslationThreshold"/>.
    /// </summary>
    public TranslationCache? Translations
    {
        get => _translations;
        set
        {
            _translations = value;
            _warmThreshold = WarmThreshold(_baseThreshold, value);
            RecomputeAttention();
        }
    }

    /// <summary>Entries (by the heat table's slot) whose region was not in the shared cache when they
    /// became warm: they are not looked up again before they become hot.</summary>
    private readonly ulong[] _warmMissed = new ulong[TransferHeatSize];

    /// <summary>Most regions kept; beyond it the whole cache is dropped (as QEMU flushes its code buffer) and refills with what is hot.</summary>
    internal const int MaxRegions = 16384;

    /// <summary>Whether new harts compile regions on the background compiler (the CLI turns it on; tests
    /// that count on a region existing right after it became hot leave it off).</summary>
    public static bool TranslateInBackgroundByDefault { get; set; }

    /// <summary>Compile hot regions on <see cref="BackgroundCompiler"/>'s thread and keep interpreting
    /// meanwhile, instead of stopping the guest for the JIT. Never changes results.</summary>
    public bool TranslateInBackground { get; set; } = TranslateInBackgroundByDefault;

    /// <summary>Regions compiled in the background, waiting to be installed by this hart's thread.</summary>
    private readonly ConcurrentQueue<BackgroundCompiler.Job> _compiled = new();
    /// <summary>Jobs queued and not yet installed or discarded: while 0, the dispatcher skips the queue.</summary>
    private int _pendingJobs;
    /// <summary>Advanced whenever translations are dropped wholesale or by breakpoint: a job made before is stale.</summary>
    private ulong _translationGeneration;

    private ExecutionEngine _engine = ExecutionEngine.Interpreter;
    private TranslationPage?[]? _translationPages;
    private int _regionCount;
    /// <summary>Regions by virtual pc, valid while their <see cref="TranslatedRegion.Epoch"/> is
    /// <see cref="_translationEpoch"/>: the dispatcher's first look, and the indirect-jump cache that
    /// finds a jalr's target (returns, jump tables) in one load and two compares.</summary>
    private readonly TranslatedRegion?[] _jumpCache = new TranslatedRegion?[TransferHeatSize];
    /// <summary>
    /// One bit per slot of <see cref="_jumpCache"/> and of <see cref="_transferHeat"/> (both hashed
    /// alike, see <see cref="AttentionBit"/>): set when the jump cache's slot is given a region or
    /// the heat's slot reaches the warm threshold; a clear bit means neither, and the interpreter's
    /// taken transfer to such a target needs nothing from the dispatcher. The interpreter running
    /// for the translator asks at every taken transfer; on Linux's kernel code most targets are
    /// cold and have no region, and reading the jump cache's and the heat table's slots (48 KiB
    /// indexed by pc) to learn it missed L1 at most of those transfers (about 8 ns each on boot +
    /// spawn 200, nothing compiled: 7% of its CPU), where these 512 bytes stay in L1. Bits are
    /// cleared only where every slot's state is looked at again (<see cref="DecayHeat"/>,
    /// <see cref="RecomputeAttention"/>): a set bit only sends the transfer to the full check.
    /// </summary>
    private readonly ulong[] _attention = new ulong[TransferHeatSize / 64];

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private ref ulong AttentionWord(ulong pc) =>
        ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_attention), (nint)(((pc >> 1) & (TransferHeatSize - 1)) >> 6));

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static ulong AttentionBit(ulong pc) => 1UL << (int)(pc >> 1); // a shift takes its count mod 64: the slot's low six bits

    /// <summary>Puts <paramref name="region"/> in the jump cache's <paramref name="slot"/> (<see cref="JumpCacheSlot"/> of its pc).</summary>
    private void HoldInJumpCache(ref TranslatedRegion? slot, TranslatedRegion region)
    {
        slot = region;
        AttentionWord(region.VirtualPc) |= AttentionBit(region.VirtualPc);
    }

    /// <summary>Clears <paramref name="pc"/>'s attention bit: for an entry that is not hot and whose jump-cache slot is empty.</summary>
    private void ClearAttention(ulong pc) => AttentionWord(pc) &= ~AttentionBit(pc);

    /// <summary>Sets the attention bits from the jump cache and the heat table as they are (after heat
    /// was halved, or the warm threshold moved).</summary>
    private void RecomputeAttention()
    {
        Array.Clear(_attention);
        for (int i = 0; i < TransferHeatSize; i++)
        {
            if (_jumpCache[i] is not null || _transferHeat[i] + 1UL >= (ulong)_warmThreshold)
                _attention[i >> 6] |= 1UL << i;
        }
    }

    /// <summary>
    /// A pc the dispatcher looked up and found no region at, and the epoch it looked in (see
    /// <see cref="_coldEntries"/>).
    /// </summary>
    private struct ColdEntry
    {
        public ulong Pc;
        public ulong Epoch;
    }

    private const int ColdEntryCount = 1024;
    /// <summary>
    /// The dispatcher's negative lookups, by pc, hashed: where a region exits into code that is not
    /// translated, the dispatcher found nothing there every time it arrived (on Linux running spawn
    /// 2000, 1.24×10⁷ of its 1.3×10⁷ lookups, 1.1×10⁷ of them at a pc it had found nothing at in
    /// the same epoch; FindRegion and the warm entries' cache check took 4.5% of the CPU). An entry
    /// stands while its epoch is current and its pc <see cref="StaysCold"/>.
    /// </summary>
    private readonly ColdEntry[] _coldEntries = new ColdEntry[ColdEntryCount];

    /// <summary>Whether <see cref="FindRegion"/> would neither compile a region for <paramref name="pc"/>
    /// (not hot) nor look in the shared cache for one (not warm, or warm and not <see cref="MayBeShared"/>).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private bool StaysCold(ulong pc)
    {
        uint arrived = Heat(pc) + 1;
        return arrived < (uint)_warmThreshold || (arrived < (uint)_hotThreshold && !MayBeShared(pc));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private ref ColdEntry ColdSlot(ulong pc) =>
        ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_coldEntries), (nint)((pc >> 1) & (ColdEntryCount - 1)));
    /// <summary>Moved on whenever what a region's lookup depends on changes: the TLB and the modes
    /// (<see cref="TranslationChanged"/>), cached code (<see cref="CodeChanged"/>), breakpoints, the cache itself.
    /// Each value is used in one privilege mode only (see <see cref="EnterModeEpoch"/>).</summary>
    private ulong _translationEpoch = 1;
    /// <summary>The last epoch handed out: a new one is always beyond every one used before.</summary>
    private ulong _epochSource = 1;
    /// <summary>How many times every epoch was made stale (see <see cref="InvalidateRegionLookups"/>).</summary>
    private ulong _epochResets;
    /// <summary>Per privilege mode, the epoch current when the hart last fetched in another mode, and <see cref="_epochResets"/> then.</summary>
    private readonly ulong[] _modeEpoch = new ulong[4], _modeEpochResets = new ulong[4];

    /// <summary>Makes every region lookup made so far stale (jump cache, exit links), in every mode.</summary>
    private void InvalidateRegionLookups()
    {
        _epochResets++;
        _translationEpoch = ++_epochSource;
    }

    /// <summary>
    /// The TLB moved to another bank (<see cref="FlushTlb"/>) from one where instructions were
    /// fetched in <paramref name="leaving"/> mode to one where they are fetched in <paramref name="entered"/>.
    /// A region's lookup depends on how its pc is fetched: the page tables, satp, PMP, the mode, the
    /// code and the regions themselves. Whatever changes the first three or the last two makes every
    /// lookup stale (<see cref="InvalidateRegionLookups"/>); so each mode keeps an epoch of its own,
    /// and a mode returned to without such a change in between gets its epoch back, with what was
    /// looked up in it before. A bank switch within one mode (SUM or MXR set or cleared) changes
    /// only what data accesses may do, and keeps the epoch. (A region a lookup found runs without
    /// its fetch translation in the TLB, as within one epoch: an entry is evicted by any access to
    /// the same slot, and the walk it would take again sets no bit and takes no fault the first
    /// did not, the page tables being unchanged.) Linux enters and leaves S-mode at every system
    /// call, and toggles SUM around every copy to or from user memory: after each the dispatcher
    /// looked up every region again.
    /// </summary>
    private void EnterModeEpoch(int leaving, int entered)
    {
        if (leaving == entered) return;
        _hotThreshold = ModeThreshold(entered);
        _modeEpoch[leaving] = _translationEpoch;
        _modeEpochResets[leaving] = _epochResets;
        _translationEpoch = _modeEpochResets[entered] == _epochResets && _modeEpoch[entered] != 0
            ? _modeEpoch[entered]
            : ++_epochSource;
    }

    /// <summary>Set while the interpreter runs for the translator: it returns at a trap, and at a taken control
    /// transfer to a translated region or to a target that has become hot (see <see cref="DispatchAt"/>).</summary>
    private bool _returnAtTransfer;
    private const int TransferHeatSize = 4096;
    /// <summary>Steps the interpreter ran for the translator from each entry (the target of a taken
    /// transfer, or where the dispatcher started it) up to the next taken transfer; by pc, hashed: two
    /// entries may share a counter, which changes when code is translated, never what it does.</summary>
    private readonly uint[] _transferHeat = GC.AllocateArray<uint>(TransferHeatSize, pinned: true); // pinned: DispatchAt prefetches by address
    /// <summary>The entry whose steps the interpreter is running now, and <see cref="Steps"/> when it arrived there.</summary>
    private ulong _heatEntry, _heatSince;
    /// <summary>Set by <see cref="DispatchAt"/> when the interpreter returned because the target became hot.</summary>
    private bool _arrivedHot;
    /// <summary>The exit link a region left through without a valid target (see <see cref="ExitLink"/>):
    /// the dispatcher links it to the region it finds at pc next, so the exit chains from then on.</summary>
    private ExitLink? _missedLink;

    /// <summary>Which engine runs guest code; see <see cref="ExecutionEngine"/>. Changing it never changes results.</summary>
    public ExecutionEngine Engine
    {
        get => _engine;
        set
        {
            _engine = value;
            DropTranslations();
        }
    }

    /// <summary>Counters of the translator's work, for benchmarks.</summary>
    public TranslatorStatistics TranslatorStats { get; } = new();

    /// <summary>Drops every translated region (they are rebuilt from hot code on demand).</summary>
    public void DropTranslations()
    {
        _translationGeneration++;
        _translationPages = null;
        _regionCount = 0;
        InvalidateRegionLookups();
    }

    /// <summary>Cached decodes were dropped (a store into code, DMA, fence.i, a restore): the slice ends
    /// (the interpreter may be walking the dropped page) and cached region lookups are stale. What was
    /// keyed on the dropped decode page (of RAM page <paramref name="pageIndex"/>, or every page) is
    /// forgotten, since the memory reuses it for other code: the translations made from it and
    /// breakpoint shadows copied from it. (A region being compiled from it finds its placeholder gone.)</summary>
    private void CodeChanged(ulong pageIndex)
    {
        TranslatorStats.CodeInvalidations++;
        SliceEnd = 0;
        InvalidateRegionLookups();
        if (_translationPages is { } pages)
        {
            if (pageIndex == MainMemory.AllPages) Array.Clear(pages);
            else pages[pageIndex] = null;
        }
        ForgetBreakpointShadowSources();
    }

    /// <summary>
    /// Called by the interpreter, running for the dispatcher, at each taken control transfer: whether to
    /// return to the dispatcher at <paramref name="target"/>, because a compiled region starts there or
    /// because the target has become hot. Interpreting on through cold code instead of returning at every
    /// transfer keeps the dispatcher's cost (a lookup and a call per transfer) off code that is never translated.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private bool DispatchAt(ulong target, ulong steps)
    {
        CreditHeat(steps);
        _heatEntry = target;
        // The heat's slot is read at the next transfer (CreditHeat): fetched meanwhile, while the
        // interpreter runs on.
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported) System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref Heat(target)));
        if ((AttentionWord(target) & AttentionBit(target)) == 0) return false;
        var region = JumpCacheSlot(target);
        if (region is not null && region.VirtualPc == target && region.Code is not null
            && (region.Epoch == _translationEpoch || StillFound(region))) return true;
        ref uint heat = ref Heat(target);
        uint arrived = heat + 1; // read once: the thresholds' loads could alias it, as far as the JIT knows
        if (arrived < (uint)_warmThreshold) return false;
        // The dispatcher looks in the cache, unless it did and missed: the common case is tested
        // here, before the call (on Linux most arrivals are at warm entries).
        if (arrived < (uint)_hotThreshold)
        {
            if (WarmMissed(target) != target + 1 && MayBeShared(target)) return true;
            // Warm, and no region to look for in the cache: arrivals here need nothing more until the
            // entry is hot or a region is put in the jump cache's slot.
            if (region is null) ClearAttention(target);
            return false;
        }
        heat = 0;
        _arrivedHot = true;
        return true;
    }

    /// <summary>
    /// The jump cache's slot for <paramref name="pc"/>. The index is masked to the array's fixed size,
    /// so it is taken without the JIT's bounds check: the interpreter running for the translator
    /// looks here at every taken control transfer, and translated code at every indirect jump.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private ref TranslatedRegion? JumpCacheSlot(ulong pc) =>
        ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_jumpCache), (nint)((pc >> 1) & (TransferHeatSize - 1)));

    /// <summary>
    /// Whether a warm (not yet hot) entry's region may be in the shared cache and was not missed there
    /// before. (An entry the hints rule out is not marked missed: on Linux running spawn 2000 the
    /// marks, 4096 slots hashed by pc, then displaced those of entries whose lookups had missed, and
    /// planning those again took 240 ms instead of 32, with 181 gen0 collections instead of 7.)
    /// </summary>
    private bool MayBeShared(ulong pc) =>
        _translations is { } cache && WarmMissed(pc) != pc + 1 && cache.MayHold(pc);

    /// <summary><see cref="_warmMissed"/>'s slot for <paramref name="pc"/> (masked to the array's fixed size: no bounds check).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private ref ulong WarmMissed(ulong pc) =>
        ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_warmMissed), (nint)((pc >> 1) & (TransferHeatSize - 1)));

    /// <summary>
    /// Whether <paramref name="region"/>, held by the jump cache from an earlier epoch, is still the one
    /// a lookup finds at its pc; if so it is valid for this epoch again. Every epoch (a TLB flush, a
    /// region installed, code written anywhere) leaves the jump cache stale, and without this the
    /// interpreter ran on past translated code until the dispatcher next looked (a trap, the slice's
    /// end, an entry becoming hot).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private bool StillFound(TranslatedRegion region)
    {
        if (_translationPages is null || !ReferenceEquals(FindRegion(region.VirtualPc, hot: false), region)) return false;
        region.Epoch = _translationEpoch;
        TranslatorStats.RegionsFoundAgain++;
        return true;
    }

    /// <summary>
    /// The shortest period after which every entry's heat is halved, by default. What predicts an
    /// entry's future steps is the rate at which it runs now, not all it ever ran: without decay,
    /// kernel code that runs a few thousand steps per million (system calls, page faults, fork)
    /// reached the threshold over 10⁸ steps and was compiled at ~1–3 ms of JIT a region, to run
    /// about as many steps again — on Linux running `spawn 200`, 90 regions whose JIT cost more than
    /// their code saved. Halved every 2^25 steps, an entry is compiled only while it runs at least
    /// ~0.6% of all steps (300000 of the last ~2^25 / ln 2); a CPU benchmark's loops get there within
    /// a few million steps, as before.
    /// The period grows with the steps run (a quarter of them): a machine that has run S steps is
    /// likely to run about as many more (the same reasoning as the threshold's), so code running at a
    /// lower rate still repays its JIT over a long run — with a fixed period, replaying a 3×10⁹-step
    /// Linux recording (boot, then mostly idle) took 10–15% more CPU than with no decay at all; with
    /// the growing one, within ~3%.
    /// </summary>
    public const ulong DefaultHeatHalfLife = 1UL << 25;
    private ulong _heatDecayedAt, _heatDecayPeriod = DefaultHeatHalfLife;

    /// <summary>The shortest period after which heat is halved (<see cref="DefaultHeatHalfLife"/>;
    /// ulong.MaxValue: never); longer once the machine has run four times as many steps.</summary>
    public ulong TranslationHeatHalfLife
    {
        get => _heatHalfLife;
        set
        {
            ArgumentOutOfRangeException.ThrowIfZero(value);
            _heatHalfLife = value;
            _heatDecayPeriod = Math.Max(value, Steps / HeatPeriodGrowth);
        }
    }
    private ulong _heatHalfLife = DefaultHeatHalfLife;
    private const ulong HeatPeriodGrowth = 4;

    /// <summary>Halves every entry's heat (<see cref="TranslationHeatHalfLife"/>): 4096 shifts every 2^25 steps or more.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void DecayHeat()
    {
        // Reached also when a restore moved Steps back, which only restarts the period; a hart told
        // never to decay keeps its heat then too.
        if (_heatHalfLife != ulong.MaxValue)
            foreach (ref uint heat in _transferHeat.AsSpan()) heat >>= 1;
        RecomputeAttention();
        _heatDecayedAt = Steps;
        _heatDecayPeriod = Math.Max(_heatHalfLife, Steps / HeatPeriodGrowth);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private ref uint Heat(ulong pc) =>
        ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_transferHeat), (nint)((pc >> 1) & (TransferHeatSize - 1))); // masked to the fixed size: no bounds check

    /// <summary>Adds the steps run since <see cref="_heatSince"/> to <see cref="_heatEntry"/>'s heat (saturating).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private void CreditHeat(ulong steps)
    {
        ref uint heat = ref Heat(_heatEntry);
        uint before = heat;
        ulong sum = before + (steps - _heatSince);
        heat = sum > uint.MaxValue ? uint.MaxValue : (uint)sum;
        // Becoming warm or hot: arrivals there need the dispatcher's check again.
        if (sum + 1 >= (ulong)_warmThreshold && (before + 1UL < (ulong)_warmThreshold || sum + 1 >= (ulong)_hotThreshold))
            AttentionWord(_heatEntry) |= AttentionBit(_heatEntry);
        _heatSince = steps;
    }

    // Optimized at once, as the interpreter is: the dispatcher runs millions of times in the first
    // second, and its tier-0 and instrumented versions were a measurable share of a short run.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void RunTranslated()
    {
        _translationPages ??= new TranslationPage?[(int)(_ramSize >> MainMemory.PageShift)];
        while (Steps < SliceEnd)
        {
            // Unsigned: a restore that moved Steps back also lands here (and restarts the period).
            if (Steps - _heatDecayedAt >= _heatDecayPeriod) DecayHeat();
            if (_pendingJobs != 0 && !_compiled.IsEmpty) InstallCompiled();
            if (_watchingRegisters || _executeTriggersArmed || _dataTriggersArmed)
            {
                // Register-write watches check every retired instruction, debug triggers every fetch or
                // data access: the interpreter's slow path (documented cost).
                Interpret();
                continue;
            }
            ulong pc = Pc;
            ref TranslatedRegion? cached = ref JumpCacheSlot(pc);
            TranslatedRegion? region = cached;
            if (region is null || region.VirtualPc != pc || region.Epoch != _translationEpoch)
            {
                ref ColdEntry cold = ref ColdSlot(pc);
                if (cold.Pc == pc && cold.Epoch == _translationEpoch && !_arrivedHot && StaysCold(pc))
                {
                    // Looked up in this epoch and not found, and neither hot since nor newly warm: what
                    // FindRegion would find again (nothing), the interpreter runs it. (A region installed
                    // at pc since is found after the next epoch; meanwhile pc is interpreted, which is exact.)
                    _missedLink = null; // as when the lookup finds nothing: the exit that led here stays unlinked
                    goto interpret;
                }
                region = FindRegion(pc, _arrivedHot);
                if (region is null && FetchTranslationLost(pc))
                {
                    // The interpreter's first fetch would walk the page tables here: walked now
                    // instead, identically (same step, same pc: the same accessed bit set or the
                    // same fault taken), the region at pc can be found through the TLB again.
                    _executedPages?.NotePc(pc); // the interpreter notes the page before it fetches
                    if (!TranslateFetch(pc, out _))
                    {
                        Steps++; // the fetch faulted: the exception counts as the step, as in Interpret
                        continue;
                    }
                    region = FindRegion(pc, _arrivedHot);
                }
                if (region is not null)
                {
                    region.Epoch = _translationEpoch;
                    HoldInJumpCache(ref cached, region);
                    cold.Pc = ulong.MaxValue;
                }
                else
                {
                    cold.Pc = pc;
                    cold.Epoch = _translationEpoch;
                }
            }
            _arrivedHot = false;
            var missed = _missedLink;
            _missedLink = null;
            if (region?.Code is { } code)
            {
                if (region.StartsAtBreakpoint && _breakpoints is not null && StopsAtBreakpoint(Pc, Steps)) break;
                // Pc may have moved since the exit (an interrupt taken between slices, the interpreter).
                if (missed is not null && region.Chainable && missed.Pc == region.VirtualPc) missed.Target = region;
                ulong before = Steps;
                int mode = (int)Mode;
                // Chained regions run one after another without a lookup: each returns the next while
                // its exit's link is valid. Each checks the slice's end itself, block by block, so the
                // chain stops exactly where a return to this loop would have.
                ulong runs = 0;
                do
                {
                    // A region runs on its entry's page only: that page is what an executed-page log needs.
                    _executedPages?.NotePc(region!.VirtualPc);
                    region = code(this);
                    runs++;
                }
                while (region is not null && (code = region.Code!) is not null);
                TranslatorStats.RegionRuns += runs;
                TranslatorStats.ChainedRuns += runs - 1;
                TranslatorStats.RegionSteps += Steps - before;
                _modeRealized[mode] += Steps - before;
                // Steps run only pay debt off; a chain that trapped into another mode left that mode's threshold.
                if (_hotThreshold != _baseThreshold && mode == (int)Mode) _hotThreshold = ModeThreshold(mode);
                if (Steps != before) continue;
                // The entry block did not fit before the slice's end (the interpreter steps to it),
                // or its first instruction is a load or store off the inline fast path (the
                // interpreter runs it).
                _missedLink = null;
            }
            interpret:
            _returnAtTransfer = true;
            ulong interpretedFrom = Steps;
            _heatEntry = Pc;
            _heatSince = interpretedFrom;
            Interpret();
            CreditHeat(Steps); // what ran after the last transfer (up to a trap or the slice's end)
            TranslatorStats.InterpreterRuns++;
            TranslatorStats.InterpretedSteps += Steps - interpretedFrom;
            _returnAtTransfer = false;
        }
    }

    /// <summary>The region at virtual <paramref name="pc"/>, translating it if it has become hot (counted here, or
    /// <paramref name="hot"/>: by the interpreter); null when the interpreter must run.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private TranslatedRegion? FindRegion(ulong pc, bool hot)
    {
        ulong physical = pc;
        if (_fetchViaTlb)
        {
            ulong vpn = pc >> 12;
            if (vpn != _fetchVirtualPage)
            {
                ref TlbEntry e = ref _tlbPointer[vpn & TlbMask];
                if (e.ExecuteTag != vpn) return null; // the interpreter's fetch translates (and may fault)
                _fetchVirtualPage = vpn;
                _fetchPhysicalPage = e.PhysicalPage;
            }
            physical = _fetchPhysicalPage | (pc & PageMask);
        }
        ulong offset = physical - _ramBase;
        if (offset >= _ramSize) return null;
        ulong pageIndex = offset >> MainMemory.PageShift;
        var decoded = MainMemory.DecodedPageAt(_decodedChunks, offset);
        if (decoded is null) return null; // first execution since the page was written: the interpreter decodes
        var page = _translationPages![pageIndex];
        if (page is not null && !ReferenceEquals(page.Source, decoded)) page = null;
        int slot = (int)(offset & (MainMemory.PageSize - 1)) >> 1;
        var region = page?.Entries[slot];
        if (region is not null && region.VirtualPc == pc && region.DataViaTlb == _dataViaTlb) return region;
        ref uint heat = ref Heat(pc);
        if (!hot && heat + 1 < (uint)_hotThreshold)
        {
            // Warm: worth taking from the shared cache if another hart compiled it, not yet worth compiling.
            if (heat + 1 < (uint)_warmThreshold || !MayBeShared(pc)) return null;
            long started = ThreadCpuClock.Now();
            var warm = Plan(pc, offset, decoded) is { } warmPlan ? _translations!.Find(new RegionKey(warmPlan, Specialization())) : null;
            TranslatorStats.TranslationTicks += ThreadCpuClock.Now() - started;
            if (warm is null)
            {
                WarmMissed(pc) = pc + 1;
                if (JumpCacheSlot(pc) is null) ClearAttention(pc); // warm, not hot (tested above)
                return null;
            }
            heat = 0;
            region = Instantiate(pc, warm, shared: true);
            Install(page ?? NewTranslationPage(pageIndex, decoded), pageIndex, slot, decoded, region);
            return region;
        }
        heat = 0; // code rewritten later must earn its translation again
        // Made only for a page with something to hold (16 KiB each): most code is never hot.
        page ??= NewTranslationPage(pageIndex, decoded);
        long start = ThreadCpuClock.Now();
        var plan = Plan(pc, offset, decoded);
        RegionKey? key = plan is not null && _translations is not null ? new RegionKey(plan, Specialization()) : null;
        var cached = key is not null ? _translations!.Find(key) : null;
        TranslatorStats.TranslationTicks += ThreadCpuClock.Now() - start;
        if (plan is null || cached is not null || !TranslateInBackground)
        {
            region = plan is null ? new TranslatedRegion(pc, null, 0, false, null, _dataViaTlb)
                : cached is not null ? Instantiate(pc, cached, shared: true)
                : Compile(pc, plan, key);
            if (plan is null && TranslateInBackground) page.Entries[slot] = region; // as a placeholder: not counted
            else Install(page, pageIndex, slot, decoded, region);
            return region;
        }
        // Until the compiled region comes back, a placeholder without code sends the dispatcher
        // to the interpreter (and keeps the entry from being queued twice).
        region = QueueTranslation(plan, key, decoded, pageIndex, slot);
        page.Entries[slot] = region;
        return region;
    }

    /// <summary>A region of the current mode is compiled: its cost goes to the mode's ledger (see <see cref="ModeThreshold"/>).</summary>
    private void Invest()
    {
        int mode = (int)Mode;
        _modeInvested[mode] += (ulong)_baseThreshold;
        _hotThreshold = ModeThreshold(mode);
    }

    /// <summary>
    /// Whether the fetch translation of <paramref name="pc"/>'s page is in neither the fetch cache nor
    /// the TLB, so that <see cref="FindRegion"/> cannot look past it, and the dispatcher may walk for it
    /// as the interpreter's next fetch would. A TLB entry holds one page's read, write and execute
    /// tags together, so a data access to any page at the same index (every 2 MiB) takes a code
    /// page's entry: on Linux running spawn 2000, 4.4×10⁵ of the dispatcher's arrivals found no fetch
    /// translation and left 2.8×10⁷ steps to the interpreter, regions or not. Not while breakpoints are set: the interpreter
    /// checks them before it fetches.
    /// </summary>
    private bool FetchTranslationLost(ulong pc) =>
        _fetchViaTlb && pc >> 12 != _fetchVirtualPage && _tlbPointer[(pc >> 12) & TlbMask].ExecuteTag != pc >> 12
        && _breakpoints is null;

    private TranslationPage NewTranslationPage(ulong pageIndex, DecodedInstruction[] decoded)
    {
        var page = new TranslationPage(decoded);
        _translationPages![pageIndex] = page;
        return page;
    }

    /// <summary>This hart's region running <paramref name="compiled"/> at <paramref name="pc"/>, with its own exit links.</summary>
    private TranslatedRegion Instantiate(ulong pc, CompiledRegion compiled, bool shared)
    {
        if (shared) TranslatorStats.RegionsShared++;
        else
        {
            TranslatorStats.RegionsTranslated++;
            TranslatorStats.InstructionsTranslated += (ulong)compiled.InstructionCount;
        }
        return new TranslatedRegion(pc, compiled.Instantiate(), compiled.InstructionCount, compiled.EntryIsBreakpoint, compiled.HelperSlots, _dataViaTlb);
    }

    private void Install(TranslationPage page, ulong pageIndex, int slot, DecodedInstruction[] decoded, TranslatedRegion region)
    {
        if (_regionCount >= MaxRegions)
        {
            Array.Clear(_translationPages!);
            // Regions link to one another: dropping the cache's references frees them all.
            Array.Clear(_jumpCache);
            _missedLink = null;
            _regionCount = 0;
            InvalidateRegionLookups();
            _translationGeneration++;
            TranslatorStats.CacheFlushes++;
            page = new TranslationPage(decoded);
            _translationPages![pageIndex] = page;
        }
        page.Entries[slot] = region;
        _regionCount++;
    }

    /// <summary>Queues the compilation of <paramref name="plan"/> (planned on this thread: it reads guest
    /// memory); returns the placeholder that stands for it meanwhile.</summary>
    private TranslatedRegion QueueTranslation(RegionPlan plan, RegionKey? key, DecodedInstruction[] decoded, ulong pageIndex, int slot)
    {
        Invest();
        var placeholder = new TranslatedRegion(plan.Entry, null, 0, false, null, _dataViaTlb);
        var job = new BackgroundCompiler.Job(plan, Specialization(), _translationGeneration, decoded, _compiled)
        {
            PageIndex = pageIndex, Slot = slot, Placeholder = placeholder, Cache = _translations, Key = key,
        };
        _pendingJobs++;
        BackgroundCompiler.Enqueue(job);
        return placeholder;
    }

    /// <summary>Regions queued on the background compiler and not yet back (tests wait for 0).</summary>
    internal int BackgroundJobsPending => _pendingJobs - _compiled.Count;

    /// <summary>Installs the regions the background compiler finished, unless what they were made from
    /// changed meanwhile (the page was written, translations dropped, breakpoints moved, the mode changed
    /// the entry's region): those are dropped, and the entry is planned again when next hot.</summary>
    private void InstallCompiled()
    {
        while (_compiled.TryDequeue(out var job))
        {
            _pendingJobs--;
            job.Failure?.Throw(); // a compiler bug surfaces on the hart's thread, as it would without the background
            TranslatorStats.BackgroundTicks += job.Ticks;
            if (_translationPages is null) continue;
            var page = _translationPages[job.PageIndex];
            if (page is null || !ReferenceEquals(page.Source, job.Source) || !ReferenceEquals(page.Entries[job.Slot], job.Placeholder)) continue;
            if (job.Generation != _translationGeneration)
            {
                // Breakpoints moved since it was planned: plan it again at the next arrival (it is still hot).
                page.Entries[job.Slot] = null;
                continue;
            }
            var region = Instantiate(job.Placeholder.VirtualPc, job.Compiled!, job.Shared);
            Install(page, job.PageIndex, job.Slot, job.Source, region);
            // The jump cache may hold the placeholder as valid for this epoch: a new epoch sends the
            // dispatcher back to the page, where it finds the region.
            InvalidateRegionLookups();
        }
    }

    /// <summary>Compiles <paramref name="plan"/> on this thread (and leaves it in the shared cache, if any).</summary>
    private TranslatedRegion Compile(ulong pc, RegionPlan plan, RegionKey? key)
    {
        Invest();
        long start = ThreadCpuClock.Now();
        var compiled = RegionCompiler.Compile(plan, Specialization());
        if (key is not null) compiled = _translations!.Add(key, compiled);
        TranslatorStats.TranslationTicks += ThreadCpuClock.Now() - start;
        return Instantiate(pc, compiled, shared: false);
    }

    /// <summary>What compiled code is specialised on besides its instructions (see <see cref="RegionSpecialization"/>).</summary>
    private RegionSpecialization Specialization() => new(_ramBase, _ramSize, _dataViaTlb);

    /// <summary>The TLB's index mask, for the compiled code's inline lookups.</summary>
    internal const ulong RegionTlbMask = TlbMask;

    /// <summary>Discovers the region at <paramref name="pc"/> from its page's decodes (decoding what is not yet), or null.</summary>
    private RegionPlan? Plan(ulong pc, ulong entryOffset, DecodedInstruction[] decoded)
    {
        ulong pageOffset = entryOffset & ~(ulong)(MainMemory.PageSize - 1);
        ulong pageVirtual = pc & ~PageMask;
        bool Fetch(ulong at, out DecodedInstruction instruction)
        {
            instruction = default;
            int slotIndex = (int)(at - pageVirtual) >> 1;
            ref DecodedInstruction slot = ref decoded[slotIndex];
            if (slot.Op == Opcode.NotDecoded)
            {
                ulong offset = pageOffset + (at - pageVirtual);
                uint raw = *(ushort*)(_ramPointer + offset);
                if ((raw & 3) == 3)
                {
                    // A 32-bit instruction in the last parcel is never cached (see FetchFull), nor translated.
                    if (slotIndex == MainMemory.SlotsPerPage - 1 || offset + 4 > _ramSize) return false;
                    raw = *(uint*)(_ramPointer + offset);
                }
                slot = Decoder.Decode(raw);
            }
            instruction = slot;
            return true;
        }
        var breakpoints = _breakpoints;
        return RegionPlan.Discover(pc, Fetch, at => breakpoints is not null && breakpoints.Contains(at));
    }

    /// <summary>Breakpoints changed: the regions on the pages of the old and new ones are dropped, so
    /// that they are retranslated with (or without) a stop at those addresses; the rest stay.</summary>
    private void BreakpointsChanged(HashSet<ulong>? before, HashSet<ulong>? after)
    {
        InvalidateRegionLookups();
        _translationGeneration++;
        if (_translationPages is null) return;
        var pages = new HashSet<ulong>();
        if (before is not null) foreach (ulong pc in before) pages.Add(pc >> 12);
        if (after is not null) foreach (ulong pc in after) pages.Add(pc >> 12);
        if (pages.Count == 0) return;
        foreach (var page in _translationPages)
        {
            if (page is null) continue;
            for (int i = 0; i < page.Entries.Length; i++)
            {
                if (page.Entries[i] is { } region && pages.Contains(region.VirtualPc >> 12))
                {
                    page.Entries[i] = null;
                    Heat(region.VirtualPc) = uint.MaxValue; // hot already: retranslated at the next arrival
                    AttentionWord(region.VirtualPc) |= AttentionBit(region.VirtualPc);
                    _regionCount--;
                }
            }
        }
    }
}

/// <summary>What the translator has done so far (not part of the machine's state).</summary>
public sealed class TranslatorStatistics
{
    public ulong RegionsTranslated { get; internal set; }
    /// <summary>Regions this hart took compiled from its <see cref="Hart.Translations"/> cache instead of compiling (not in <see cref="RegionsTranslated"/>).</summary>
    public ulong RegionsShared { get; internal set; }
    public ulong InstructionsTranslated { get; internal set; }
    public ulong CacheFlushes { get; internal set; }
    public ulong RegionRuns { get; internal set; }
    /// <summary>Region runs entered straight from the previous region (an exit link or the jump cache), without a dispatcher lookup.</summary>
    public ulong ChainedRuns { get; internal set; }
    public ulong RegionSteps { get; internal set; }
    public ulong InterpreterRuns { get; internal set; }
    public ulong InterpretedSteps { get; internal set; }
    /// <summary>CPU time the hart's thread spent discovering and compiling regions, in <see cref="Stopwatch"/> ticks.</summary>
    public long TranslationTicks { get; internal set; }
    /// <summary>CPU time the background compiler spent on this hart's regions (on its own thread), in <see cref="Stopwatch"/> ticks.</summary>
    public long BackgroundTicks { get; internal set; }
    /// <summary>Regions the interpreter's jumps found in the jump cache from an earlier epoch and entered
    /// once a lookup found them still valid.</summary>
    public ulong RegionsFoundAgain { get; internal set; }
    /// <summary>Slices the machine ran (each ends at a trap, an interrupt check, a CSR write that may change what is deliverable, a timer or input deadline).</summary>
    public ulong Slices { get; internal set; }
    /// <summary>Decode pages made for RAM pages executed for the first time since their last write.</summary>
    public ulong DecodePagesCreated { get; internal set; }
    /// <summary>Times cached decodes were dropped (stores into code, DMA, fence.i).</summary>
    public ulong CodeInvalidations { get; internal set; }
    /// <summary>Whole-TLB flushes (mode changes, satp, sfence.vma, status writes).</summary>
    public ulong TlbFlushes { get; internal set; }
    /// <summary>Page-table walks (TLB misses), every access type.</summary>
    public ulong PageWalks { get; internal set; }
    public TimeSpan TranslationTime => Stopwatch.GetElapsedTime(0, TranslationTicks);
    public TimeSpan BackgroundTime => Stopwatch.GetElapsedTime(0, BackgroundTicks);
}
