namespace ReplayVm.Core.Tests.Oracle;

/// <summary>
/// One unit of a random test body: a few assembly lines that are always executed together.
/// Forward branches only ever land on item boundaries, so a multi-line item (e.g. "point a
/// register at the scratch area, then do an AMO through it") is never entered half way.
/// </summary>
/// <param name="Lines">Assembly lines; the placeholder <c>{T}</c> stands for the branch target label.</param>
/// <param name="ForwardItems">How many items ahead <c>{T}</c> points (0 = the item has no target).</param>
public sealed record BodyItem(string[] Lines, int ForwardItems = 0)
{
    public static BodyItem Of(params string[] lines) => new(lines);
}

/// <summary>
/// A generated differential-test program: initial register values, initial contents of the two
/// scratch areas, and the body. Rendered to GNU assembler by <see cref="OracleProgramWriter"/>.
/// </summary>
public sealed record RandomProgram(ulong[] RegisterSeeds, ulong[] ScratchWords, BodyItem[] Body)
{
    public override string ToString() => $"RandomProgram({Body.Length} items)";
}

/// <summary>A batch of programs checked together, so that one gcc/QEMU round-trip serves many programs.</summary>
public sealed record ProgramBatch(RandomProgram[] Programs)
{
    public override string ToString() => $"ProgramBatch({Programs.Length} programs)";
}
