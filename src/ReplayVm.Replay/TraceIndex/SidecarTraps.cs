using ReplayVm.Replay.Timeline;

namespace ReplayVm.Replay.TraceIndex;

/// <summary>
/// The traps and interrupts of a sidecar, left in its trap records: opening the sidecar reads each
/// record's summary (the steps it covers and how many markers of each cause it holds), and a query
/// decodes only the records it needs — at most two for <see cref="Next"/>, <see cref="Previous"/>
/// and <see cref="Any"/>, none for counts — keeping the last few decoded (at most
/// <see cref="MaxCachedMarkers"/> markers, or the one record last used). A Linux recording holds
/// millions of markers: reading them all when the sidecar opens cost seconds on a loaded machine.
/// Thread-safe. A record found damaged or forged when decoded throws <see cref="TraceIndexException"/>.
/// </summary>
public sealed class SidecarTraps
{
    /// <summary>Markers kept decoded beyond the record in use (a quarter of a million: about 6 MB).</summary>
    public const int MaxCachedMarkers = 1 << 18;

    private readonly Func<TrapRecordSummary, TrapMarker[]> _decode;
    private readonly TrapRecordSummary[] _records;
    private readonly TrapMarkerKinds[] _kinds;
    private readonly long[] _totals = new long[KindCount];
    private readonly Dictionary<(bool Interrupt, byte Cause), long> _byCause = [];
    private readonly Lock _lock = new();
    /// <summary>Decoded records, the most recently used last.</summary>
    private readonly List<(int Record, TrapMarker[] Markers)> _cache = [];
    private int _cachedMarkers;

    internal SidecarTraps(IReadOnlyList<TrapRecordSummary> records, Func<TrapRecordSummary, TrapMarker[]> decode)
    {
        _records = [.. records];
        _decode = decode;
        _kinds = new TrapMarkerKinds[_records.Length];
        for (int i = 0; i < _records.Length; i++)
        {
            _kinds[i] = _records[i].Kinds;
            foreach (var c in _records[i].Causes)
            {
                _totals[KindIndex(c.Kind)] += c.Count;
                var key = ((c.Cause & 0x80) != 0, (byte)(c.Cause & 0x7f));
                _byCause[key] = _byCause.GetValueOrDefault(key) + c.Count;
            }
        }
    }

    private const int KindCount = 5;

    /// <summary>Trap records decoded so far (a record decoded again after leaving the cache counts again).</summary>
    public int RecordsDecoded { get; private set; }

    /// <summary>How many trap records the sidecar holds.</summary>
    public int RecordCount => _records.Length;

    /// <summary>Markers of <paramref name="kinds"/>, from the records' summaries.</summary>
    public long Count(TrapMarkerKinds kinds)
    {
        long total = 0;
        for (int k = 0; k < KindCount; k++)
            if (((int)kinds & (1 << k)) != 0) total += _totals[k];
        return total;
    }

    /// <summary>Markers by cause, e.g. (false, 8) for ecalls from U.</summary>
    public IReadOnlyDictionary<(bool Interrupt, byte Cause), long> CountsByCause() => new Dictionary<(bool Interrupt, byte Cause), long>(_byCause);

    /// <summary>The first marker of <paramref name="kinds"/> strictly after <paramref name="afterStep"/>, or null.</summary>
    public TrapMarker? Next(TrapMarkerKinds kinds, ulong afterStep)
    {
        if (afterStep == ulong.MaxValue) return null;
        // Records before the first one reaching past afterStep hold no marker after it.
        for (int i = FirstThroughAbove(afterStep); i < _records.Length; i++)
        {
            if ((_kinds[i] & kinds) == 0) continue;
            foreach (var m in Markers(i))
                if (m.Step > afterStep && (m.Kind & kinds) != 0) return m;
        }
        return null;
    }

    /// <summary>The last marker of <paramref name="kinds"/> strictly before <paramref name="beforeStep"/>, or null.</summary>
    public TrapMarker? Previous(TrapMarkerKinds kinds, ulong beforeStep)
    {
        if (beforeStep == 0) return null;
        // Records from the first one starting at or after beforeStep hold no marker before it.
        for (int i = FirstFromAtOrAbove(beforeStep) - 1; i >= 0; i--)
        {
            if ((_kinds[i] & kinds) == 0) continue;
            var markers = Markers(i);
            for (int j = markers.Length - 1; j >= 0; j--)
                if (markers[j].Step < beforeStep && (markers[j].Kind & kinds) != 0) return markers[j];
        }
        return null;
    }

    /// <summary>Whether some marker of <paramref name="kinds"/> lies in [<paramref name="fromStep"/>, <paramref name="toStep"/>).</summary>
    public bool Any(TrapMarkerKinds kinds, ulong fromStep, ulong toStep)
    {
        if (toStep <= fromStep) return false;
        for (int i = fromStep == 0 ? 0 : FirstThroughAbove(fromStep - 1); i < _records.Length && _records[i].From < toStep; i++)
        {
            if ((_kinds[i] & kinds) == 0) continue;
            // A record lying wholly inside the range answers from its summary.
            if (_records[i].From >= fromStep && _records[i].Through < toStep) return true;
            foreach (var m in Markers(i))
                if (m.Step >= fromStep && m.Step < toStep && (m.Kind & kinds) != 0) return true;
        }
        return false;
    }

    /// <summary>Every marker in step order, decoding one record at a time (for tools and tests: a Linux recording holds millions).</summary>
    public IEnumerable<TrapMarker> All()
    {
        for (int i = 0; i < _records.Length; i++)
            foreach (var m in Markers(i))
                yield return m;
    }

    /// <summary>The first record whose Through exceeds <paramref name="step"/> (Through ascends).</summary>
    private int FirstThroughAbove(ulong step) => SortedSteps.FirstAfter(_records, step, static r => r.Through);

    /// <summary>The first record whose From is at least <paramref name="step"/> (From ascends).</summary>
    private int FirstFromAtOrAbove(ulong step) => SortedSteps.FirstAtOrAfter(_records, step, static r => r.From);

    private TrapMarker[] Markers(int record)
    {
        lock (_lock)
        {
            for (int i = _cache.Count - 1; i >= 0; i--)
            {
                if (_cache[i].Record != record) continue;
                var hit = _cache[i];
                _cache.RemoveAt(i);
                _cache.Add(hit);
                return hit.Markers;
            }
            var markers = _decode(_records[record]);
            RecordsDecoded++;
            _cache.Add((record, markers));
            _cachedMarkers += markers.Length;
            while (_cache.Count > 1 && _cachedMarkers > MaxCachedMarkers)
            {
                _cachedMarkers -= _cache[0].Markers.Length;
                _cache.RemoveAt(0);
            }
            return markers;
        }
    }

    private static int KindIndex(TrapMarkerKinds kind) => System.Numerics.BitOperations.TrailingZeroCount((int)kind);
}
