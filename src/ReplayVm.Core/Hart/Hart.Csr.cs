namespace ReplayVm.Core.Hart;

public sealed unsafe partial class Hart
{
    /// <summary>misa: RV64 (MXL=2) with A, C, D, F, I, M, S, U (privileged spec 3.1.1), QEMU's 0x800000000014112d.</summary>
    public const ulong Misa = (2UL << 62) | (1 << 0) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20);

    private const ulong DelegableExceptions = 0xB3FF; // all but ecall-from-M (read-only zero, 3.1.8) and reserved codes
    private const ulong SupervisorInterrupts = (1UL << InterruptCause.SupervisorSoftware) | (1UL << InterruptCause.SupervisorTimer) | (1UL << InterruptCause.SupervisorExternal);
    private const ulong AllInterrupts = SupervisorInterrupts | (1UL << InterruptCause.MachineSoftware) | (1UL << InterruptCause.MachineTimer) | (1UL << InterruptCause.MachineExternal);
    public const int PmpEntries = 16;

    private ulong _mstatus, _medeleg, _mideleg, _mie, _mtvec, _mcounteren, _menvcfg, _mscratch, _mepc, _mcause, _mtval;
    /// <summary>The software-writable bits of mip (SSIP, STIP, SEIP); the rest come from <see cref="InterruptLines"/>.</summary>
    private ulong _mipSoftware;
    private ulong _stvec, _scounteren, _senvcfg, _sscratch, _sepc, _scause, _stval, _satp;
    private ulong _cycleOffset, _instretOffset;
    /// <summary>Sstc's supervisor timer compare (stimecmp, 0x14D); all ones at reset like QEMU's.</summary>
    private ulong _stimecmp = ulong.MaxValue;
    private const ulong MenvcfgStce = 1UL << 63;

    /// <summary>
    /// mip as the hart sees it: device lines, software-set bits, and — with Sstc enabled — STIP
    /// driven by stimecmp against time, in which case software cannot write STIP (Sstc spec).
    /// </summary>
    public ulong Mip
    {
        get
        {
            ulong mip = InterruptLines | _mipSoftware;
            if ((_menvcfg & MenvcfgStce) == 0) return mip;
            const ulong stip = 1UL << InterruptCause.SupervisorTimer;
            return (mip & ~stip) | (Clock.Ticks >= _stimecmp ? stip : 0);
        }
    }

    /// <summary>The Sstc compare value while Sstc is enabled, for the machine's timer scheduling.</summary>
    public ulong? SupervisorTimerCompare => (_menvcfg & MenvcfgStce) != 0 ? _stimecmp : null;

    private void ResetCsrs()
    {
        _mstatus = Mstatus.XlenFields;
        _medeleg = _mideleg = _mie = _mtvec = _mcounteren = _menvcfg = _mscratch = _mepc = _mcause = _mtval = 0;
        _mipSoftware = 0;
        _stvec = _scounteren = _senvcfg = _sscratch = _sepc = _scause = _stval = _satp = 0;
        _cycleOffset = _instretOffset = 0;
        _stimecmp = ulong.MaxValue;
        _triggers.Reset();
        TriggersChanged();
        ResetFloat();
    }

    /// <summary>Zicsr instructions (unprivileged spec ch. 9, privileged spec 2.1 for access rules).</summary>
    private bool ExecuteCsr(ref DecodedInstruction d)
    {
        uint csr = (uint)d.Imm;
        bool immediate = d.Op >= Opcode.Csrrwi;
        bool swap = d.Op is Opcode.Csrrw or Opcode.Csrrwi;
        ulong operand = immediate ? d.Rs1 : X(d.Rs1);
        // CSRRS/CSRRC with x0 (or a zero immediate) do not write, so they may read read-only CSRs.
        bool write = swap || d.Rs1 != 0;
        if (!CsrAccessible(csr, write) || !TryReadCsr(csr, out ulong old))
        {
            IllegalInstruction(ref d);
            return false;
        }
        if (write)
        {
            ulong value = swap ? operand : d.Op is Opcode.Csrrs or Opcode.Csrrsi ? old | operand : old & ~operand;
            ulong statusBefore = _mstatus;
            if (!TryWriteCsr(csr, value))
            {
                IllegalInstruction(ref d);
                return false;
            }
            // A write may enable or raise an interrupt: let the machine look before the next instruction.
            if (!WriteLeavesSliceAlone(csr, statusBefore)) SliceEnd = 0;
        }
        X(d.Rd) = old;
        return true;
    }

    /// <summary>Privilege and read-only checks from the CSR number's own bits (privileged spec 2.1),
    /// plus the traps that mstatus and the counter-enable registers add.</summary>
    private bool CsrAccessible(uint csr, bool write)
    {
        uint lowestPrivilege = (csr >> 8) & 3;
        if ((uint)Mode < lowestPrivilege) return false;
        if (write && (csr >> 10) == 3) return false;
        // fflags, frm, fcsr are inaccessible while mstatus.FS is Off (privileged spec 3.1.6.6).
        if (csr is >= 0x001 and <= 0x003 && !FloatingPointEnabled) return false;
        if (csr == 0x180 && Mode == PrivilegeLevel.Supervisor && (_mstatus & Mstatus.Tvm) != 0) return false;
        // Sstc: stimecmp exists for S-mode only while menvcfg.STCE is set and mcounteren.TM allows time.
        if (csr == 0x14D && Mode != PrivilegeLevel.Machine && ((_menvcfg & MenvcfgStce) == 0 || (_mcounteren & 2) == 0)) return false;
        if (csr is >= 0xC00 and <= 0xC1F && Mode != PrivilegeLevel.Machine)
        {
            int bit = (int)(csr - 0xC00);
            if (((_mcounteren >> bit) & 1) == 0) return false;
            if (Mode == PrivilegeLevel.User && ((_scounteren >> bit) & 1) == 0) return false;
        }
        return true;
    }

    /// <summary>Reads a CSR by number without privilege checks or side effects; false if it does not exist.</summary>
    public bool TryReadCsr(uint csr, out ulong value)
    {
        value = 0;
        switch (csr)
        {
            case >= 0x001 and <= 0x003: value = ReadFloatCsr(csr); return true;
            case 0x100: value = WithStateDirtyBit(_mstatus) & Mstatus.SstatusView; return true;
            case 0x104: value = _mie & _mideleg; return true;
            case 0x105: value = _stvec; return true;
            case 0x106: value = _scounteren; return true;
            case 0x10A: value = _senvcfg; return true;
            case 0x140: value = _sscratch; return true;
            case 0x141: value = _sepc; return true;
            case 0x142: value = _scause; return true;
            case 0x143: value = _stval; return true;
            case 0x144: value = Mip & _mideleg; return true;
            case 0x180: value = _satp; return true;

            case 0x300: value = WithStateDirtyBit(_mstatus); return true;
            case 0x301: value = Misa; return true;
            case 0x302: value = _medeleg; return true;
            case 0x303: value = _mideleg; return true;
            case 0x304: value = _mie; return true;
            case 0x305: value = _mtvec; return true;
            case 0x306: value = _mcounteren; return true;
            case 0x30A: value = _menvcfg; return true;
            case 0x320: return true; // mcountinhibit: no inhibit bits implemented (WARL zero)
            case >= 0x323 and <= 0x33F: return true; // mhpmevent3..31: no events
            case 0x340: value = _mscratch; return true;
            case 0x341: value = _mepc; return true;
            case 0x342: value = _mcause; return true;
            case 0x343: value = _mtval; return true;
            case 0x344: value = Mip; return true;
            case 0x3A0 or 0x3A2:
            {
                int first = (int)(csr - 0x3A0) * 4;
                for (int i = 7; i >= 0; i--) value = value << 8 | Pmp.GetConfig(first + i);
                return true;
            }
            case >= 0x3B0 and < 0x3B0 + PmpEntries: value = Pmp.GetAddress((int)(csr - 0x3B0)); return true;
            case 0x14D: value = _stimecmp; return true;
            case >= TriggerModule.TselectCsr and <= TriggerModule.TinfoCsr: value = _triggers.Read(csr); return true;

            case 0xB00 or 0xC00: value = InstructionsRetired + _cycleOffset; return true;
            case 0xB02 or 0xC02: value = InstructionsRetired + _instretOffset; return true;
            case 0xC01: value = Clock.Ticks; return true;
            case (>= 0xB03 and <= 0xB1F) or (>= 0xC03 and <= 0xC1F): return true; // hpm counters count nothing

            case 0xF11 or 0xF12 or 0xF13 or 0xF14 or 0xF15: return true; // vendor, arch, impl, hart 0, no config ptr
        }
        return false;
    }

    /// <summary>
    /// Whether a write to <paramref name="csr"/> (mstatus was <paramref name="statusBefore"/>) may leave
    /// the slice running: it can make no interrupt deliverable (none deliverable is pending mid-slice,
    /// since whatever raises one ends the slice) and changes nothing a running region or the
    /// interpreter's fast path assumes fixed (modes, the fetch translation, triggers). These qualify:
    /// the trap scratch registers and the F/D CSRs; status writes that change no more than xIE, xPIE, SUM, MXR and FS
    /// (SUM and MXR switch the data TLB's bank, which every access reads afresh; FS is checked by
    /// every F/D instruction; neither changes what code is fetched or how a region was compiled),
    /// setting xIE only while no interrupt is deliverable after it; mie and sie writes after which
    /// none is deliverable; and stimecmp, whose new deadline bounds the slice instead
    /// (<see cref="TimerCompareLeavesSliceAlone"/>). Linux masks interrupts (csrrc sstatus, SIE) around
    /// every irq-saving lock and unmasks them after, writes sscratch on every trap, sets and clears SUM
    /// around every access to user memory and FS at every trap entry and exit, writes sie and stimecmp
    /// in its timer code: each of those used to end the slice (1.8×10⁶ of the 3.1×10⁶ slices of a boot
    /// + spawn 2000), and a region ended by one left the rest of its code to the interpreter. A slice
    /// end only lets the machine look for an interrupt to take (Machine.EnterStep); one cannot become
    /// pending later in the slice without ending it (the CLINT and PLIC end it, timer deadlines bound
    /// it, and so do writes to mip), so where none is deliverable now, none is missed.
    /// </summary>
    private bool WriteLeavesSliceAlone(uint csr, ulong statusBefore) => csr switch
    {
        0x140 or 0x141 or 0x142 or 0x143 or 0x340 or 0x341 or 0x342 or 0x343 => true, // xscratch, xepc, xcause, xtval
        0x001 or 0x002 or 0x003 => true, // fflags, frm, fcsr: read by each F/D instruction
        0x100 or 0x300 => ((_mstatus ^ statusBefore) & ~SliceNeutralStatusBits) == 0
                          && ((_mstatus & ~statusBefore & (Mstatus.Sie | Mstatus.Mie)) == 0 || DeliverableInterrupts() == 0),
        0x104 or 0x304 => DeliverableInterrupts() == 0,
        0x14D => TimerCompareLeavesSliceAlone(),
        _ => false,
    };

    /// <summary>The mstatus fields whose change alone leaves the slice running (see <see cref="WriteLeavesSliceAlone"/>).</summary>
    private const ulong SliceNeutralStatusBits = Mstatus.Sie | Mstatus.Mie | Mstatus.Spie | Mstatus.Mpie | Mstatus.Sum | Mstatus.Mxr | Mstatus.Fs;

    /// <summary>
    /// After a stimecmp write: with Sstc off it drives nothing. With it on, the slice ends at once if an
    /// interrupt is deliverable now (the compare already reached, STIP enabled); otherwise it runs on
    /// to no later than the step at which time reaches the new compare, the deadline the machine
    /// would give the next slice (Machine.NextTimerStep), so STIP is taken at the same step as if the
    /// slice had ended here.
    /// </summary>
    private bool TimerCompareLeavesSliceAlone()
    {
        if ((_menvcfg & MenvcfgStce) == 0) return true;
        if (DeliverableInterrupts() != 0) return false;
        if (Clock.Ticks < _stimecmp) SliceEnd = Math.Min(SliceEnd, Clock.StepWhenTicksReach(_stimecmp));
        return true;
    }

    /// <summary>Writes a CSR, keeping only its writable fields (WARL); false if it does not exist.</summary>
    private bool TryWriteCsr(uint csr, ulong value)
    {
        switch (csr)
        {
            case >= 0x001 and <= 0x003: WriteFloatCsr(csr, value); return true;
            case 0x100:
                _mstatus = (_mstatus & ~(Mstatus.WritableByS | Mstatus.Fs)) | (value & (Mstatus.WritableByS | Mstatus.Fs));
                StatusChanged(); // SUM and MXR change what pages allow
                return true;
            case 0x104: _mie = (_mie & ~_mideleg) | (value & _mideleg & AllInterrupts); return true;
            case 0x105: if ((value & 3) < 2) _stvec = value; return true;
            case 0x106: _scounteren = value & 0xFFFF_FFFF; return true;
            case 0x10A: _senvcfg = value & 1; return true;
            case 0x140: _sscratch = value; return true;
            case 0x141: _sepc = value & ~1UL; return true;
            case 0x142: _scause = value; return true;
            case 0x143: _stval = value; return true;
            case 0x144:
            {
                // Only SSIP is writable through sip, and only when delegated (4.1.3).
                ulong mask = _mideleg & (1UL << InterruptCause.SupervisorSoftware);
                _mipSoftware = (_mipSoftware & ~mask) | (value & mask);
                return true;
            }
            case 0x180:
                // Bare, Sv39, Sv48 and Sv57, as QEMU 7.2's rv64 hart; a write selecting an unsupported
                // MODE (Sv64 or a reserved one) has no effect at all (4.1.11).
                if (value >> 60 is 0 or 8 or 9 or 10)
                {
                    ulong before = _satp;
                    _satp = value;
                    SatpWritten(before);
                }
                return true;

            case 0x300:
                WriteMstatus(value);
                StatusChanged(); // MPRV, MPP, SUM, MXR
                return true;
            case 0x301: return true; // misa is read-only here: extensions cannot be turned off
            case 0x302: _medeleg = value & DelegableExceptions; return true;
            case 0x303: _mideleg = value & SupervisorInterrupts; return true;
            case 0x304: _mie = value & AllInterrupts; return true;
            case 0x305: if ((value & 3) < 2) _mtvec = value; return true; // reserved modes leave mtvec unchanged
            case 0x306: _mcounteren = value & 0xFFFF_FFFF; return true;
            case 0x30A: _menvcfg = value & (1 | MenvcfgStce); return true;
            case 0x320: return true;
            case >= 0x323 and <= 0x33F: return true;
            case 0x340: _mscratch = value; return true;
            case 0x341: _mepc = value & ~1UL; return true;
            case 0x342: _mcause = value; return true;
            case 0x343: _mtval = value; return true;
            case 0x344: _mipSoftware = value & SupervisorInterrupts; return true;
            case 0x3A0 or 0x3A2:
            {
                int first = (int)(csr - 0x3A0) * 4;
                for (int i = 0; i < 8; i++) Pmp.SetConfig(first + i, (byte)(value >> (8 * i)));
                TranslationChanged();
                return true;
            }
            case >= 0x3B0 and < 0x3B0 + PmpEntries:
                Pmp.SetAddress((int)(csr - 0x3B0), value);
                TranslationChanged();
                return true;
            case 0x14D: _stimecmp = value; return true;
            case >= TriggerModule.TselectCsr and <= TriggerModule.TinfoCsr:
                _triggers.Write(csr, value);
                TriggersChanged();
                TranslationChanged();
                return true;

            case 0xB00: _cycleOffset = value - InstructionsRetired - 1; return true;
            // The write happens before the instruction retires, and its own retirement must not count (3.1.11).
            case 0xB02: _instretOffset = value - InstructionsRetired - 1; return true;
            case >= 0xB03 and <= 0xB1F: return true;
        }
        return false;
    }

    private void WriteMstatus(ulong value)
    {
        // MPP is WARL over the implemented modes: the reserved encoding 2 keeps the old value.
        if (((value & Mstatus.Mpp) >> Mstatus.MppShift) == 2) value = (value & ~Mstatus.Mpp) | (_mstatus & Mstatus.Mpp);
        _mstatus = (_mstatus & ~(Mstatus.WritableByM | Mstatus.Fs)) | (value & (Mstatus.WritableByM | Mstatus.Fs)) | Mstatus.XlenFields;
    }

    /// <summary>SD summarises FS (and the absent XS/VS): it reads 1 when FS is Dirty (privileged spec 3.1.6.6).</summary>
    private static ulong WithStateDirtyBit(ulong mstatus) =>
        (mstatus & Mstatus.Fs) == Mstatus.Fs ? mstatus | Mstatus.Sd : mstatus & ~Mstatus.Sd;

    /// <summary>CSR value for debuggers and tools (0 for a CSR that does not exist).</summary>
    public ulong ReadCsr(uint csr) => TryReadCsr(csr, out ulong value) ? value : 0;
}
