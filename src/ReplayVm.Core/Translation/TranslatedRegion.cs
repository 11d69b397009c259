using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ReplayVm.Core.Hart;

namespace ReplayVm.Core.Translation;

/// <summary>Compiled guest code: runs from the hart's <see cref="Hart.Hart.Pc"/> and <see cref="Hart.Hart.Steps"/>
/// and leaves both (and the registers) exactly as the interpreter would at the point it stops. Returns
/// the region to run next when it left through a link that is still valid (see <see cref="ExitLink"/>),
/// else null: the dispatcher then looks pc up itself.</summary>
internal delegate TranslatedRegion? RegionCode(Hart.Hart hart);

/// <summary>
/// One exit of a compiled region towards a fixed guest pc (a branch, a direct jump or straight-line
/// code leaving the region): the region found there the last time, so that the next run of the exit
/// hands it to the dispatcher without a lookup (block chaining). It is only a hint: the exit returns
/// it only while its <see cref="TranslatedRegion.Epoch"/> is the hart's translation epoch, which
/// every change a lookup depends on advances (mappings, modes, code, breakpoints, the cache).
/// </summary>
internal sealed class ExitLink(ulong pc)
{
    /// <summary>The guest pc the exit goes to: only a region at this pc may be linked.</summary>
    public readonly ulong Pc = pc;
    public TranslatedRegion? Target;
}

/// <summary>
/// One translated region (see <see cref="RegionPlan"/>), or, with no <see cref="Code"/>, the note
/// that the code at this entry is left to the interpreter (its first instruction is not translated).
/// </summary>
internal sealed unsafe class TranslatedRegion
{
    public TranslatedRegion(ulong virtualPc, RegionCode? code, int instructionCount, bool startsAtBreakpoint, DecodedInstruction[]? helperSlots, bool dataViaTlb)
    {
        DataViaTlb = dataViaTlb;
        VirtualPc = virtualPc;
        Code = code;
        InstructionCount = instructionCount;
        StartsAtBreakpoint = startsAtBreakpoint;
        HelperSlots = helperSlots;
        Chainable = code is not null && !startsAtBreakpoint;
    }

    /// <summary>The virtual address the code was translated for: pc-relative values are baked in, so a
    /// region found through another mapping of the same physical page is not this one.</summary>
    public ulong VirtualPc { get; }
    /// <summary>Whether the code's loads and stores go through the TLB (translation, PMP or watchpoints in force)
    /// or straight to RAM: compiled for one of the two, it is used only while the hart is in that case.</summary>
    public bool DataViaTlb { get; }
    /// <summary>The hart's translation epoch when this region was last found valid for its pc (see the jump cache).</summary>
    public ulong Epoch;
    public RegionCode? Code { get; }
    public int InstructionCount { get; }
    /// <summary>The entry is a breakpoint: the dispatcher checks it before every entry.</summary>
    public bool StartsAtBreakpoint { get; }
    /// <summary>Whether other regions may run this one without the dispatcher: it has code and its
    /// entry is no breakpoint (every arrival at a breakpoint must pass the dispatcher's check).</summary>
    public readonly bool Chainable;
    /// <summary>Pinned copies of the instructions the code hands to the interpreter's A and F/D
    /// executors by reference; the code holds their addresses, so they live as long as the region.</summary>
    public DecodedInstruction[]? HelperSlots { get; }
}

/// <summary>The translations of one physical RAM page, valid while its decode page is the one they were made from.</summary>
internal sealed class TranslationPage
{
    public TranslationPage(DecodedInstruction[] source) => Source = source;

    /// <summary>The decode page these translations were made from: a write to the page drops it
    /// (<see cref="Memory.MainMemory.InvalidateCode"/>), so a different one means they are stale.</summary>
    public DecodedInstruction[] Source { get; }
    public readonly TranslatedRegion?[] Entries = new TranslatedRegion?[Memory.MainMemory.SlotsPerPage];
}

/// <summary>
/// What compiled code depends on besides its guest instructions: where RAM sits and how data
/// accesses go (through the TLB or straight to RAM). It holds no hart's addresses: the code reads
/// those from the hart it runs on, so harts that agree on these and on the code can share it.
/// </summary>
internal readonly record struct RegionSpecialization(ulong RamBase, ulong RamSize, bool DataViaTlb);

/// <summary>
/// A region compiled once, for any hart (see <see cref="TranslationCache"/>): the JIT-compiled method
/// and what it needs alive. Each hart runs its own <see cref="Instantiate"/>d delegate, whose exit
/// links are that hart's: they point at the hart's own <see cref="TranslatedRegion"/>s and are checked
/// against its own translation epoch, so nothing one hart learns while running reaches another.
/// </summary>
internal sealed class CompiledRegion(System.Reflection.Emit.DynamicMethod method, ulong[] linkPcs, DecodedInstruction[]? helperSlots,
    int instructionCount, bool entryIsBreakpoint)
{
    /// <summary>Pinned copies of the instructions the code hands to the interpreter's executors by
    /// address (read only), kept alive as long as the code.</summary>
    public DecodedInstruction[]? HelperSlots { get; } = helperSlots;
    public int InstructionCount { get; } = instructionCount;
    public bool EntryIsBreakpoint { get; } = entryIsBreakpoint;

    /// <summary>A delegate running the code with fresh exit links (no JIT: the method is compiled once).</summary>
    public RegionCode Instantiate()
    {
        var links = new ExitLink[linkPcs.Length];
        for (int i = 0; i < links.Length; i++) links[i] = new ExitLink(linkPcs[i]);
        return method.CreateDelegate<RegionCode>(links);
    }
}

internal static class PinnedSlots
{
    public static unsafe DecodedInstruction[] Allocate(IReadOnlyList<DecodedInstruction> instructions, out nint address)
    {
        var slots = GC.AllocateArray<DecodedInstruction>(Math.Max(1, instructions.Count), pinned: true);
        for (int i = 0; i < instructions.Count; i++) slots[i] = instructions[i];
        address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(slots));
        return slots;
    }
}
