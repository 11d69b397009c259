namespace ReplayVm.Replay.Format;

/// <summary>
/// Constants of the <c>.rvtrace</c> format, documented in docs/trace-format.md. The writer and the
/// reader both take every number from here, so the two cannot drift apart.
/// </summary>
public static class TraceFormat
{
    /// <summary>
    /// The format version written into every trace. BUMP IT whenever the bytes a writer produces
    /// change meaning in any way — a new header field, a new event kind, a changed payload, a new
    /// hash input (<see cref="ReplayVm.Core.State.MachineStateHasher.Version"/> is checked on its
    /// own) — and describe the change in docs/trace-format.md. Readers refuse newer versions.
    /// </summary>
    public const ushort Version = 4;

    /// <summary>Oldest version this reader still understands.</summary>
    public const ushort OldestReadableVersion = 1;

    /// <summary>"RVTRACE" and a NUL: identifies the file.</summary>
    public static ReadOnlySpan<byte> FileMagic => "RVTRACE\0"u8;

    /// <summary>"RVCK": starts every chunk, so a scan can tell a chunk from garbage.</summary>
    public static ReadOnlySpan<byte> ChunkMagic => "RVCK"u8;

    /// <summary>magic(8) version(2) flags(2) body length(4) body CRC32C(4).</summary>
    public const int FilePreambleSize = 20;

    /// <summary>magic(4) payload length(4) raw length(4) base step(8) CRC32C(4).</summary>
    public const int ChunkHeaderSize = 24;

    /// <summary>Largest decompressed chunk a reader accepts; writers stay far below (see <see cref="TraceWriterOptions.ChunkTarget"/>).</summary>
    public const int MaxChunkRawSize = 16 << 20;

    /// <summary>Largest header body (the embedded images dominate it).</summary>
    public const int MaxHeaderSize = 1 << 30;

    public const int Sha256Size = 32;

    /// <summary>The first version whose header has the board revision and the disks.</summary>
    public const ushort FirstVersionWithDisks = 2;

    /// <summary>Most disks a header may list (more than the board's virtio slots; the machine refuses the excess).</summary>
    public const int MaxDisks = 64;

    /// <summary>The first version that stores embedded disks as blocks after the header (before: one LZ4 block inside it).</summary>
    public const ushort FirstVersionWithDiskBlocks = 3;

    /// <summary>
    /// The first version whose header CRC also covers the preamble's version, flags and length
    /// (bytes 8..15), so a flipped version bit cannot make a reader of another version parse the file.
    /// </summary>
    public const ushort FirstVersionWithPreambleInCrc = 4;

    /// <summary>Raw bytes in one stored disk block (the last block of a disk may be shorter).</summary>
    public const int DiskBlockSize = 64 << 10;

    /// <summary>Largest disk a header may describe, embedded or by hash.</summary>
    public const long MaxDiskSize = 1L << 40;

    /// <summary>Largest RAM a header may ask for: the board's limit (QEMU virt's RAM window is far larger; 1 TiB is ours).</summary>
    public const ulong MaxRamSize = 1UL << 40;

    /// <summary>
    /// Largest state-hash interval a header may give. It bounds how far apart any two events of a
    /// valid trace lie (a hash point is due at every multiple of the interval), so a forged step
    /// count is caught by the reader instead of making a replay run for ever.
    /// </summary>
    public const ulong MaxStateHashInterval = 1UL << 40;
}
