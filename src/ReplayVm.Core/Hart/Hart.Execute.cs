using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;
using ReplayVm.Core.Memory;

namespace ReplayVm.Core.Hart;

public sealed unsafe partial class Hart
{
    /// <summary>
    /// Runs instructions until <see cref="Steps"/> reaches <see cref="SliceEnd"/>. Fetch, decode-cache
    /// lookup and execution share one method so the JIT keeps the loop's state in registers. One
    /// switch over a dense enum compiles to a jump table; each case either completes (writes rd,
    /// advances pc) or raises an exception and leaves the architectural state as it was, as the
    /// spec requires of a trapping instruction (both count as a step).
    /// </summary>
    public void RunSlice(ulong sliceEnd)
    {
        SliceEnd = sliceEnd;
        TranslatorStats.Slices++;
        // Executed pages are noted at the interpreter's loop top and, for translated code, where the
        // dispatcher runs each region (a region never leaves its entry's page); stores are noted where
        // they are translated, which translated code does through the same TLB (Hart.StoredPages).
        if (_engine == Translation.ExecutionEngine.Translator) RunTranslated();
        else Interpret();
    }

    /// <summary>The interpreter: runs until <see cref="Steps"/> reaches <see cref="SliceEnd"/> (or, for
    /// the translator, <see cref="_returnAtTransfer"/>, until a trap or a taken control transfer to translated or
    /// newly hot code, see <see cref="DispatchAt"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Interpret()
    {
        // Step count and pc live in registers. The fields are stored, never reloaded, where another
        // method may look at them: on the full fetch path below, at the slice's end, at the top of
        // every case that calls out (CSRs, traps, A, F and D) and before a load's or store's slow
        // path. The cases that stay inside this method — arithmetic, branches, jumps, loads and
        // stores that hit — skip those stores, so on the fast path the fields may lag behind: any
        // new case that calls out must store them first.
        ulong* x = _xp; // a local copy: stores through pointers would otherwise force the JIT to reload the field
        ulong steps = Steps;
        ulong pc = Pc;
        while (steps < SliceEnd)
        {
        Steps = steps;
        Pc = pc;
        if (_executedPages is not null && pc >> 12 != _lastExecutedPage) NoteExecutedPage(pc);
        // Breakpoints are looked for only here, on pages the filter names (see Hart.BreakpointPages).
        bool breakpointPage = false;
        if (_breakpoints is not null && BreakpointFilterHits(pc))
        {
            if (StopsAtBreakpoint(pc, steps)) break;
            breakpointPage = true;
        }
        // The common case inline: the page's decode slot already holds the instruction. Anything
        // else — first execution, a TLB miss, a split or uncached fetch — goes out of line, which
        // keeps this loop's registers free for its own state.
        ref DecodedInstruction d = ref Unsafe.NullRef<DecodedInstruction>();
        ulong offset = pc - _ramBase;
        if (_fetchViaTlb)
        {
            // A new page (a call, a return, a jump elsewhere) whose fetch translation the TLB holds
            // becomes the fetch page here, rather than on the slow path: an OS kernel changes pages
            // every few dozen instructions.
            if (pc >> 12 != _fetchVirtualPage && _tlbPointer[(pc >> 12) & TlbMask].ExecuteTag == pc >> 12)
            {
                _fetchVirtualPage = pc >> 12;
                _fetchPhysicalPage = _tlbPointer[(pc >> 12) & TlbMask].PhysicalPage;
            }
            offset = pc >> 12 == _fetchVirtualPage && (pc & PageMask) != PageMask - 1
                ? (_fetchPhysicalPage | (pc & PageMask)) - _ramBase
                : ulong.MaxValue; // not in the fetch TLB, or split: the slow path translates
        }
        DecodedInstruction[]? page;
        // offset < _ramSize bounds both indexes, so they are taken without the JIT's checks.
        if (offset < _ramSize && (page = MainMemory.DecodedPageAt(_decodedChunks, offset)) is not null)
            d = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(page), (nint)((offset & (MainMemory.PageSize - 1)) >> 1));
        if (Unsafe.IsNullRef(ref d) || d.Op == Opcode.NotDecoded || _stepByStep || breakpointPage)
        {
            d = ref FetchSlow(pc, breakpointPage, out bool retry);
            if (Unsafe.IsNullRef(ref d))
            {
                if (retry) continue; // same pc, same step: now the page exists
                goto trapped;
            }
        }
        ulong target; // where a control transfer goes; pc keeps the transferring instruction's address
        execute:
        switch (d.Op)
        {
            case Opcode.Lui: x[d.Rd] = (ulong)d.Imm; break;
            case Opcode.Auipc: x[d.Rd] = pc + (ulong)d.Imm; break;
            // Control transfers leave through `jumped` with their destination in `target`.
            case Opcode.Jal: x[d.Rd] = pc + d.Length; target = pc + (ulong)d.Imm; goto jumped;
            case Opcode.Jalr:
            {
                target = (x[d.Rs1] + (ulong)d.Imm) & ~1UL;
                x[d.Rd] = pc + d.Length;
                goto jumped;
            }
            case Opcode.Beq: if (x[d.Rs1] == x[d.Rs2]) { target = pc + (ulong)d.Imm; goto jumped; } break;
            case Opcode.Bne: if (x[d.Rs1] != x[d.Rs2]) { target = pc + (ulong)d.Imm; goto jumped; } break;
            case Opcode.Blt: if ((long)x[d.Rs1] < (long)x[d.Rs2]) { target = pc + (ulong)d.Imm; goto jumped; } break;
            case Opcode.Bge: if ((long)x[d.Rs1] >= (long)x[d.Rs2]) { target = pc + (ulong)d.Imm; goto jumped; } break;
            case Opcode.Bltu: if (x[d.Rs1] < x[d.Rs2]) { target = pc + (ulong)d.Imm; goto jumped; } break;
            case Opcode.Bgeu: if (x[d.Rs1] >= x[d.Rs2]) { target = pc + (ulong)d.Imm; goto jumped; } break;

            // Loads and stores store the step count and pc only before their slow path (a TLB miss,
            // MMIO, a fault): the fast path reads neither.
            case Opcode.Lb: { ulong a = x[d.Rs1] + (ulong)d.Imm; if (!TryLoadFast(a, out byte v)) { Steps = steps; Pc = pc; if (!LoadSlow(a, out v)) goto trapped; } x[d.Rd] = (ulong)(sbyte)v; break; }
            case Opcode.Lh: { ulong a = x[d.Rs1] + (ulong)d.Imm; if (!TryLoadFast(a, out ushort v)) { Steps = steps; Pc = pc; if (!LoadSlow(a, out v)) goto trapped; } x[d.Rd] = (ulong)(short)v; break; }
            case Opcode.Lw: { ulong a = x[d.Rs1] + (ulong)d.Imm; if (!TryLoadFast(a, out uint v)) { Steps = steps; Pc = pc; if (!LoadSlow(a, out v)) goto trapped; } x[d.Rd] = (ulong)(int)v; break; }
            case Opcode.Ld: { ulong a = x[d.Rs1] + (ulong)d.Imm; if (!TryLoadFast(a, out ulong v)) { Steps = steps; Pc = pc; if (!LoadSlow(a, out v)) goto trapped; } x[d.Rd] = v; break; }
            case Opcode.Lbu: { ulong a = x[d.Rs1] + (ulong)d.Imm; if (!TryLoadFast(a, out byte v)) { Steps = steps; Pc = pc; if (!LoadSlow(a, out v)) goto trapped; } x[d.Rd] = v; break; }
            case Opcode.Lhu: { ulong a = x[d.Rs1] + (ulong)d.Imm; if (!TryLoadFast(a, out ushort v)) { Steps = steps; Pc = pc; if (!LoadSlow(a, out v)) goto trapped; } x[d.Rd] = v; break; }
            case Opcode.Lwu: { ulong a = x[d.Rs1] + (ulong)d.Imm; if (!TryLoadFast(a, out uint v)) { Steps = steps; Pc = pc; if (!LoadSlow(a, out v)) goto trapped; } x[d.Rd] = v; break; }
            case Opcode.Sb: { ulong a = x[d.Rs1] + (ulong)d.Imm; if (!TryStoreFast(a, (byte)x[d.Rs2])) { Steps = steps; Pc = pc; if (!StoreSlow(a, (byte)x[d.Rs2])) goto trapped; } break; }
            case Opcode.Sh: { ulong a = x[d.Rs1] + (ulong)d.Imm; if (!TryStoreFast(a, (ushort)x[d.Rs2])) { Steps = steps; Pc = pc; if (!StoreSlow(a, (ushort)x[d.Rs2])) goto trapped; } break; }
            case Opcode.Sw: { ulong a = x[d.Rs1] + (ulong)d.Imm; if (!TryStoreFast(a, (uint)x[d.Rs2])) { Steps = steps; Pc = pc; if (!StoreSlow(a, (uint)x[d.Rs2])) goto trapped; } break; }
            case Opcode.Sd: { ulong a = x[d.Rs1] + (ulong)d.Imm; if (!TryStoreFast(a, x[d.Rs2])) { Steps = steps; Pc = pc; if (!StoreSlow(a, x[d.Rs2])) goto trapped; } break; }

            case Opcode.Addi: x[d.Rd] = x[d.Rs1] + (ulong)d.Imm; break;
            case Opcode.Slti: x[d.Rd] = (long)x[d.Rs1] < d.Imm ? 1UL : 0; break;
            case Opcode.Sltiu: x[d.Rd] = x[d.Rs1] < (ulong)d.Imm ? 1UL : 0; break;
            case Opcode.Xori: x[d.Rd] = x[d.Rs1] ^ (ulong)d.Imm; break;
            case Opcode.Ori: x[d.Rd] = x[d.Rs1] | (ulong)d.Imm; break;
            case Opcode.Andi: x[d.Rd] = x[d.Rs1] & (ulong)d.Imm; break;
            case Opcode.Slli: x[d.Rd] = x[d.Rs1] << (int)d.Imm; break;
            case Opcode.Srli: x[d.Rd] = x[d.Rs1] >> (int)d.Imm; break;
            case Opcode.Srai: x[d.Rd] = (ulong)((long)x[d.Rs1] >> (int)d.Imm); break;
            case Opcode.Add: x[d.Rd] = x[d.Rs1] + x[d.Rs2]; break;
            case Opcode.Sub: x[d.Rd] = x[d.Rs1] - x[d.Rs2]; break;
            case Opcode.Sll: x[d.Rd] = x[d.Rs1] << (int)(x[d.Rs2] & 63); break;
            case Opcode.Slt: x[d.Rd] = (long)x[d.Rs1] < (long)x[d.Rs2] ? 1UL : 0; break;
            case Opcode.Sltu: x[d.Rd] = x[d.Rs1] < x[d.Rs2] ? 1UL : 0; break;
            case Opcode.Xor: x[d.Rd] = x[d.Rs1] ^ x[d.Rs2]; break;
            case Opcode.Srl: x[d.Rd] = x[d.Rs1] >> (int)(x[d.Rs2] & 63); break;
            case Opcode.Sra: x[d.Rd] = (ulong)((long)x[d.Rs1] >> (int)(x[d.Rs2] & 63)); break;
            case Opcode.Or: x[d.Rd] = x[d.Rs1] | x[d.Rs2]; break;
            case Opcode.And: x[d.Rd] = x[d.Rs1] & x[d.Rs2]; break;
            case Opcode.Addiw: x[d.Rd] = (ulong)(int)(x[d.Rs1] + (ulong)d.Imm); break;
            case Opcode.Slliw: x[d.Rd] = (ulong)(int)((uint)x[d.Rs1] << (int)d.Imm); break;
            case Opcode.Srliw: x[d.Rd] = (ulong)(int)((uint)x[d.Rs1] >> (int)d.Imm); break;
            case Opcode.Sraiw: x[d.Rd] = (ulong)((int)x[d.Rs1] >> (int)d.Imm); break;
            case Opcode.Addw: x[d.Rd] = (ulong)(int)(x[d.Rs1] + x[d.Rs2]); break;
            case Opcode.Subw: x[d.Rd] = (ulong)(int)(x[d.Rs1] - x[d.Rs2]); break;
            case Opcode.Sllw: x[d.Rd] = (ulong)(int)((uint)x[d.Rs1] << (int)(x[d.Rs2] & 31)); break;
            case Opcode.Srlw: x[d.Rd] = (ulong)(int)((uint)x[d.Rs1] >> (int)(x[d.Rs2] & 31)); break;
            case Opcode.Sraw: x[d.Rd] = (ulong)((int)x[d.Rs1] >> (int)(x[d.Rs2] & 31)); break;

            case Opcode.Mul: x[d.Rd] = x[d.Rs1] * x[d.Rs2]; break;
            case Opcode.Mulh: x[d.Rd] = MulDiv.MulHighSigned(x[d.Rs1], x[d.Rs2]); break;
            case Opcode.Mulhsu: x[d.Rd] = MulDiv.MulHighSignedUnsigned(x[d.Rs1], x[d.Rs2]); break;
            case Opcode.Mulhu: x[d.Rd] = Math.BigMul(x[d.Rs1], x[d.Rs2], out _); break;
            case Opcode.Div: x[d.Rd] = MulDiv.Div(x[d.Rs1], x[d.Rs2]); break;
            case Opcode.Divu: x[d.Rd] = MulDiv.Divu(x[d.Rs1], x[d.Rs2]); break;
            case Opcode.Rem: x[d.Rd] = MulDiv.Rem(x[d.Rs1], x[d.Rs2]); break;
            case Opcode.Remu: x[d.Rd] = MulDiv.Remu(x[d.Rs1], x[d.Rs2]); break;
            case Opcode.Mulw: x[d.Rd] = (ulong)(int)((uint)x[d.Rs1] * (uint)x[d.Rs2]); break;
            case Opcode.Divw: x[d.Rd] = MulDiv.Divw(x[d.Rs1], x[d.Rs2]); break;
            case Opcode.Divuw: x[d.Rd] = MulDiv.Divuw(x[d.Rs1], x[d.Rs2]); break;
            case Opcode.Remw: x[d.Rd] = MulDiv.Remw(x[d.Rs1], x[d.Rs2]); break;
            case Opcode.Remuw: x[d.Rd] = MulDiv.Remuw(x[d.Rs1], x[d.Rs2]); break;

            case Opcode.Fence: break;
            case Opcode.FenceI: Steps = steps; Pc = pc; _ram.InvalidateAllCode(); SliceEnd = 0; break;

            case Opcode.Csrrw: case Opcode.Csrrs: case Opcode.Csrrc:
            case Opcode.Csrrwi: case Opcode.Csrrsi: case Opcode.Csrrci:
                Steps = steps; Pc = pc;
                if (!ExecuteCsr(ref d)) goto trapped;
                break;

            case Opcode.Ecall:
                Steps = steps; Pc = pc;
                RaiseException(Mode switch
                {
                    PrivilegeLevel.User => ExceptionCause.EcallFromU,
                    PrivilegeLevel.Supervisor => ExceptionCause.EcallFromS,
                    _ => ExceptionCause.EcallFromM,
                }, 0);
                goto trapped;
            case Opcode.Ebreak:
                Steps = steps; Pc = pc;
                // The spec (3.1.16) lets mtval be the pc or zero here; QEMU 7.2 writes zero, and so do we.
                RaiseException(ExceptionCause.Breakpoint, 0);
                goto trapped;
            case Opcode.Mret:
                Steps = steps; Pc = pc;
                if (Mode != PrivilegeLevel.Machine) { IllegalInstruction(ref d); goto trapped; }
                target = ReturnFromMachineTrap();
                goto jumped;
            case Opcode.Sret:
                Steps = steps; Pc = pc;
                if (Mode == PrivilegeLevel.User || (Mode == PrivilegeLevel.Supervisor && (_mstatus & Mstatus.Tsr) != 0))
                {
                    IllegalInstruction(ref d);
                    goto trapped;
                }
                target = ReturnFromSupervisorTrap();
                goto jumped;
            case Opcode.Wfi:
                Steps = steps; Pc = pc;
                // Spec 3.1.6.5: TW makes WFI illegal below M; with S-mode present, U-mode WFI traps too.
                if (Mode == PrivilegeLevel.User || (Mode == PrivilegeLevel.Supervisor && (_mstatus & Mstatus.Tw) != 0))
                {
                    IllegalInstruction(ref d);
                    goto trapped;
                }
                WaitingForInterrupt = true;
                SliceEnd = 0;
                break;
            case Opcode.SfenceVma:
                Steps = steps; Pc = pc;
                if (Mode == PrivilegeLevel.User || (Mode == PrivilegeLevel.Supervisor && (_mstatus & Mstatus.Tvm) != 0))
                {
                    IllegalInstruction(ref d);
                    goto trapped;
                }
                // Nothing to flush: the TLB and the walk cache never hold a translation the page tables
                // no longer give (Hart.PageTableCoherence.cs), so the fence's ordering is already met.
                break;

            case Opcode.NotDecoded:
                // An empty slot, reached from the instruction before it (straight-line or a jump within
                // the page, below): pc and steps are already past that one, and its fetch goes the full
                // path at the loop's top. While register watches are set, every instruction runs from the
                // uncached slot, whose neighbours are empty: each one's write is checked here.
                if (_watchingRegisters) CheckRegisterWrite(ref MemoryMarshal.GetArrayDataReference(_uncachedSlot));
                continue;
            case Opcode.Illegal:
                Steps = steps; Pc = pc;
                IllegalInstruction(ref d);
                goto trapped;

            // Every case above is a single constant, so the switch compiles to one jump table with one
            // bounds test; the A and F/D groups, each a range of the enum, are told apart here.
            default:
                Steps = steps; Pc = pc;
                if (d.Op >= Opcode.Flw)
                {
                    if (!ExecuteFloat(ref d)) goto trapped;
                    break;
                }
                if (d.Op is >= Opcode.LrW and <= Opcode.AmomaxuD)
                {
                    if (!ExecuteAtomic(ref d)) goto trapped;
                    break;
                }
                IllegalInstruction(ref d);
                goto trapped;
        }
        // Straight-line code: the next instruction is in the next slot of the same decode page, so
        // the lookup above can be skipped. Whatever could make that slot stale (a store into a page
        // holding code, FENCE.I) ends the slice, which the SliceEnd test catches. An empty slot
        // (its case in the switch) sends the next instruction through the full path: so does leaving the page (its decode
        // page ends in a slot that is always empty, see MainMemory.DecodePageLength), an uncached
        // instruction (whose neighbour slots are always empty, see _uncachedSlot), which is what every
        // instruction is while register watches are set, a breakpoint's slot in a page's breakpoint
        // shadow (see Hart.BreakpointPages), and a 32-bit instruction
        // in the page's last parcel, which is never cached. (A slot in that last parcel that does
        // hold an instruction holds a 16-bit one, wholly inside the page.)
        ulong length = d.Length;
        pc += length;
        steps++;
        if (steps < SliceEnd)
        {
            d = ref Unsafe.AddByteOffset(ref d, (nint)(length * 8)); // length / 2 slots of 16 bytes
            goto execute;
        }
        if (_watchingRegisters) CheckRegisterWrite(ref d);
        continue;
        jumped:
        steps++;
        if (_returnAtTransfer && DispatchAt(target, steps))
        {
            pc = target;
            break;
        }
        // A taken branch or jump that stays in its page (loops, mostly) finds its target's slot
        // from this one, as straight-line code does: same virtual page, so the same physical page
        // and decode page (the fetch translation cannot change without ending the slice). pc still
        // holds the jumping instruction's address. An uncached instruction has no page to look in.
        if (steps < SliceEnd && ((pc ^ target) & ~PageMask) == 0
            && Unsafe.AsPointer(ref d) != _uncachedPointer)
        {
            d = ref Unsafe.Add(ref d, (nint)((long)(target - pc) >> 1));
            pc = target;
            goto execute;
        }
        pc = target; // before the call, so that target needs no stack slot; the check reads the field Pc
        if (_watchingRegisters) CheckRegisterWrite(ref d);
        continue;
        trapped:
        pc = Pc; // the exception moved pc to the trap vector
        steps++;
        if (_returnAtTransfer) break;
        }
        Steps = steps;
        Pc = pc;
    }

    /// <summary>Where executed pages are noted (<see cref="ExecutedPages"/>); null while none is kept.</summary>
    private ExecutedPageLog? _executedPages;
    /// <summary>The page noted last: the loop top calls out only when pc has left it.</summary>
    private ulong _lastExecutedPage = ulong.MaxValue;

    /// <summary>
    /// Told the virtual page of every instruction the hart fetches (see <see cref="ExecutedPageLog"/>)
    /// or runs translated; null (the default) for none.
    /// </summary>
    public ExecutedPageLog? ExecutedPages
    {
        get => _executedPages;
        set
        {
            _executedPages = value;
            _lastExecutedPage = ulong.MaxValue;
        }
    }

    /// <summary>Call after clearing the log (between slices): the page the hart is on is noted again when it next fetches from it.</summary>
    public void ExecutedPagesCleared() => _lastExecutedPage = ulong.MaxValue;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void NoteExecutedPage(ulong pc)
    {
        _lastExecutedPage = pc >> 12;
        _executedPages!.NotePc(pc);
    }

    /// <summary>Illegal-instruction trap with the instruction's bits in mtval, as QEMU reports them (spec 3.1.16 allows it).</summary>
    private void IllegalInstruction(ref DecodedInstruction d) =>
        RaiseException(ExceptionCause.IllegalInstruction, d.Op == Opcode.Illegal ? (ulong)d.Imm : RawBitsAtPc(d.Length));

    /// <summary>
    /// Re-reads the current instruction's encoding (the decode cache does not keep it for valid
    /// instructions) at the virtual pc, through the page tables as the fetch that just ran saw them:
    /// read at pc as a physical address, an S- or U-mode instruction trapping with paging on (a CSR
    /// it may not touch, sret under TSR) reported another page's bits. The read changes nothing: the
    /// fetch already filled the TLB and set the A bit.
    /// </summary>
    private ulong RawBitsAtPc(int length)
    {
        Span<byte> bits = stackalloc byte[4];
        bits.Clear();
        return VirtualMemoryView.Read(this, Pc, bits[..length]) ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bits) : 0;
    }
}
