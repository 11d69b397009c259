using ReplayVm.Core.Memory;

namespace ReplayVm.Core.Devices;

/// <summary>
/// The <c>sifive_test</c> device of QEMU's virt: a write of 0x5555 passes (exit 0),
/// 0x3333 | code &lt;&lt; 16 fails with <c>code</c>, 0x7777 asks for a reset. As in QEMU 7.2
/// (hw/misc/sifive_test.c, min_access_size 2) halfword writes count too: OpenSBI 1.1 powers off
/// with a 16-bit store of 0x5555, which is how Linux's SBI SRST shutdown ends a run.
/// </summary>
public sealed class SifiveTestFinisher(Action<int, string?> requestExit) : IMmioDevice
{
    private const uint Fail = 0x3333, Pass = 0x5555, Reset = 0x7777;

    public bool Read(ulong offset, int size, out ulong value)
    {
        value = 0;
        return true;
    }

    public bool Peek(ulong offset, int size, out ulong value) => Read(offset, size, out value);

    public bool Write(ulong offset, int size, ulong value)
    {
        if (offset != 0 || size < 2) return true;
        uint status = (uint)value & 0xFFFF, code = (uint)(value >> 16) & 0xFFFF;
        switch (status)
        {
            case Pass: requestExit(0, null); break;
            case Fail: requestExit((int)code, null); break;
            // A reset restarts the guest on QEMU; a recorded session ends there instead.
            case Reset: requestExit(0, "guest requested a reset"); break;
        }
        return true;
    }
}
