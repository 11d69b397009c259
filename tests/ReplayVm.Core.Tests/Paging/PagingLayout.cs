namespace ReplayVm.Core.Tests.Paging;

/// <summary>
/// Fixed physical layout of a paging test guest (one .text section linked at 0x8000_0000, regions
/// placed with <c>.org</c>), so the generator can write page-table entries as plain numbers.
/// The whole image is identity-mapped by a gigapage for the body's code and bookkeeping; the
/// random mappings only ever reach the data pages.
/// </summary>
public static class PagingLayout
{
    public const ulong RamBase = 0x8000_0000;

    /// <summary>Trap save area, trap count and trap log (x31 points here).</summary>
    public const ulong HandlerArea = RamBase + 0x1_0000;

    /// <summary>One doubleword per value the body records (loaded values, AMO/SC results).</summary>
    public const ulong ResultsArea = RamBase + 0x1_2000;

    /// <summary>A doubleword the body uses to clear the LR reservation (an SC always does, A spec 8.2).</summary>
    public const ulong ScratchWord = RamBase + 0x1_3000;

    public const ulong PageTablePool = RamBase + 0x2_0000;
    public const int PageTablePages = 16;

    public const ulong DataPages = RamBase + 0x3_0000;
    public const int DataPageCount = 5;

    /// <summary>Each data page holds a <c>ret</c> here: the landing spot of fetch tests.</summary>
    public const int RetOffset = 128;

    public const uint RetInstruction = 0x0000_8067; // jalr x0, 0(ra)

    public const int SaveBytes = 56;               // t0..t5 and one spare
    public const int TrapCountOffset = 56;
    public const int TrapLogOffset = 64;
    public const int MaxLoggedTraps = 64;
    public const int TrapEntryWords = 4;            // cause, epc - body_start, tval, how/where
    public const int MaxResults = 250;              // sd offsets stay within a 12-bit immediate

    /// <summary>Offsets of the doublewords of each data page the dump prints: the only ones accesses touch.</summary>
    public static readonly int[] DumpedWordOffsets =
        Enumerable.Range(0, 17).Select(i => i * 8).Concat(Enumerable.Range(504, 8).Select(i => i * 8)).ToArray();

    public static ulong DataPage(int k) => DataPages + (ulong)k * 4096;

    public static ulong Table(int index) => PageTablePool + (ulong)index * 4096;
}
