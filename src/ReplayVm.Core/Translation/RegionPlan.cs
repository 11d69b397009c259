using ReplayVm.Core.Hart;

namespace ReplayVm.Core.Translation;

/// <summary>One guest instruction of a region, at its virtual address.</summary>
internal readonly record struct GuestInstruction(ulong Pc, DecodedInstruction Decoded);

/// <summary>
/// The guest code a region covers: every instruction reachable from the entry without leaving the
/// entry's page, through straight-line code, conditional branches (both ways) and direct jumps,
/// cut into basic blocks. Control leaves the region at indirect jumps, at targets on other pages,
/// before instructions the translator leaves to the interpreter, and before breakpoints.
/// </summary>
internal sealed class RegionPlan
{
    /// <summary>Most instructions one region holds: bounds translation time and the method's size.</summary>
    public const int MaxInstructions = 32;

    /// <summary>Parcels (2-byte slots) of a 4 KiB page: where an instruction of the entry's page may start.</summary>
    private const int SlotsPerPage = 2048;

    public ulong Entry { get; }
    public bool EntryIsBreakpoint { get; }
    /// <summary>Basic blocks in address order; the first is the entry's.</summary>
    public IReadOnlyList<GuestInstruction[]> Blocks { get; }
    public int InstructionCount { get; }

    private RegionPlan(ulong entry, bool entryIsBreakpoint, List<GuestInstruction[]> blocks, int count)
    {
        Entry = entry;
        EntryIsBreakpoint = entryIsBreakpoint;
        Blocks = blocks;
        InstructionCount = count;
    }

    /// <summary>Whether a transfer to <paramref name="pc"/> can branch to a block of this region. A
    /// breakpoint entry is not: every arrival there must pass the dispatcher's breakpoint check.</summary>
    public bool HasBlockAt(ulong pc)
    {
        if (pc == Entry && EntryIsBreakpoint) return false;
        foreach (var block in Blocks)
            if (block[0].Pc == pc) return true;
        return false;
    }

    /// <summary>Instructions the region compiles (inline, or as a call to the interpreter's helper).
    /// The rest (traps, returns from traps, WFI, fences that flush, illegal encodings) end it. CSR
    /// accesses are compiled as calls: boot code polls the time CSR in its delay loops, and a write
    /// ends the slice, so the region leaves right after one that may change what it was compiled for.</summary>
    public static bool IsTranslatable(Opcode op) => op switch
    {
        Opcode.NotDecoded or Opcode.Illegal or Opcode.FenceI or Opcode.Ecall or Opcode.Ebreak or Opcode.Mret
            or Opcode.Sret or Opcode.Wfi or Opcode.SfenceVma => false,
        _ => true,
    };

    public static bool IsConditionalBranch(Opcode op) => op is >= Opcode.Beq and <= Opcode.Bgeu;

    /// <summary>Gives the decoded instruction at a pc of the entry's page; false when it cannot be
    /// cached (a 32-bit instruction in the page's last parcel).</summary>
    public delegate bool InstructionSource(ulong pc, out DecodedInstruction decoded);

    /// <summary>Whether a breakpoint is set at a pc.</summary>
    public delegate bool BreakpointTest(ulong pc);

    /// <summary>
    /// Discovers the region at <paramref name="entry"/>. <paramref name="fetch"/> gives the decoded
    /// instructions of the entry's page; <paramref name="isBreakpoint"/> tells breakpoint pcs.
    /// Returns null when the entry instruction itself is not translatable.
    /// </summary>
    /// <remarks>Plain arrays indexed by the parcel within the page, rather than generic collections of
    /// value types: planning runs on the hart's thread, and each generic instantiation over a value
    /// type is JIT-compiled on first use (tens of milliseconds in all, at the first region).</remarks>
    public static RegionPlan? Discover(ulong entry, InstructionSource fetch, BreakpointTest isBreakpoint)
    {
        ulong pageBase = entry & ~(ulong)(SlotsPerPage * 2 - 1);
        var decoded = new DecodedInstruction[SlotsPerPage];
        var present = new bool[SlotsPerPage];
        var leader = new bool[SlotsPerPage];
        int count = 0;
        static int Slot(ulong pc, ulong pageBase) => (int)((pc - pageBase) >> 1);
        bool OnPage(ulong pc) => pc - pageBase < SlotsPerPage * 2;
        bool Translatable(ulong pc, out DecodedInstruction d)
        {
            d = default;
            if (!OnPage(pc) || count >= MaxInstructions) return false;
            if (pc != entry && isBreakpoint(pc)) return false;
            return fetch(pc, out d) && IsTranslatable(d.Op);
        }
        // Each instruction pushes at most one branch target: the stack never holds more than this.
        var work = new ulong[MaxInstructions + 1];
        int top = 0;
        work[top++] = entry;
        leader[Slot(entry, pageBase)] = true;
        while (top > 0)
        {
            ulong pc = work[--top];
            while (true)
            {
                if (OnPage(pc) && present[Slot(pc, pageBase)])
                {
                    leader[Slot(pc, pageBase)] = true; // reached again: the code from here is shared
                    break;
                }
                if (!Translatable(pc, out var d)) break;
                int slot = Slot(pc, pageBase);
                present[slot] = true;
                decoded[slot] = d;
                count++;
                ulong next = pc + d.Length;
                if (IsConditionalBranch(d.Op) || d.Op == Opcode.Jal)
                {
                    ulong target = pc + (ulong)d.Imm;
                    if (OnPage(target))
                    {
                        leader[Slot(target, pageBase)] = true;
                        work[top++] = target;
                    }
                    if (d.Op == Opcode.Jal) break;
                    if (OnPage(next)) leader[Slot(next, pageBase)] = true;
                }
                else if (d.Op == Opcode.Jalr) break;
                pc = next;
            }
        }
        if (!present[Slot(entry, pageBase)]) return null;

        // Basic blocks: from each leader, straight on until a control transfer, an instruction
        // outside the region, or the next leader; in address order, the entry's first.
        var blocks = new List<GuestInstruction[]>();
        var current = new GuestInstruction[MaxInstructions];
        for (int first = 0; first < SlotsPerPage; first++)
        {
            if (!leader[first] || !present[first]) continue;
            int length = 0;
            int slot = first;
            while (slot < SlotsPerPage && present[slot])
            {
                var d = decoded[slot];
                current[length++] = new GuestInstruction(pageBase + (ulong)slot * 2, d);
                if (IsConditionalBranch(d.Op) || d.Op is Opcode.Jal or Opcode.Jalr) break;
                slot += d.Length >> 1;
                if (slot < SlotsPerPage && leader[slot]) break;
            }
            var block = current.AsSpan(0, length).ToArray();
            if (block[0].Pc == entry) blocks.Insert(0, block);
            else blocks.Add(block);
        }
        return new RegionPlan(entry, isBreakpoint(entry), blocks, count);
    }
}
