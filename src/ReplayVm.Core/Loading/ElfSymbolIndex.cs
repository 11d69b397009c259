namespace ReplayVm.Core.Loading;

/// <summary>Answers "what is called X" and "what owns address A" over an image's symbols.</summary>
internal sealed class ElfSymbolIndex
{
    /// <summary>How many earlier symbols to look past for one that covers the address (nested or overlapping symbols).</summary>
    private const int MaxBacktrack = 32;

    private readonly Dictionary<string, ElfSymbol> _byName = new(StringComparer.Ordinal);
    private readonly ElfSymbol[] _byAddress;
    private readonly IReadOnlyList<ElfSegment> _segments;

    public ElfSymbolIndex(IReadOnlyList<ElfSymbol> symbols, IReadOnlyList<ElfSegment> segments)
    {
        _segments = segments;
        foreach (var symbol in symbols)
        {
            if (symbol.Name.Length == 0) continue;
            if (!_byName.TryGetValue(symbol.Name, out var known) || Rank(symbol) > Rank(known))
                _byName[symbol.Name] = symbol;
        }
        // Ascending address; at one address the preferred name last, because lookups walk backwards.
        _byAddress = symbols.Where(s => s.Type != ElfSymbolType.Other)
            .OrderBy(s => s.Value).ThenBy(Rank).ToArray();
    }

    public ElfSymbol? Find(string name) => _byName.GetValueOrDefault(name);

    public bool TryFindAt(ulong address, out ElfSymbol symbol, out ulong offset)
    {
        int last = LastAtOrBefore(address);
        for (int i = last; i >= 0 && last - i < MaxBacktrack; i--)
        {
            var candidate = _byAddress[i];
            // A sized symbol owns only its own range; a size-0 label (hand-written assembly) owns
            // its own address and what follows it up to the next symbol, but not past the end of
            // its segment.
            bool owns = candidate.Size != 0
                ? candidate.Covers(address)
                : candidate.Value == address || SameSegment(candidate.Value, address);
            if (owns)
            {
                symbol = candidate;
                offset = address - candidate.Value;
                return true;
            }
            if (candidate.Size == 0) break;
        }
        symbol = null!;
        offset = 0;
        return false;
    }

    private int LastAtOrBefore(ulong address)
    {
        int low = 0, high = _byAddress.Length - 1, found = -1;
        while (low <= high)
        {
            int mid = low + (high - low) / 2;
            if (_byAddress[mid].Value <= address) { found = mid; low = mid + 1; }
            else high = mid - 1;
        }
        return found;
    }

    private bool SameSegment(ulong a, ulong b)
    {
        foreach (var segment in _segments)
            if (segment.ContainsVirtual(a)) return segment.ContainsVirtual(b);
        return false;
    }

    /// <summary>Which name to show when several share an address: code, then data, then labels; global before local.</summary>
    private static int Rank(ElfSymbol s) => s.Type switch
    {
        ElfSymbolType.Function => 6,
        ElfSymbolType.Object => 4,
        ElfSymbolType.Label => 2,
        _ => 0,
    } + (s.IsGlobal ? 1 : 0);
}
