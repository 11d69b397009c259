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

    public ulong Entry { get; }
    public bool EntryIsBreakpoint { get; }
    /// <summary>Basic blocks in address order; the first is the entry's.</summary>
    public IReadOnlyList<GuestInstruction[]> Blocks { get; }
    public int InstructionCount { get; }
    private readonly HashSet<ulong> _blockStarts;

    private RegionPlan(ulong entry, bool entryIsBreakpoint, List<GuestInstruction[]> blocks, int count)
    {
        Entry = entry;
        EntryIsBreakpoint = entryIsBreakpoint;
        Blocks = blocks;
        InstructionCount = count;
        _blockStarts = blocks.Select(b => b[0].Pc).ToHashSet();
    }

    /// <summary>Whether a transfer to <paramref name="pc"/> can branch to a block of this region. A
    /// breakpoint entry is not: every arrival there must pass the dispatcher's breakpoint check.</summary>
    public bool HasBlockAt(ulong pc) => _blockStarts.Contains(pc) && !(pc == Entry && EntryIsBreakpoint);

    /// <summary>Instructions the region compiles (inline, or as a call to the interpreter's helper).
    /// The rest (CSRs, traps, returns from traps, WFI, fences that flush, illegal encodings) end it.</summary>
    public static bool IsTranslatable(Opcode op) => op switch
    {
        Opcode.NotDecoded or Opcode.Illegal or Opcode.FenceI or Opcode.Ecall or Opcode.Ebreak or Opcode.Mret
            or Opcode.Sret or Opcode.Wfi or Opcode.SfenceVma => false,
        >= Opcode.Csrrw and <= Opcode.Csrrci => false,
        _ => true,
    };

    public static bool IsConditionalBranch(Opcode op) => op is >= Opcode.Beq and <= Opcode.Bgeu;

    /// <summary>
    /// Discovers the region at <paramref name="entry"/>. <paramref name="fetch"/> gives the decoded
    /// instruction at a pc of the entry's page (false when it cannot be cached: a 32-bit
    /// instruction in the page's last parcel); <paramref name="isBreakpoint"/> tells breakpoint pcs.
    /// Returns null when the entry instruction itself is not translatable.
    /// </summary>
    public static RegionPlan? Discover(ulong entry, Func<ulong, (bool Ok, DecodedInstruction Decoded)> fetch, Func<ulong, bool> isBreakpoint)
    {
        ulong page = entry >> 12;
        var instructions = new SortedDictionary<ulong, DecodedInstruction>();
        var leaders = new HashSet<ulong> { entry };
        var work = new Stack<ulong>();
        work.Push(entry);
        bool Translatable(ulong pc, out DecodedInstruction d)
        {
            d = default;
            if (pc >> 12 != page || instructions.Count >= MaxInstructions) return false;
            if (pc != entry && isBreakpoint(pc)) return false;
            var (ok, decoded) = fetch(pc);
            if (!ok || !IsTranslatable(decoded.Op)) return false;
            d = decoded;
            return true;
        }
        while (work.Count > 0)
        {
            ulong pc = work.Pop();
            while (true)
            {
                if (instructions.ContainsKey(pc))
                {
                    leaders.Add(pc); // reached again: the code from here is shared
                    break;
                }
                if (!Translatable(pc, out var d)) break;
                instructions[pc] = d;
                ulong next = pc + d.Length;
                if (IsConditionalBranch(d.Op))
                {
                    ulong target = pc + (ulong)d.Imm;
                    if (target >> 12 == page) { leaders.Add(target); work.Push(target); }
                    leaders.Add(next);
                }
                else if (d.Op == Opcode.Jal)
                {
                    ulong target = pc + (ulong)d.Imm;
                    if (target >> 12 == page) { leaders.Add(target); work.Push(target); }
                    break;
                }
                else if (d.Op == Opcode.Jalr) break;
                pc = next;
            }
        }
        if (!instructions.ContainsKey(entry)) return null;

        // Basic blocks: from each leader, straight on until a control transfer, an instruction
        // outside the region, or the next leader.
        var blocks = new List<GuestInstruction[]>();
        var current = new List<GuestInstruction>();
        foreach (ulong leader in leaders.Where(instructions.ContainsKey).Order())
        {
            ulong pc = leader;
            current.Clear();
            while (instructions.TryGetValue(pc, out var d))
            {
                current.Add(new GuestInstruction(pc, d));
                if (IsConditionalBranch(d.Op) || d.Op is Opcode.Jal or Opcode.Jalr) break;
                pc += d.Length;
                if (leaders.Contains(pc)) break;
            }
            blocks.Add(current.ToArray());
        }
        // The entry's block first: the compiled method starts there.
        int entryIndex = blocks.FindIndex(b => b[0].Pc == entry);
        (blocks[0], blocks[entryIndex]) = (blocks[entryIndex], blocks[0]);
        return new RegionPlan(entry, isBreakpoint(entry), blocks, blocks.Sum(b => b.Length));
    }
}
