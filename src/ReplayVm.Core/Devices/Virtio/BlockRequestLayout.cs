using System.Buffers.Binary;
using ReplayVm.Core.Memory;

namespace ReplayVm.Core.Devices.Virtio;

/// <summary>
/// Where a virtio-blk request's parts lie in its descriptor chain (spec 5.2.6): a 16-byte header
/// at the start of the device-readable bytes, data after it (OUT) or at the start of the
/// device-writable bytes (IN), and the status byte as the last device-writable byte. Drivers may
/// split these across buffers however they like (spec 2.6.4), so positions are byte offsets into
/// the concatenated buffers, not descriptor numbers.
/// </summary>
internal sealed class BlockRequestLayout
{
    private const int HeaderBytes = 16;
    private readonly List<(ulong Address, ulong Length)> _readable = new(), _writable = new();
    private readonly ulong _readableLength, _writableLength;

    public BlockRequestLayout(IReadOnlyList<VirtqBuffer> chain, MainMemory ram)
    {
        Ram = ram;
        foreach (var b in chain)
        {
            if (b.Length == 0) continue;
            if (b.DeviceWritable)
            {
                _writable.Add((b.Address, b.Length));
                _writableLength += b.Length;
            }
            else
            {
                _readable.Add((b.Address, b.Length));
                _readableLength += b.Length;
            }
        }
        // Without a status byte in RAM there is no in-band way to answer (spec 2.1.2: needs reset).
        if (_writableLength == 0) throw new VirtioProtocolException("virtio-blk request without a device-writable status byte");
        if (!ram.Contains(StatusAddress, 1)) throw new VirtioProtocolException("virtio-blk status byte outside RAM");
    }

    public MainMemory Ram { get; }

    /// <summary>All device-writable bytes of the chain, status included (saturating at 4 GiB - 1).</summary>
    public uint WritableLength => (uint)Math.Min(_writableLength, uint.MaxValue);

    private ulong StatusAddress => _writable[^1].Address + _writable[^1].Length - 1;

    /// <summary>Data the device writes: every device-writable byte except the status.</summary>
    public (List<(ulong Address, ulong Length)> Ranges, ulong Length) GuestWritableData => (Slice(_writable, 0, _writableLength - 1), _writableLength - 1);

    /// <summary>Data the device reads: every device-readable byte after the header.</summary>
    public (List<(ulong Address, ulong Length)> Ranges, ulong Length) GuestReadableData =>
        (Slice(_readable, HeaderBytes, _readableLength - HeaderBytes), _readableLength - HeaderBytes);

    public bool TryReadHeader(out uint type, out ulong sector)
    {
        type = 0;
        sector = 0;
        if (_readableLength < HeaderBytes) return false;
        var header = Slice(_readable, 0, HeaderBytes);
        if (!AllInRam(header, Ram)) return false;
        Span<byte> bytes = stackalloc byte[HeaderBytes];
        int at = 0;
        foreach (var (address, length) in header)
        {
            Ram.Read(address, (int)length).CopyTo(bytes[at..]);
            at += (int)length;
        }
        type = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        sector = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
        return true;
    }

    public void WriteStatus(byte status) => Ram.Write(StatusAddress, [status]);

    public static bool AllInRam(List<(ulong Address, ulong Length)> ranges, MainMemory ram)
    {
        foreach (var (address, length) in ranges)
            if (!ram.Contains(address, length)) return false;
        return true;
    }

    /// <summary>The ranges covering bytes [skip, skip + length) of the concatenated buffers.</summary>
    private static List<(ulong Address, ulong Length)> Slice(List<(ulong Address, ulong Length)> buffers, ulong skip, ulong length)
    {
        var result = new List<(ulong, ulong)>();
        foreach (var (address, size) in buffers)
        {
            if (length == 0) break;
            if (skip >= size)
            {
                skip -= size;
                continue;
            }
            ulong take = Math.Min(size - skip, length);
            result.Add((address + skip, take));
            length -= take;
            skip = 0;
        }
        return result;
    }
}
