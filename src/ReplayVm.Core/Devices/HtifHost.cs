using ReplayVm.Core.Memory;

namespace ReplayVm.Core.Devices;

/// <summary>
/// Spike's host-target interface: the guest writes a command to the 64-bit word at the ELF symbol
/// <c>tohost</c> and the host answers through <c>fromhost</c>. A command is device (bits 63:56),
/// command (55:48) and payload (47:0). Device 0 command 0 with an odd payload ends the run with
/// exit code payload &gt;&gt; 1; with an even payload it points at a proxied syscall block of
/// which we serve write(1 or 2, buf, len). Device 1 command 1 prints a character. The machine
/// polls <c>tohost</c> at slice boundaries, as Spike's host loop does, so polling is
/// deterministic.
/// </summary>
public sealed class HtifHost(MainMemory ram, ulong tohost, ulong? fromhost, Action<byte> console, Action<int, string?> requestExit)
{
    private const ulong SysWrite = 64;

    public void Poll()
    {
        if (!ram.Contains(tohost, 8)) return;
        ulong command = BitConverter.ToUInt64(ram.Read(tohost, 8));
        if (command == 0) return;
        ram.Write(tohost, stackalloc byte[8]);
        ulong device = command >> 56, cmd = (command >> 48) & 0xFF, payload = command & 0xFFFF_FFFF_FFFF;
        if (device == 0 && cmd == 0)
        {
            if ((payload & 1) != 0)
            {
                requestExit((int)(payload >> 1), null);
                return;
            }
            ServeSyscall(payload);
            Respond(1);
        }
        else if (device == 1 && cmd == 1)
        {
            console((byte)payload);
            Respond((1UL << 56) | (1UL << 48));
        }
    }

    private void ServeSyscall(ulong block)
    {
        if (!ram.Contains(block, 32)) return;
        var args = ram.Read(block, 32);
        ulong number = BitConverter.ToUInt64(args), fd = BitConverter.ToUInt64(args[8..]);
        ulong buffer = BitConverter.ToUInt64(args[16..]), length = BitConverter.ToUInt64(args[24..]);
        ulong result = unchecked((ulong)-38L); // -ENOSYS
        if (number == SysWrite && fd is 1 or 2 && length <= int.MaxValue && ram.Contains(buffer, length))
        {
            foreach (byte b in ram.Read(buffer, (int)length)) console(b);
            result = length;
        }
        ram.Write(block, BitConverter.GetBytes(result));
    }

    private void Respond(ulong value)
    {
        if (fromhost is { } address && ram.Contains(address, 8)) ram.Write(address, BitConverter.GetBytes(value));
    }
}
