namespace ReplayVm.Core.Hart;

/// <summary>
/// The virtual pages the hart has loaded from (or may have: every load-class access that reaches
/// address translation, faulting ones included) since the log was last cleared, for an index that
/// must say whether a stretch of a recording could hold a read-watchpoint hit. Filled where a load
/// is translated, which every load passes the first time it reads a page after
/// <see cref="Hart.LoadedPagesCleared"/> (see Hart.LoadedPages), so it costs nothing per load.
/// </summary>
public sealed class LoadedPageLog : VirtualPageLog;
