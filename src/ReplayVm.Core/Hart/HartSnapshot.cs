namespace ReplayVm.Core.Hart;

/// <summary>
/// Everything that decides what the hart does next, copied out so a checkpoint can put it back.
/// The decode cache and TLB are not here: they are caches, rebuilt on demand after a restore.
/// </summary>
public sealed partial class HartSnapshot
{
    internal readonly ulong[] X = new ulong[32];
    internal readonly ulong[] F = new ulong[32];
    internal readonly ulong[] Csrs = new ulong[CsrFieldCount];
    internal readonly byte[] PmpConfig = new byte[PhysicalMemoryProtection.Entries];
    internal readonly ulong[] PmpAddress = new ulong[PhysicalMemoryProtection.Entries];
    internal ulong Pc, Steps, ExceptionsTaken, ReservationAddress, ReservationValue, IdleNanoseconds, TickOffset, InterruptLines;
    internal PrivilegeLevel Mode;
    internal byte Fflags, Frm;
    internal bool WaitingForInterrupt;
    internal int RepeatedTrapCount;
    internal ulong LastTrapPc, LastTrapCause, LastTrapRetired;
    internal TriggerState Triggers;

    internal const int CsrFieldCount = 24;

    public ulong StepCount => Steps;
    public ulong ProgramCounter => Pc;
}

public sealed unsafe partial class Hart
{
    /// <summary>Copies the hart's whole state into <paramref name="into"/> (allocated once, reused by checkpoint stores).</summary>
    public HartSnapshot Capture(HartSnapshot? into = null)
    {
        var s = into ?? new HartSnapshot();
        Array.Copy(_x, s.X, 32);
        s.X[0] = 0;
        Array.Copy(_f, s.F, 32);
        ulong[] c = s.Csrs;
        c[0] = _mstatus; c[1] = _medeleg; c[2] = _mideleg; c[3] = _mie; c[4] = _mtvec; c[5] = _mcounteren;
        c[6] = _menvcfg; c[7] = _mscratch; c[8] = _mepc; c[9] = _mcause; c[10] = _mtval; c[11] = _mipSoftware;
        c[12] = _stvec; c[13] = _scounteren; c[14] = _senvcfg; c[15] = _sscratch; c[16] = _sepc; c[17] = _scause;
        c[18] = _stval; c[19] = _satp; c[20] = _cycleOffset; c[21] = _instretOffset; c[22] = _stimecmp; c[23] = 0;
        for (int i = 0; i < PhysicalMemoryProtection.Entries; i++)
        {
            s.PmpConfig[i] = Pmp.GetConfig(i);
            s.PmpAddress[i] = Pmp.GetAddress(i);
        }
        s.Pc = Pc;
        s.Steps = Steps;
        s.ExceptionsTaken = ExceptionsTaken;
        s.ReservationAddress = _reservationAddress;
        s.ReservationValue = _reservationValue;
        s.IdleNanoseconds = Clock.IdleNanoseconds;
        s.TickOffset = Clock.TickOffset;
        s.InterruptLines = InterruptLines;
        s.Mode = Mode;
        s.Fflags = _fflags;
        s.Frm = _frm;
        s.WaitingForInterrupt = WaitingForInterrupt;
        s.RepeatedTrapCount = _repeatedTrapCount;
        s.LastTrapPc = _lastTrapPc;
        s.LastTrapCause = _lastTrapCause;
        s.LastTrapRetired = _lastTrapRetired;
        s.Triggers = _triggers.Capture();
        return s;
    }

    /// <summary>Puts back a state taken by <see cref="Capture"/>.</summary>
    public void Restore(HartSnapshot s)
    {
        Array.Copy(s.X, _x, 32);
        _x[ZeroSink] = 0;
        Array.Copy(s.F, _f, 32);
        ulong[] c = s.Csrs;
        _mstatus = c[0]; _medeleg = c[1]; _mideleg = c[2]; _mie = c[3]; _mtvec = c[4]; _mcounteren = c[5];
        _menvcfg = c[6]; _mscratch = c[7]; _mepc = c[8]; _mcause = c[9]; _mtval = c[10]; _mipSoftware = c[11];
        _stvec = c[12]; _scounteren = c[13]; _senvcfg = c[14]; _sscratch = c[15]; _sepc = c[16]; _scause = c[17];
        _stval = c[18]; _satp = c[19]; _cycleOffset = c[20]; _instretOffset = c[21]; _stimecmp = c[22];
        Pmp.Restore(s.PmpConfig, s.PmpAddress);
        Pc = s.Pc;
        Steps = s.Steps;
        ExceptionsTaken = s.ExceptionsTaken;
        _reservationAddress = s.ReservationAddress;
        _reservationValue = s.ReservationValue;
        Clock.Restore(s.IdleNanoseconds, s.TickOffset);
        InterruptLines = s.InterruptLines;
        Mode = s.Mode;
        _fflags = s.Fflags;
        _frm = s.Frm;
        WaitingForInterrupt = s.WaitingForInterrupt;
        _repeatedTrapCount = s.RepeatedTrapCount;
        _lastTrapPc = s.LastTrapPc;
        _lastTrapCause = s.LastTrapCause;
        _lastTrapRetired = s.LastTrapRetired;
        _triggers.Restore(s.Triggers);
        TriggersChanged();
        TranslationChanged();
    }
}
