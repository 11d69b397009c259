using ReplayVm.Core.Memory;
using ReplayVm.Core.State;

namespace ReplayVm.Core.Devices;

/// <summary>
/// NS16550A UART (register layout per the National/TI PC16550D datasheet), as QEMU's virt has at
/// 0x1000_0000. Transmission is instant: THR bytes go straight to the console sink. Received bytes
/// arrive only from the machine's input port, into a 16-byte FIFO.
///
/// The interrupt follows QEMU 7.2's hw/char/serial.c: IIR reports received data (while the FIFO
/// holds bytes and ERBFI is set), else the transmit-empty <em>event</em> (a flag set when THR empties —
/// at once after each THR write, since transmission is instant — and when ETBEI is switched on,
/// cleared by reading IIR while it is the reported source, by writing THR, or by switching ETBEI
/// off). The line to the PLIC is driven (<see cref="InterruptLine"/>) only where QEMU's
/// <c>serial_update_irq</c> runs: a THR write, an IER write that changes it, an FCR write, an RBR
/// read, an IIR read that reports THRE, and a received byte. So a driver that enables THRE and
/// never reads IIR is interrupted once per transmitted byte, as on QEMU, not continuously.
/// Not modelled: receive trigger levels and the character-timeout interrupt (data is reported as
/// soon as one byte is in the FIFO), line-status and modem-status interrupts, loopback.
/// </summary>
public sealed class Uart16550(Action<byte> transmit) : IMmioDevice, IDeviceState
{
    public const int FifoDepth = 16;

    private const int Rbr = 0, Ier = 1, Iir = 2, Lcr = 3, Mcr = 4, Lsr = 5, Msr = 6, Scr = 7;
    private const byte LcrDlab = 0x80;
    private const byte LsrDataReady = 0x01, LsrThrEmpty = 0x20, LsrTransmitterEmpty = 0x40;
    private const byte IerReceiveData = 0x01, IerThrEmpty = 0x02;
    private const byte FcrEnable = 0x01, FcrClearReceive = 0x02, FcrClearTransmit = 0x04;
    private const byte IirNone = 0x01, IirThrEmpty = 0x02, IirReceiveData = 0x04, IirFifosEnabled = 0xC0;

    private readonly Queue<byte> _receive = new(FifoDepth);
    private byte _ier, _lcr, _mcr, _scr, _fcr, _dll = 0x0C, _dlm;
    /// <summary>The THR-empty interrupt is an event: raised when THR empties or ETBEI is set, cleared by reading IIR or writing THR.</summary>
    private bool _thrEmptyPending;

    public int ReceiveRoom => FifoDepth - _receive.Count;

    /// <summary>The interrupt line to the PLIC, driven as QEMU's serial_update_irq drives it; wired by the board.</summary>
    public Action<bool>? InterruptLine { get; set; }

    public void Receive(byte value)
    {
        if (_receive.Count < FifoDepth) _receive.Enqueue(value);
        UpdateInterrupt();
    }

    private void UpdateInterrupt() => InterruptLine?.Invoke(InterruptPending);

    public void SaveState(BinaryWriter w)
    {
        w.Write((byte)_receive.Count);
        foreach (byte b in _receive) w.Write(b);
        w.Write(_ier); w.Write(_lcr); w.Write(_mcr); w.Write(_scr); w.Write(_fcr); w.Write(_dll); w.Write(_dlm);
        w.Write(_thrEmptyPending);
    }

    public void LoadState(BinaryReader r)
    {
        _receive.Clear();
        for (int n = r.ReadByte(); n > 0; n--) _receive.Enqueue(r.ReadByte());
        _ier = r.ReadByte(); _lcr = r.ReadByte(); _mcr = r.ReadByte(); _scr = r.ReadByte(); _fcr = r.ReadByte(); _dll = r.ReadByte(); _dlm = r.ReadByte();
        _thrEmptyPending = r.ReadBoolean();
    }

    public bool InterruptPending =>
        ((_ier & IerReceiveData) != 0 && _receive.Count > 0) || ((_ier & IerThrEmpty) != 0 && _thrEmptyPending);

    public int RegisterWidth => 1;

    public bool Read(ulong offset, int size, out ulong value)
    {
        if (!Peek(offset, size, out value) || size != 1) return offset < 8;
        if (offset == Rbr && (_lcr & LcrDlab) == 0)
        {
            if (_receive.Count > 0) _receive.Dequeue();
            UpdateInterrupt();
        }
        else if (offset == Iir && (value & 0x0F) == IirThrEmpty)
        {
            _thrEmptyPending = false;
            UpdateInterrupt();
        }
        return true;
    }

    /// <summary>What a read returns; the FIFO pop and the THRE-event clear are <see cref="Read"/>'s alone.</summary>
    public bool Peek(ulong offset, int size, out ulong value)
    {
        value = 0;
        if (size != 1) return offset < 8;
        value = offset switch
        {
            Rbr when (_lcr & LcrDlab) != 0 => _dll,
            Rbr => _receive.Count > 0 ? _receive.Peek() : (byte)0,
            Ier when (_lcr & LcrDlab) != 0 => _dlm,
            Ier => _ier,
            Iir => IirValue(),
            Lcr => _lcr,
            Mcr => _mcr,
            Lsr => (byte)(LsrThrEmpty | LsrTransmitterEmpty | (_receive.Count > 0 ? LsrDataReady : 0)),
            Msr => 0xB0, // DCD, DSR, CTS: a connected, idle line
            Scr => _scr,
            _ => 0,
        };
        return true;
    }

    private byte IirValue()
    {
        byte fifo = (_fcr & 1) != 0 ? IirFifosEnabled : (byte)0;
        if ((_ier & IerReceiveData) != 0 && _receive.Count > 0) return (byte)(fifo | IirReceiveData);
        if ((_ier & IerThrEmpty) != 0 && _thrEmptyPending) return (byte)(fifo | IirThrEmpty);
        return (byte)(fifo | IirNone);
    }

    public bool Write(ulong offset, int size, ulong value)
    {
        if (size != 1) return offset < 8;
        byte b = (byte)value;
        switch (offset)
        {
            case Rbr when (_lcr & LcrDlab) != 0: _dll = b; break;
            case Rbr:
                transmit(b);
                _thrEmptyPending = true; // transmission is instant, so THR is empty again at once
                UpdateInterrupt();
                break;
            case Ier when (_lcr & LcrDlab) != 0: _dlm = b; break;
            case Ier:
                byte changed = (byte)((_ier ^ b) & 0x0F);
                _ier = (byte)(b & 0x0F);
                // THR is always empty here, so switching ETBEI on raises the event and off drops it.
                if ((changed & IerThrEmpty) != 0) _thrEmptyPending = (_ier & IerThrEmpty) != 0;
                if (changed != 0) UpdateInterrupt();
                break;
            case Iir:
                // Changing the enable bit flushes both FIFOs; flushing the transmitter raises the THRE event.
                if (((b ^ _fcr) & FcrEnable) != 0) b |= FcrClearReceive | FcrClearTransmit;
                if ((b & FcrClearReceive) != 0) _receive.Clear();
                if ((b & FcrClearTransmit) != 0) _thrEmptyPending = true;
                _fcr = (byte)(b & 0xC9);
                UpdateInterrupt();
                break;
            case Lcr: _lcr = b; break;
            case Mcr: _mcr = (byte)(b & 0x1F); break;
            case Scr: _scr = b; break;
        }
        return true;
    }
}
