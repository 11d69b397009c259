using ReplayVm.Core.Hart;
using ReplayVm.Core.Memory;
using ReplayVm.Core.State;

namespace ReplayVm.Core.Devices;

/// <summary>
/// Google's Goldfish RTC as on QEMU's virt (hw/rtc/goldfish_rtc.c register map). The time is the
/// host's wall clock in nanoseconds since the epoch, read through the input port — a
/// nondeterministic input that a recording logs — plus an offset the guest sets by writing the
/// time registers. Reading TIME_LOW latches the high half into TIME_HIGH.
///
/// The alarm is measured in guest time: when armed, the remaining nanoseconds until the alarm are
/// converted into a guest-clock deadline, so it fires at a deterministic point of the run.
/// </summary>
/// <remarks>
/// The interrupt line is driven as QEMU's goldfish_rtc_update drives it (alarm pending and
/// enabled) when the alarm fires, and on writes of IRQ_ENABLED and CLEAR_INTERRUPT. An alarm
/// fires at the step it comes due (<see cref="FireAlarmIfDue"/>, which the machine calls between
/// slices, one of which ends exactly there) or at the guest's next register access, whichever is first.
/// </remarks>
public sealed class GoldfishRtc(Func<ulong> readWallClock, GuestClock clock, Action<bool> interruptLine) : IMmioDevice, IDeviceState
{
    private const ulong TimeLow = 0x00, TimeHigh = 0x04, AlarmLow = 0x08, AlarmHigh = 0x0c, IrqEnabled = 0x10,
        ClearAlarm = 0x14, AlarmStatus = 0x18, ClearInterrupt = 0x1c;

    private ulong _offset, _alarm, _alarmDueNanoseconds;
    private uint _latchedHigh;
    private bool _irqEnabled, _irqPending, _alarmRunning;

    /// <summary>
    /// The interrupt output: an alarm fired (or came due) and is neither cleared nor masked. Reading
    /// it changes nothing; an alarm come due is recorded as fired at the guest's next register
    /// access (<see cref="CatchUp"/>), so the state never depends on who looked at the line when.
    /// </summary>
    public bool InterruptPending => _irqEnabled && (_irqPending || AlarmDue);


    /// <summary>
    /// The guest time (ns) at which the interrupt output will rise by itself — an enabled alarm
    /// still to come due — or null. The machine ends a slice there, so the line rises at the same
    /// step however the run is sliced.
    /// </summary>
    public ulong? InterruptRisesAtNanoseconds =>
        _irqEnabled && !_irqPending && _alarmRunning && clock.Nanoseconds < _alarmDueNanoseconds ? _alarmDueNanoseconds : null;

    private bool AlarmDue => _alarmRunning && clock.Nanoseconds >= _alarmDueNanoseconds;

    /// <summary>Fires an alarm that came due since the guest last touched the device.</summary>
    private void CatchUp()
    {
        if (AlarmDue) Fire();
    }

    /// <summary>Called by the machine between slices: an alarm that has come due fires now.</summary>
    public void FireAlarmIfDue() => CatchUp();

    public void SaveState(BinaryWriter w)
    {
        w.Write(_offset); w.Write(_alarm); w.Write(_alarmDueNanoseconds); w.Write(_latchedHigh);
        w.Write(_irqEnabled); w.Write(_irqPending); w.Write(_alarmRunning);
    }

    public void LoadState(BinaryReader r)
    {
        _offset = r.ReadUInt64(); _alarm = r.ReadUInt64(); _alarmDueNanoseconds = r.ReadUInt64(); _latchedHigh = r.ReadUInt32();
        _irqEnabled = r.ReadBoolean(); _irqPending = r.ReadBoolean(); _alarmRunning = r.ReadBoolean();
    }

    private ulong Now => readWallClock() + _offset;

    public bool Read(ulong offset, int size, out ulong value)
    {
        value = 0;
        if (size != 4) return true;
        CatchUp();
        switch (offset)
        {
            case TimeLow:
                ulong now = Now;
                _latchedHigh = (uint)(now >> 32);
                value = (uint)now;
                break;
            case TimeHigh: value = _latchedHigh; break;
            case AlarmLow: value = (uint)_alarm; break;
            case AlarmHigh: value = _alarm >> 32; break;
            case IrqEnabled: value = _irqEnabled ? 1u : 0; break;
            case AlarmStatus: value = _alarmRunning ? 1u : 0; break;
        }
        return true;
    }

    /// <summary>
    /// As <see cref="Read"/>, except that TIME_LOW answers 0 (its value is the host's wall clock,
    /// an input that only the guest's own read may fetch and a recording logs) and latches nothing,
    /// and that an alarm come due is reported as no longer running without firing it here.
    /// </summary>
    public bool Peek(ulong offset, int size, out ulong value)
    {
        value = 0;
        if (size != 4) return true;
        value = offset switch
        {
            TimeHigh => _latchedHigh,
            AlarmLow => (uint)_alarm,
            AlarmHigh => _alarm >> 32,
            IrqEnabled => _irqEnabled ? 1u : 0,
            AlarmStatus => _alarmRunning && clock.Nanoseconds < _alarmDueNanoseconds ? 1u : 0,
            _ => 0,
        };
        return true;
    }

    public bool Write(ulong offset, int size, ulong value)
    {
        if (size != 4) return true;
        CatchUp();
        uint v = (uint)value;
        switch (offset)
        {
            case TimeLow: SetTime(v, shift: 0); break;
            case TimeHigh: SetTime(v, shift: 32); break;
            case AlarmLow:
                _alarm = (_alarm & ~0xFFFF_FFFFUL) | v;
                Arm();
                break;
            case AlarmHigh: _alarm = (_alarm & 0xFFFF_FFFFUL) | (ulong)v << 32; break;
            case IrqEnabled:
                _irqEnabled = (v & 1) != 0;
                UpdateInterrupt();
                break;
            case ClearAlarm: _alarmRunning = false; break;
            case ClearInterrupt:
                _irqPending = false;
                UpdateInterrupt();
                break;
        }
        return true;
    }

    /// <summary>Replaces one 32-bit half of the current time by moving the offset, as QEMU does.</summary>
    private void SetTime(uint half, int shift)
    {
        ulong current = Now;
        ulong mask = 0xFFFF_FFFFUL << shift;
        ulong wanted = (current & ~mask) | (ulong)half << shift;
        _offset += wanted - current;
    }

    /// <summary>Writing ALARM_LOW arms the alarm; one already due fires at once.</summary>
    private void Arm()
    {
        ulong now = Now;
        if (_alarm <= now)
        {
            Fire();
            return;
        }
        _alarmRunning = true;
        ulong start = clock.Nanoseconds;
        _alarmDueNanoseconds = _alarm - now > ulong.MaxValue - start ? ulong.MaxValue : start + (_alarm - now);
    }

    private void Fire()
    {
        _alarmRunning = false;
        _irqPending = true;
        UpdateInterrupt();
    }

    private void UpdateInterrupt() => interruptLine(_irqPending && _irqEnabled);
}
