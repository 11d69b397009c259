namespace ReplayVm.Core.Hart;

/// <summary>
/// The virtual pages the hart has stored to (or may have: every store-class access that reaches
/// address translation, faulting ones included) since the log was last cleared, for an index that
/// must say whether a stretch of a recording could hold a write-watchpoint hit. Filled where a store
/// is translated, which every store passes the first time it writes a page after
/// <see cref="Hart.StoredPagesCleared"/> (see Hart.StoredPages), so it costs nothing per store.
/// </summary>
public sealed class StoredPageLog : VirtualPageLog;
