namespace ReplayVm.Core.Hart;

/// <summary>
/// Noting the virtual pages loaded from, for an index (see <see cref="LoadedPageLog"/>), as
/// Hart.StoredPages notes stores: while a log is kept, every data access goes through the TLB, only
/// loads install read translations (a store may otherwise cache one for a page it has never read),
/// and each is noted as it is installed; clearing the log drops the read translations, so the first
/// load from each page after it is noted again. Dropping TLB entries changes no result.
/// </summary>
public sealed unsafe partial class Hart
{
    private LoadedPageLog? _loadedPages;

    /// <summary>Told the virtual page of every load; null (the default) for none.</summary>
    public LoadedPageLog? LoadedPages
    {
        get => _loadedPages;
        set
        {
            _loadedPages = value;
            TranslationChanged();
        }
    }

    /// <summary>Call after clearing the log (between slices): the next load from any page is noted again.</summary>
    public void LoadedPagesCleared()
    {
        for (int i = 0; i < _tlb.Length; i++) _tlb[i].ReadTag = TlbEntry.Invalid;
    }
}
