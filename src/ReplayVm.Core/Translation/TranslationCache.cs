using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ReplayVm.Core.Hart;

namespace ReplayVm.Core.Translation;

/// <summary>
/// Compiled regions shared by the harts of one process (or of one replay), so that machines running
/// the same guest — the segment machines of <c>replay --jobs N</c>, the scanners of a parallel
/// reverse-continue, a timeline restoring snapshot after snapshot — pay the .NET JIT once per region
/// instead of once per machine (about a millisecond of CPU each, several seconds over a boot).
///
/// A region is found by <see cref="RegionKey"/>: everything the compiler reads — the decoded
/// instructions with their virtual addresses and the region's block structure, whether its entry is
/// a breakpoint, and the machine's RAM placement and data-access mode. Compiled code depends on
/// nothing else (it reads the hart's registers, RAM and TLB through the hart it runs on, see
/// <see cref="RegionCompiler"/>), so a hart that plans a region equal to a cached one gets code
/// that does exactly what its own compilation would have done: sharing changes which thread paid
/// for the JIT, never a result. Keys are compared in full (a hash only picks the bucket).
///
/// Thread-safe. Bounded: past <see cref="MaxRegions"/> the cache is emptied (harts keep the regions
/// they hold; the methods are collected when no hart does).
/// </summary>
public sealed class TranslationCache
{
    /// <summary>The process's cache (the CLI's machines share it; see <see cref="Hart.Hart.DefaultTranslations"/>).</summary>
    public static TranslationCache Process { get; } = new();

    /// <summary>Most regions kept (a 16-byte key per instruction, and the code: tens of MB at most).</summary>
    public const int MaxRegions = 65536;

    private const int HintBits = 1 << 16;

    private readonly ConcurrentDictionary<RegionKey, CompiledRegion> _regions = new();
    /// <summary>One bit per hashed entry pc that some cached region starts at: lets a hart ask the
    /// cache about an entry early (<see cref="Hart.Hart.TranslationThreshold"/>) only when it may answer.</summary>
    private readonly int[] _entryHints = new int[HintBits / 32];
    private long _hits, _added;

    /// <summary>Regions handed out from the cache, to a hart that did not compile them.</summary>
    public long Hits => Interlocked.Read(ref _hits);
    /// <summary>Regions compiled into the cache.</summary>
    public long Added => Interlocked.Read(ref _added);
    public int Count => _regions.Count;

    internal CompiledRegion? Find(RegionKey key)
    {
        if (!_regions.TryGetValue(key, out var region)) return null;
        Interlocked.Increment(ref _hits);
        return region;
    }

    /// <summary>Adds <paramref name="region"/>, compiled for <paramref name="key"/>; returns the region the
    /// cache holds for it (another thread's, if it got there first: equal code either way).</summary>
    internal CompiledRegion Add(RegionKey key, CompiledRegion region)
    {
        if (_regions.Count >= MaxRegions)
        {
            _regions.Clear();
            Array.Clear(_entryHints);
        }
        var held = _regions.GetOrAdd(key, region);
        if (ReferenceEquals(held, region))
        {
            Interlocked.Increment(ref _added);
            int bit = HintBit(key.Entry);
            Interlocked.Or(ref _entryHints[bit >> 5], 1 << (bit & 31));
        }
        return held;
    }

    /// <summary>Whether a region starting at <paramref name="entry"/> may be cached (false: certainly not).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool MayHold(ulong entry)
    {
        int bit = HintBit(entry);
        return (Volatile.Read(ref _entryHints[bit >> 5]) & (1 << (bit & 31))) != 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int HintBit(ulong entry) => (int)((entry >> 1) ^ (entry >> 17)) & (HintBits - 1);
}

/// <summary>
/// What a compiled region is a function of, as bytes: the <see cref="RegionSpecialization"/>, the
/// entry and whether it is a breakpoint, then each basic block (its length, then each instruction's
/// virtual pc and decoded form). Two plans with equal keys compile to the same code.
/// </summary>
internal sealed class RegionKey : IEquatable<RegionKey>
{
    private readonly byte[] _bytes;
    private readonly int _hash;

    public ulong Entry { get; }

    public RegionKey(RegionPlan plan, RegionSpecialization specialization)
    {
        Entry = plan.Entry;
        int size = 8 + 8 + 1 + 8 + 4;
        foreach (var block in plan.Blocks) size += 4 + block.Length * (8 + Unsafe.SizeOf<DecodedInstruction>());
        _bytes = new byte[size];
        var writer = new SpanWriter(_bytes);
        writer.Write(specialization.RamBase);
        writer.Write(specialization.RamSize);
        writer.Write((byte)((specialization.DataViaTlb ? 1 : 0) | (plan.EntryIsBreakpoint ? 2 : 0)));
        writer.Write(plan.Entry);
        writer.Write(plan.Blocks.Count);
        foreach (var block in plan.Blocks)
        {
            writer.Write(block.Length);
            foreach (var instruction in block)
            {
                writer.Write(instruction.Pc);
                // Compared as bytes, padding included: a field added to the decoded form is covered
                // without touching this code; unequal padding only costs a miss, never a wrong hit.
                writer.Write(instruction.Decoded);
            }
        }
        _hash = Hash(_bytes);
    }

    /// <summary>
    /// A multiply-rotate hash of the key's 8-byte words: it only picks the bucket (keys are compared
    /// in full), so it needs to spread, not to resist anyone. Not XxHash3: a key is a few hundred
    /// bytes, and XxHash3's paths for those lengths were code the runtime compiled at the first
    /// region of a run (a dozen methods) for no gain in spread.
    /// </summary>
    private static int Hash(ReadOnlySpan<byte> bytes)
    {
        const ulong Multiplier = 0x9E3779B97F4A7C15UL;
        ulong h = Multiplier ^ (ulong)bytes.Length;
        int i = 0;
        for (; i + 8 <= bytes.Length; i += 8)
            h = System.Numerics.BitOperations.RotateLeft((h ^ System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes[i..])) * Multiplier, 29);
        for (; i < bytes.Length; i++) h = (h ^ bytes[i]) * Multiplier;
        return (int)(h ^ (h >> 32));
    }

    public bool Equals(RegionKey? other) => other is not null && other._hash == _hash && other._bytes.AsSpan().SequenceEqual(_bytes);
    public override bool Equals(object? obj) => obj is RegionKey other && Equals(other);
    public override int GetHashCode() => _hash;

    private ref struct SpanWriter(Span<byte> target)
    {
        private readonly Span<byte> _target = target;
        private int _at;

        public void Write(ulong value) { System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(_target[_at..], value); _at += 8; }
        public void Write(int value) { System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(_target[_at..], value); _at += 4; }
        public void Write(byte value) => _target[_at++] = value;
        public void Write(DecodedInstruction value) { MemoryMarshal.Write(_target[_at..], in value); _at += Unsafe.SizeOf<DecodedInstruction>(); }
    }
}
