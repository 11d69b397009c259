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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void RunSlice(ulong sliceEnd)
    {
        SliceEnd = sliceEnd;
        // Step count and pc live in registers; the fields are only stored (never reloaded) each
        // iteration, so nothing waits on memory, yet helpers that look at them see current values.
        ulong* x = _xp; // a local copy: stores through pointers would otherwise force the JIT to reload the field
        ulong steps = Steps;
        ulong pc = Pc;
        while (steps < SliceEnd)
        {
        Steps = steps;
        Pc = pc;
        if (_breakpoints is not null && StopsAtBreakpoint(pc, steps)) break;
        ulong fetch = pc;
        ref DecodedInstruction d = ref Unsafe.NullRef<DecodedInstruction>();
        bool cached = false;
        if (_fetchViaTlb)
        {
            if (pc >> 12 == _fetchVirtualPage) fetch = _fetchPhysicalPage | (pc & PageMask);
            else if (!TranslateFetch(pc, out fetch)) goto trapped;
            if ((pc & PageMask) == PageMask - 1)
            {
                d = ref _uncachedSlot[0];
            if (!FetchAcrossPage(pc, fetch, ref d)) goto trapped;
                goto execute;
            }
        }
        ulong offset = fetch - _ramBase;
        DecodedInstruction[]? page;
        // offset < _ramSize bounds both indexes, so they are taken without the JIT's checks.
        if (offset < _ramSize && (page = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_decodedPages), (nint)(offset >> MainMemory.PageShift))) is not null)
        {
            d = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(page), (nint)((offset & (MainMemory.PageSize - 1)) >> 1));
            cached = !_stepByStep; // with breakpoints or register watches set, every instruction comes through here
            if (d.Op == Opcode.NotDecoded)
            {
                if (!DecodeInto(ref d, offset)) goto trapped;
                if (d.Length == 4 && (offset & PageMask) == PageMask - 1)
                {
                    // Its upper half lies on the next page, which a store could change without this
                    // page knowing: such an instruction is executed from a private slot, never cached.
                    _uncachedSlot[0] = d;
                    d = default;
                    d = ref _uncachedSlot[0];
                    cached = false;
                }
            }
        }
        else
        {
            d = ref _uncachedSlot[0];
            if (!FetchUncached(fetch, offset, ref d, out bool retry))
            {
                if (retry) continue; // same pc, same step: now the page exists
                goto trapped;
            }
        }
        execute:
        switch (d.Op)
        {
            case Opcode.Lui: x[d.Rd] = (ulong)d.Imm; break;
            case Opcode.Auipc: x[d.Rd] = pc + (ulong)d.Imm; break;
            // Control transfers leave through `jumped`: the next instruction needs a full lookup.
            case Opcode.Jal: x[d.Rd] = pc + d.Length; pc += (ulong)d.Imm; goto jumped;
            case Opcode.Jalr:
            {
                ulong target = (x[d.Rs1] + (ulong)d.Imm) & ~1UL;
                x[d.Rd] = pc + d.Length;
                pc = target;
                goto jumped;
            }
            case Opcode.Beq: if (x[d.Rs1] == x[d.Rs2]) { pc += (ulong)d.Imm; goto jumped; } break;
            case Opcode.Bne: if (x[d.Rs1] != x[d.Rs2]) { pc += (ulong)d.Imm; goto jumped; } break;
            case Opcode.Blt: if ((long)x[d.Rs1] < (long)x[d.Rs2]) { pc += (ulong)d.Imm; goto jumped; } break;
            case Opcode.Bge: if ((long)x[d.Rs1] >= (long)x[d.Rs2]) { pc += (ulong)d.Imm; goto jumped; } break;
            case Opcode.Bltu: if (x[d.Rs1] < x[d.Rs2]) { pc += (ulong)d.Imm; goto jumped; } break;
            case Opcode.Bgeu: if (x[d.Rs1] >= x[d.Rs2]) { pc += (ulong)d.Imm; goto jumped; } break;

            case Opcode.Lb: { if (!Load8(x[d.Rs1] + (ulong)d.Imm, out byte v)) goto trapped; x[d.Rd] = (ulong)(sbyte)v; break; }
            case Opcode.Lh: { if (!Load16(x[d.Rs1] + (ulong)d.Imm, out ushort v)) goto trapped; x[d.Rd] = (ulong)(short)v; break; }
            case Opcode.Lw: { if (!Load32(x[d.Rs1] + (ulong)d.Imm, out uint v)) goto trapped; x[d.Rd] = (ulong)(int)v; break; }
            case Opcode.Ld: { if (!Load64(x[d.Rs1] + (ulong)d.Imm, out ulong v)) goto trapped; x[d.Rd] = v; break; }
            case Opcode.Lbu: { if (!Load8(x[d.Rs1] + (ulong)d.Imm, out byte v)) goto trapped; x[d.Rd] = v; break; }
            case Opcode.Lhu: { if (!Load16(x[d.Rs1] + (ulong)d.Imm, out ushort v)) goto trapped; x[d.Rd] = v; break; }
            case Opcode.Lwu: { if (!Load32(x[d.Rs1] + (ulong)d.Imm, out uint v)) goto trapped; x[d.Rd] = v; break; }
            case Opcode.Sb: if (!Store8(x[d.Rs1] + (ulong)d.Imm, (byte)x[d.Rs2])) goto trapped; break;
            case Opcode.Sh: if (!Store16(x[d.Rs1] + (ulong)d.Imm, (ushort)x[d.Rs2])) goto trapped; break;
            case Opcode.Sw: if (!Store32(x[d.Rs1] + (ulong)d.Imm, (uint)x[d.Rs2])) goto trapped; break;
            case Opcode.Sd: if (!Store64(x[d.Rs1] + (ulong)d.Imm, x[d.Rs2])) goto trapped; break;

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
            case Opcode.FenceI: _ram.InvalidateAllCode(); SliceEnd = 0; break;

            case >= Opcode.LrW and <= Opcode.AmomaxuD:
                if (!ExecuteAtomic(ref d)) goto trapped;
                break;

            case >= Opcode.Flw:
                if (!ExecuteFloat(ref d)) goto trapped;
                break;

            case >= Opcode.Csrrw and <= Opcode.Csrrci:
                if (!ExecuteCsr(ref d)) goto trapped;
                break;

            case Opcode.Ecall:
                RaiseException(Mode switch
                {
                    PrivilegeLevel.User => ExceptionCause.EcallFromU,
                    PrivilegeLevel.Supervisor => ExceptionCause.EcallFromS,
                    _ => ExceptionCause.EcallFromM,
                }, 0);
                goto trapped;
            case Opcode.Ebreak:
                // The spec (3.1.16) lets mtval be the pc or zero here; QEMU 7.2 writes zero, and so do we.
                RaiseException(ExceptionCause.Breakpoint, 0);
                goto trapped;
            case Opcode.Mret:
                if (Mode != PrivilegeLevel.Machine) { IllegalInstruction(ref d); goto trapped; }
                pc = ReturnFromMachineTrap();
                goto jumped;
            case Opcode.Sret:
                if (Mode == PrivilegeLevel.User || (Mode == PrivilegeLevel.Supervisor && (_mstatus & Mstatus.Tsr) != 0))
                {
                    IllegalInstruction(ref d);
                    goto trapped;
                }
                pc = ReturnFromSupervisorTrap();
                goto jumped;
            case Opcode.Wfi:
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
                if (Mode == PrivilegeLevel.User || (Mode == PrivilegeLevel.Supervisor && (_mstatus & Mstatus.Tvm) != 0))
                {
                    IllegalInstruction(ref d);
                    goto trapped;
                }
                TranslationChanged(); // the TLB is flushed whole, whatever the address and ASID
                break;

            default:
                IllegalInstruction(ref d);
                goto trapped;
        }
        // Straight-line code: the next instruction is in the next slot of the same decode page, so
        // the lookup above can be skipped. Whatever could make that slot stale (a store into a page
        // holding code, FENCE.I) ends the slice, which the SliceEnd test catches. Leaving the page,
        // and the page's last parcel (a possibly split fetch), take the full path.
        ulong length = d.Length;
        ulong offsetInPage = (pc & PageMask) + length;
        pc += length;
        steps++;
        if (offsetInPage < PageMask - 1 && cached && steps < SliceEnd)
        {
            d = ref Unsafe.Add(ref d, (nint)(length >> 1));
            if (d.Op != Opcode.NotDecoded)
            {
                Steps = steps;
                Pc = pc;
                goto execute;
            }
        }
        // Only reached off the fast path, and never with d moved on: register watches turn it off.
        if (_watchingRegisters) CheckRegisterWrite(ref d);
        continue;
        jumped:
        if (_watchingRegisters) CheckRegisterWrite(ref d);
        steps++;
        // A taken branch or jump that stays in its page (loops, mostly) finds its target's slot
        // from this one, as straight-line code does: same virtual page, so the same physical page
        // and decode page (the fetch translation cannot change without ending the slice). Pc still
        // holds the jumping instruction's address. The page's last parcel takes the full path.
        if (cached && steps < SliceEnd && ((pc ^ Pc) & ~PageMask) == 0 && (pc & PageMask) < PageMask - 1)
        {
            d = ref Unsafe.Add(ref d, (nint)((long)(pc - Pc) >> 1));
            if (d.Op != Opcode.NotDecoded)
            {
                Steps = steps;
                Pc = pc;
                goto execute;
            }
        }
        continue;
        trapped:
        pc = Pc; // the exception moved pc to the trap vector
        steps++;
        }
        Steps = steps;
        Pc = pc;
    }

    /// <summary>Illegal-instruction trap with the instruction's bits in mtval, as QEMU reports them (spec 3.1.16 allows it).</summary>
    private void IllegalInstruction(ref DecodedInstruction d) =>
        RaiseException(ExceptionCause.IllegalInstruction, d.Op == Opcode.Illegal ? (ulong)d.Imm : RawBitsAtPc(d.Length));

    /// <summary>Re-reads the current instruction's encoding; the decode cache does not keep it for valid instructions.</summary>
    private ulong RawBitsAtPc(int length) => _bus.Read(Pc, length, out ulong raw) ? raw : 0;
}
