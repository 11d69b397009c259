namespace ReplayVm.Core.Tests.Paging;

/// <summary>The privilege the test body's accesses are made with, and how.</summary>
public enum BodyMode
{
    /// <summary>Body runs in S-mode (entered with mret, MPP = S).</summary>
    Supervisor,
    /// <summary>Body runs in U-mode (mret, MPP = U).</summary>
    User,
    /// <summary>Body runs in M-mode with MPRV = 1, MPP = S: data accesses translated as S (priv spec 3.1.6.3).</summary>
    MprvSupervisor,
    /// <summary>Body runs in M-mode with MPRV = 1, MPP = U.</summary>
    MprvUser,
}

/// <summary>
/// A generated paging test guest: its assembly source, and what each line of its dump after the
/// trap log means (so a mismatch report can say which PTE / result / data word differs).
/// </summary>
public sealed record PagingProgram(int Seed, string Source, string[] Meanings, string Summary)
{
    public override string ToString() => $"PagingProgram(seed {Seed}: {Summary})";

    /// <summary>
    /// Meaning of dump line <paramref name="line"/>. The dump is: trap count, four lines per logged
    /// trap (cause, epc - body_start, tval, origin), then one line per entry of <see cref="Meanings"/>.
    /// </summary>
    /// <summary>How many lines the whole dump has for <paramref name="trapCount"/> traps.</summary>
    public int DumpLines(long trapCount) =>
        1 + (int)Math.Clamp(trapCount, 0, PagingLayout.MaxLoggedTraps) * PagingLayout.TrapEntryWords + Meanings.Length;

    public string Describe(int line, long trapCount)
    {
        if (line == 0) return "trap count";
        line--;
        long logged = Math.Clamp(trapCount, 0, PagingLayout.MaxLoggedTraps);
        if (line < logged * PagingLayout.TrapEntryWords)
            return $"trap #{line / PagingLayout.TrapEntryWords} " + (line % PagingLayout.TrapEntryWords) switch
            {
                0 => "cause (scause if delegated)",
                1 => "epc - body_start",
                2 => "tval",
                _ => "origin (bits 1:0 = mode trapped from, bit 4 = delegated to S)",
            };
        line -= (int)(logged * PagingLayout.TrapEntryWords);
        return line < Meanings.Length ? Meanings[line] : "past the end of the dump";
    }
}

/// <summary>A batch checked together, so that builds and QEMU runs can overlap.</summary>
public sealed record PagingBatch(int[] Seeds)
{
    public override string ToString() => $"PagingBatch(seeds {string.Join(",", Seeds)})";
}
