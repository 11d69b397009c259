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
        ulong steps = Steps;
        ulong pc = Pc;
        while (steps < SliceEnd)
        {
        Steps = steps;
        Pc = pc;
        ulong fetch = pc;
        ref DecodedInstruction d = ref _uncachedSlot[0];
        if (_fetchViaTlb)
        {
            if (pc >> 12 == _fetchVirtualPage) fetch = _fetchPhysicalPage | (pc & PageMask);
            else if (!TranslateFetch(pc, out fetch)) goto trapped;
            if ((pc & PageMask) == PageMask - 1)
            {
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
            if (d.Op == Opcode.NotDecoded && !DecodeInto(ref d, offset)) goto trapped;
        }
        else if (!FetchUncached(fetch, offset, ref d, out bool retry))
        {
            if (retry) continue; // same pc, same step: now the page exists
            goto trapped;
        }
        execute:
        ulong next = pc + d.Length;
        switch (d.Op)
        {
            case Opcode.Lui: X(d.Rd) = (ulong)d.Imm; break;
            case Opcode.Auipc: X(d.Rd) = pc + (ulong)d.Imm; break;
            case Opcode.Jal: X(d.Rd) = next; next = pc + (ulong)d.Imm; break;
            case Opcode.Jalr:
            {
                ulong target = (X(d.Rs1) + (ulong)d.Imm) & ~1UL;
                X(d.Rd) = next;
                next = target;
                break;
            }
            case Opcode.Beq: if (X(d.Rs1) == X(d.Rs2)) next = pc + (ulong)d.Imm; break;
            case Opcode.Bne: if (X(d.Rs1) != X(d.Rs2)) next = pc + (ulong)d.Imm; break;
            case Opcode.Blt: if ((long)X(d.Rs1) < (long)X(d.Rs2)) next = pc + (ulong)d.Imm; break;
            case Opcode.Bge: if ((long)X(d.Rs1) >= (long)X(d.Rs2)) next = pc + (ulong)d.Imm; break;
            case Opcode.Bltu: if (X(d.Rs1) < X(d.Rs2)) next = pc + (ulong)d.Imm; break;
            case Opcode.Bgeu: if (X(d.Rs1) >= X(d.Rs2)) next = pc + (ulong)d.Imm; break;

            case Opcode.Lb: { if (!Load8(X(d.Rs1) + (ulong)d.Imm, out byte v)) goto trapped; X(d.Rd) = (ulong)(sbyte)v; break; }
            case Opcode.Lh: { if (!Load16(X(d.Rs1) + (ulong)d.Imm, out ushort v)) goto trapped; X(d.Rd) = (ulong)(short)v; break; }
            case Opcode.Lw: { if (!Load32(X(d.Rs1) + (ulong)d.Imm, out uint v)) goto trapped; X(d.Rd) = (ulong)(int)v; break; }
            case Opcode.Ld: { if (!Load64(X(d.Rs1) + (ulong)d.Imm, out ulong v)) goto trapped; X(d.Rd) = v; break; }
            case Opcode.Lbu: { if (!Load8(X(d.Rs1) + (ulong)d.Imm, out byte v)) goto trapped; X(d.Rd) = v; break; }
            case Opcode.Lhu: { if (!Load16(X(d.Rs1) + (ulong)d.Imm, out ushort v)) goto trapped; X(d.Rd) = v; break; }
            case Opcode.Lwu: { if (!Load32(X(d.Rs1) + (ulong)d.Imm, out uint v)) goto trapped; X(d.Rd) = v; break; }
            case Opcode.Sb: if (!Store8(X(d.Rs1) + (ulong)d.Imm, (byte)X(d.Rs2))) goto trapped; break;
            case Opcode.Sh: if (!Store16(X(d.Rs1) + (ulong)d.Imm, (ushort)X(d.Rs2))) goto trapped; break;
            case Opcode.Sw: if (!Store32(X(d.Rs1) + (ulong)d.Imm, (uint)X(d.Rs2))) goto trapped; break;
            case Opcode.Sd: if (!Store64(X(d.Rs1) + (ulong)d.Imm, X(d.Rs2))) goto trapped; break;

            case Opcode.Addi: X(d.Rd) = X(d.Rs1) + (ulong)d.Imm; break;
            case Opcode.Slti: X(d.Rd) = (long)X(d.Rs1) < d.Imm ? 1UL : 0; break;
            case Opcode.Sltiu: X(d.Rd) = X(d.Rs1) < (ulong)d.Imm ? 1UL : 0; break;
            case Opcode.Xori: X(d.Rd) = X(d.Rs1) ^ (ulong)d.Imm; break;
            case Opcode.Ori: X(d.Rd) = X(d.Rs1) | (ulong)d.Imm; break;
            case Opcode.Andi: X(d.Rd) = X(d.Rs1) & (ulong)d.Imm; break;
            case Opcode.Slli: X(d.Rd) = X(d.Rs1) << (int)d.Imm; break;
            case Opcode.Srli: X(d.Rd) = X(d.Rs1) >> (int)d.Imm; break;
            case Opcode.Srai: X(d.Rd) = (ulong)((long)X(d.Rs1) >> (int)d.Imm); break;
            case Opcode.Add: X(d.Rd) = X(d.Rs1) + X(d.Rs2); break;
            case Opcode.Sub: X(d.Rd) = X(d.Rs1) - X(d.Rs2); break;
            case Opcode.Sll: X(d.Rd) = X(d.Rs1) << (int)(X(d.Rs2) & 63); break;
            case Opcode.Slt: X(d.Rd) = (long)X(d.Rs1) < (long)X(d.Rs2) ? 1UL : 0; break;
            case Opcode.Sltu: X(d.Rd) = X(d.Rs1) < X(d.Rs2) ? 1UL : 0; break;
            case Opcode.Xor: X(d.Rd) = X(d.Rs1) ^ X(d.Rs2); break;
            case Opcode.Srl: X(d.Rd) = X(d.Rs1) >> (int)(X(d.Rs2) & 63); break;
            case Opcode.Sra: X(d.Rd) = (ulong)((long)X(d.Rs1) >> (int)(X(d.Rs2) & 63)); break;
            case Opcode.Or: X(d.Rd) = X(d.Rs1) | X(d.Rs2); break;
            case Opcode.And: X(d.Rd) = X(d.Rs1) & X(d.Rs2); break;
            case Opcode.Addiw: X(d.Rd) = (ulong)(int)(X(d.Rs1) + (ulong)d.Imm); break;
            case Opcode.Slliw: X(d.Rd) = (ulong)(int)((uint)X(d.Rs1) << (int)d.Imm); break;
            case Opcode.Srliw: X(d.Rd) = (ulong)(int)((uint)X(d.Rs1) >> (int)d.Imm); break;
            case Opcode.Sraiw: X(d.Rd) = (ulong)((int)X(d.Rs1) >> (int)d.Imm); break;
            case Opcode.Addw: X(d.Rd) = (ulong)(int)(X(d.Rs1) + X(d.Rs2)); break;
            case Opcode.Subw: X(d.Rd) = (ulong)(int)(X(d.Rs1) - X(d.Rs2)); break;
            case Opcode.Sllw: X(d.Rd) = (ulong)(int)((uint)X(d.Rs1) << (int)(X(d.Rs2) & 31)); break;
            case Opcode.Srlw: X(d.Rd) = (ulong)(int)((uint)X(d.Rs1) >> (int)(X(d.Rs2) & 31)); break;
            case Opcode.Sraw: X(d.Rd) = (ulong)((int)X(d.Rs1) >> (int)(X(d.Rs2) & 31)); break;

            case Opcode.Mul: X(d.Rd) = X(d.Rs1) * X(d.Rs2); break;
            case Opcode.Mulh: X(d.Rd) = MulDiv.MulHighSigned(X(d.Rs1), X(d.Rs2)); break;
            case Opcode.Mulhsu: X(d.Rd) = MulDiv.MulHighSignedUnsigned(X(d.Rs1), X(d.Rs2)); break;
            case Opcode.Mulhu: X(d.Rd) = Math.BigMul(X(d.Rs1), X(d.Rs2), out _); break;
            case Opcode.Div: X(d.Rd) = MulDiv.Div(X(d.Rs1), X(d.Rs2)); break;
            case Opcode.Divu: X(d.Rd) = MulDiv.Divu(X(d.Rs1), X(d.Rs2)); break;
            case Opcode.Rem: X(d.Rd) = MulDiv.Rem(X(d.Rs1), X(d.Rs2)); break;
            case Opcode.Remu: X(d.Rd) = MulDiv.Remu(X(d.Rs1), X(d.Rs2)); break;
            case Opcode.Mulw: X(d.Rd) = (ulong)(int)((uint)X(d.Rs1) * (uint)X(d.Rs2)); break;
            case Opcode.Divw: X(d.Rd) = MulDiv.Divw(X(d.Rs1), X(d.Rs2)); break;
            case Opcode.Divuw: X(d.Rd) = MulDiv.Divuw(X(d.Rs1), X(d.Rs2)); break;
            case Opcode.Remw: X(d.Rd) = MulDiv.Remw(X(d.Rs1), X(d.Rs2)); break;
            case Opcode.Remuw: X(d.Rd) = MulDiv.Remuw(X(d.Rs1), X(d.Rs2)); break;

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
                next = ReturnFromMachineTrap();
                break;
            case Opcode.Sret:
                if (Mode == PrivilegeLevel.User || (Mode == PrivilegeLevel.Supervisor && (_mstatus & Mstatus.Tsr) != 0))
                {
                    IllegalInstruction(ref d);
                    goto trapped;
                }
                next = ReturnFromSupervisorTrap();
                break;
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
        pc = next;
        steps++;
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
