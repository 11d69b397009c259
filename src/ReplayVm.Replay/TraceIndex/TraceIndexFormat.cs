namespace ReplayVm.Replay.TraceIndex;

/// <summary>
/// Constants of the <c>.rvindex</c> sidecar (docs/index-format.md). Writer and reader take every
/// number from here.
/// </summary>
public static class TraceIndexFormat
{
    /// <summary>
    /// BUMP IT whenever the bytes the writer produces change meaning, and describe the change in
    /// docs/index-format.md. A reader ignores (and <c>replayvm index</c> rebuilds) any other version:
    /// the sidecar is a cache, so there is nothing to migrate.
    /// </summary>
    public const ushort Version = 6;

    /// <summary>"RVINDEX" and a NUL.</summary>
    public static ReadOnlySpan<byte> FileMagic => "RVINDEX\0"u8;

    /// <summary>What follows the trace's name: <c>demo.rvtrace</c> → <c>demo.rvtrace.rvindex</c>.</summary>
    public const string Suffix = ".rvindex";

    /// <summary>magic(8) version(2) flags(2) header length(4) header CRC32C(4).</summary>
    public const int PreambleSize = 20;

    /// <summary>Largest header body a reader accepts (it holds a few numbers and a digest).</summary>
    public const int MaxHeaderSize = 4096;

    /// <summary>RAM pages in one page chunk (1 MiB raw), far below the chunk codec's limit.</summary>
    public const int PagesPerChunk = 256;

    /// <summary>Largest snapshot record: the hart, the devices (a copy-on-write disk overlay dominates), the page list and the output since the last snapshot.</summary>
    public const int MaxRecordSize = 16 << 20;

    /// <summary>Most snapshots one sidecar may hold.</summary>
    public const int MaxSnapshots = 1 << 20;

    /// <summary>Record kinds: the first byte of a snapshot, end or trap chunk's raw bytes (page chunks are identified by position).</summary>
    public const byte SnapshotKind = 1, EndKind = 2, TrapKind = 3;

    /// <summary>
    /// Most trap markers one sidecar holds (a reader decodes them a record at a time, but a build
    /// collects each stretch's in memory, and they count against the budget). Past it the build stops
    /// recording traps and the end record says how far they are complete; the debugger then finds
    /// traps by replaying, as without a sidecar.
    /// </summary>
    public const int MaxTrapMarkers = 4 << 20;

    /// <summary>Most markers in one trap record (a record stays far below <see cref="MaxRecordSize"/>: at most 22 bytes a marker).</summary>
    public const int MaxTrapsPerRecord = 1 << 18;

    /// <summary>
    /// Most virtual pages one executed-page list holds (1 GiB of code run in one stretch); a stretch
    /// that ran more is written as "not recorded", which a search treats as "may hold any hit".
    /// </summary>
    public const int MaxExecutedPages = 1 << 18;

    /// <summary>The default size bound (<c>--budget</c>).</summary>
    public const long DefaultBudget = 1L << 30;

    /// <summary>The smallest budget accepted: room for the header and one small snapshot.</summary>
    public const long MinBudget = 64 << 10;

    /// <summary>Bytes kept free for the end record when deciding whether a snapshot still fits.</summary>
    public const int EndReserve = 256;

    /// <summary>
    /// Snapshots per recording aimed at when no interval is given: about one per 1/1024 of the
    /// recording, never closer than the trace's hash points (they sit on them).
    /// </summary>
    public const ulong DefaultSnapshotsPerTrace = 1024;

    /// <summary>
    /// <c>debug</c> and <c>gdb</c> build a missing sidecar in the background only for recordings at
    /// least this long: below it a seek from step 0 already takes a fraction of a second, and the
    /// trace's hash points (10⁷ steps apart by default) would give too few snapshots to matter.
    /// </summary>
    public const ulong AutoBuildMinSteps = 50_000_000;

    public static string SidecarPath(string tracePath) => tracePath + Suffix;
}

/// <summary>A sidecar that cannot be used: damaged, of another version, or for another trace. The message is one line for a notice.</summary>
public sealed class TraceIndexException(string message) : Exception(message);
