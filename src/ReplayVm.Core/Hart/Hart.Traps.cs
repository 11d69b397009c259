namespace ReplayVm.Core.Hart;

public sealed unsafe partial class Hart
{
    /// <summary>Consecutive identical exceptions with nothing retired in between; see <see cref="TrapLoopDetected"/>.</summary>
    private int _repeatedTrapCount;
    private ulong _lastTrapPc, _lastTrapCause, _lastTrapRetired = ulong.MaxValue;

    /// <summary>Above this many identical back-to-back exceptions the guest can never make progress.</summary>
    public const int TrapLoopThreshold = 64;

    /// <summary>True once the guest keeps faulting on the same pc with the same cause and retires nothing
    /// in between — e.g. no trap handler, so mtvec points at unmapped memory.</summary>
    public bool TrapLoopDetected => _repeatedTrapCount >= TrapLoopThreshold;

    public string DescribeTrapLoop() =>
        $"guest is stuck: exception cause {_lastTrapCause} at pc 0x{_lastTrapPc:x} repeats without progress (no working trap handler?)";

    /// <summary>Takes a synchronous exception at the current pc (privileged spec 3.1.6.1, 3.1.15–3.1.16).</summary>
    internal void RaiseException(ulong cause, ulong tval)
    {
        ExceptionsTaken++;
        ulong retired = InstructionsRetired;
        if (retired == _lastTrapRetired && cause == _lastTrapCause && Pc == _lastTrapPc) _repeatedTrapCount++;
        else _repeatedTrapCount = 0;
        _lastTrapRetired = retired;
        _lastTrapCause = cause;
        EnterTrap(cause, tval, interrupt: false);
        _lastTrapPc = Pc;
        if (TrapLoopDetected) SliceEnd = 0;
    }

    /// <summary>
    /// Trap entry: to S-mode if the trap is delegated and we are not in M-mode, else to M-mode
    /// (privileged spec 3.1.8). The previous interrupt enable and mode are stacked in mstatus.
    /// </summary>
    private void EnterTrap(ulong cause, ulong tval, bool interrupt)
    {
        ulong delegation = interrupt ? _mideleg : _medeleg;
        bool toSupervisor = Mode != PrivilegeLevel.Machine && ((delegation >> (int)cause) & 1) != 0;
        ulong causeValue = interrupt ? cause | (1UL << 63) : cause;
        if (toSupervisor)
        {
            _sepc = Pc;
            _scause = causeValue;
            _stval = tval;
            ulong s = _mstatus & ~(Mstatus.Spie | Mstatus.Sie | Mstatus.Spp);
            if ((_mstatus & Mstatus.Sie) != 0) s |= Mstatus.Spie;
            if (Mode == PrivilegeLevel.Supervisor) s |= Mstatus.Spp;
            _mstatus = s;
            SetMode(PrivilegeLevel.Supervisor);
            Pc = TrapVector(_stvec, cause, interrupt);
        }
        else
        {
            _mepc = Pc;
            _mcause = causeValue;
            _mtval = tval;
            ulong m = _mstatus & ~(Mstatus.Mpie | Mstatus.Mie | Mstatus.Mpp);
            if ((_mstatus & Mstatus.Mie) != 0) m |= Mstatus.Mpie;
            m |= (ulong)Mode << Mstatus.MppShift;
            _mstatus = m;
            SetMode(PrivilegeLevel.Machine);
            Pc = TrapVector(_mtvec, cause, interrupt);
        }
        if (_trapObserver is { } observer) ReportTrap(observer, cause, tval, interrupt, toSupervisor);
        SliceEnd = 0;
    }

    /// <summary>Tells the observer of the trap just entered; the mode it came from is the one just stacked in xPP (3.1.6.1).</summary>
    private void ReportTrap(ITrapObserver observer, ulong cause, ulong tval, bool interrupt, bool toSupervisor)
    {
        var from = toSupervisor
            ? (_mstatus & Mstatus.Spp) != 0 ? PrivilegeLevel.Supervisor : PrivilegeLevel.User
            : (PrivilegeLevel)((_mstatus & Mstatus.Mpp) >> Mstatus.MppShift);
        observer.TrapTaken(new TrapEntry(Steps, cause, interrupt, toSupervisor ? _sepc : _mepc, tval, from, Mode));
    }

    /// <summary>mtvec/stvec: direct mode jumps to BASE; vectored mode sends interrupts to BASE + 4×cause (3.1.7).</summary>
    private static ulong TrapVector(ulong tvec, ulong cause, bool interrupt)
    {
        ulong baseAddress = tvec & ~3UL;
        return interrupt && (tvec & 3) == 1 ? baseAddress + 4 * cause : baseAddress;
    }

    /// <summary>MRET (privileged spec 3.3.2): restore MIE and the mode from mstatus, return to mepc.</summary>
    private ulong ReturnFromMachineTrap()
    {
        var previous = (PrivilegeLevel)((_mstatus & Mstatus.Mpp) >> Mstatus.MppShift);
        ulong m = _mstatus & ~(Mstatus.Mie | Mstatus.Mpp);
        if ((_mstatus & Mstatus.Mpie) != 0) m |= Mstatus.Mie;
        m |= Mstatus.Mpie;
        // MPP becomes the least-privileged mode supported (U); leaving M clears MPRV.
        if (previous != PrivilegeLevel.Machine) m &= ~Mstatus.Mprv;
        _mstatus = m;
        _trapObserver?.TrapReturned(new TrapReturn(Steps, Pc, Mode, previous, _mepc));
        SetMode(previous);
        SliceEnd = 0;
        return _mepc;
    }

    /// <summary>SRET (privileged spec 3.3.2).</summary>
    private ulong ReturnFromSupervisorTrap()
    {
        var previous = (_mstatus & Mstatus.Spp) != 0 ? PrivilegeLevel.Supervisor : PrivilegeLevel.User;
        ulong s = _mstatus & ~(Mstatus.Sie | Mstatus.Spp | Mstatus.Mprv);
        if ((_mstatus & Mstatus.Spie) != 0) s |= Mstatus.Sie;
        s |= Mstatus.Spie;
        _mstatus = s;
        _trapObserver?.TrapReturned(new TrapReturn(Steps, Pc, Mode, previous, _sepc));
        SetMode(previous);
        SliceEnd = 0;
        return _sepc;
    }

    /// <summary>Interrupt lines driven by devices: MSIP and MTIP from the CLINT, MEIP/SEIP from the PLIC.</summary>
    public ulong InterruptLines { get; set; }

    /// <summary>
    /// Takes the highest-priority pending and enabled interrupt, if any (privileged spec 3.1.9):
    /// M-level interrupts are enabled below M or when mstatus.MIE is set; delegated ones below S or
    /// in S with sstatus.SIE set. Returns whether one was taken.
    /// </summary>
    public bool TakePendingInterrupt()
    {
        ulong candidates = DeliverableInterrupts();
        if (candidates == 0) return false;
        foreach (int interrupt in InterruptCause.Priority)
        {
            if (((candidates >> interrupt) & 1) != 0)
            {
                WaitingForInterrupt = false;
                EnterTrap((ulong)interrupt, 0, interrupt: true);
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// The interrupts <see cref="TakePendingInterrupt"/> would choose from now: pending, enabled in
    /// mie and globally enabled for the current mode (M-level ones first, as 3.1.9 orders them).
    /// </summary>
    private ulong DeliverableInterrupts()
    {
        ulong pending = Mip & _mie;
        if (pending == 0) return 0;
        ulong machineEnabled = Mode != PrivilegeLevel.Machine || (_mstatus & Mstatus.Mie) != 0 ? pending & ~_mideleg : 0;
        ulong supervisorEnabled =
            Mode == PrivilegeLevel.User || (Mode == PrivilegeLevel.Supervisor && (_mstatus & Mstatus.Sie) != 0)
                ? pending & _mideleg : 0;
        return machineEnabled != 0 ? machineEnabled : supervisorEnabled;
    }

    /// <summary>True when some interrupt is pending and locally enabled: what wakes WFI (3.3.3), regardless of global enables.</summary>
    public bool InterruptWouldWake => (Mip & _mie) != 0;
}
