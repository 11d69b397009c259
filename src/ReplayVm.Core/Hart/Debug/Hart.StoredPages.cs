namespace ReplayVm.Core.Hart;

/// <summary>
/// Noting the virtual pages stored to, for an index (see <see cref="StoredPageLog"/>). A store
/// reaches memory either through the TLB's cached write translation for its page or through
/// <c>Translate</c> (the slow path, where watchpoints are checked too). While a log is kept, every
/// data access goes through the TLB (as with watchpoints), only stores install write translations
/// (a load may otherwise cache one for a page it has never stored to), and each is noted as it is
/// installed; clearing the log drops the write translations, so the first store to each page after
/// it is noted again. The TLB is a cache of the page tables: dropping entries changes no result.
/// </summary>
public sealed unsafe partial class Hart
{
    private StoredPageLog? _storedPages;

    /// <summary>Told the virtual page of every store; null (the default) for none.</summary>
    public StoredPageLog? StoredPages
    {
        get => _storedPages;
        set
        {
            _storedPages = value;
            TranslationChanged();
        }
    }

    /// <summary>Call after clearing the log (between slices): the next store to any page is noted again.</summary>
    public void StoredPagesCleared()
    {
        for (int i = 0; i < _tlb.Length; i++) _tlb[i].WriteTag = TlbEntry.Invalid;
    }
}
