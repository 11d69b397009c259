namespace ReplayVm.Core.Hart;

/// <summary>
/// The virtual pages the hart has fetched instructions from since the log was last cleared, for an
/// index that must say whether a stretch of a recording could have hit a breakpoint. Filled by the
/// interpreter where it enters a page — the top of its fetch loop, which every instruction on a
/// page it was not already on passes (see Hart.BreakpointPages) — and by the translator's
/// dispatcher for each region it runs (a region stays on its entry's page), so it costs a compare
/// per page entry or region run, nothing per instruction.
/// </summary>
public sealed class ExecutedPageLog : VirtualPageLog
{
    /// <summary>Notes the page holding <paramref name="pc"/> (also for pcs the hart did not fetch from but a reader must count, such as an interrupted one).</summary>
    public void NotePc(ulong pc) => NoteAddress(pc);
}
