using System.Buffers.Binary;
using System.Text;
using ReplayVm.Core.Devices.Storage;
using ReplayVm.Core.Memory;
using ReplayVm.Core.State;

namespace ReplayVm.Core.Devices.Virtio;

/// <summary>
/// virtio-blk (virtio 1.1 section 5.2) over an <see cref="IBlockStorage"/>: one request queue,
/// requests IN, OUT, FLUSH and GET_ID; anything else answers UNSUPP. A request the device can
/// answer in-band but not serve (out of range, unaligned length, buffer outside RAM, host I/O
/// failure) answers IOERR.
/// </summary>
public sealed class VirtioBlock(IBlockStorage storage, string serial = "") : IVirtioDevice, IDeviceState
{
    public const int SectorSize = 512;

    // Feature bits (spec 5.2.3 and 6).
    public const int FeatureSegMax = 2, FeatureReadOnly = 5, FeatureBlockSize = 6, FeatureFlush = 9, FeatureVersion1 = 32;
    public const uint TypeIn = 0, TypeOut = 1, TypeFlush = 4, TypeGetId = 8;
    public const byte StatusOk = 0, StatusIoError = 1, StatusUnsupported = 2;
    public const int IdBytes = 20;

    private const int ChunkBytes = 64 * 1024;
    private readonly byte[] _chunk = new byte[ChunkBytes];

    /// <summary>
    /// The disk's contents are the device's state. Only a storage that can save itself (the
    /// copy-on-write overlay every session puts over its image) is rewound; any other storage
    /// keeps its current contents across a restore.
    /// </summary>
    public void SaveState(BinaryWriter w)
    {
        var saved = storage as IDeviceState;
        w.Write(saved is not null);
        saved?.SaveState(w);
    }

    public void WriteHashState(BinaryWriter w)
    {
        var saved = storage as IDeviceState;
        w.Write(saved is not null);
        saved?.WriteHashState(w);
    }

    public void LoadState(BinaryReader r)
    {
        bool saved = r.ReadBoolean();
        if (saved != storage is IDeviceState) throw new InvalidDataException("virtio-blk state does not match this disk's storage");
        if (saved) ((IDeviceState)storage).LoadState(r);
    }

    public uint DeviceId => 2;

    public ulong Features =>
        1UL << FeatureVersion1 | 1UL << FeatureFlush | 1UL << FeatureBlockSize | 1UL << FeatureSegMax
        | (storage.IsReadOnly ? 1UL << FeatureReadOnly : 0);

    public int QueueCount => 1;

    /// <summary>Capacity in 512-byte sectors; a trailing partial sector is not addressable, as on QEMU.</summary>
    public ulong Capacity => (ulong)storage.Length / SectorSize;

    /// <summary>Config layout (spec 5.2.4): capacity @0, size_max @8, seg_max @12, geometry @16, blk_size @20.</summary>
    public ulong ReadConfig(ulong offset, int size)
    {
        Span<byte> config = stackalloc byte[24];
        BinaryPrimitives.WriteUInt64LittleEndian(config, Capacity);
        BinaryPrimitives.WriteUInt32LittleEndian(config[12..], VirtioMmio.MaxQueueSize - 2);
        BinaryPrimitives.WriteUInt32LittleEndian(config[20..], SectorSize);
        if (offset >= (ulong)config.Length || (ulong)size > (ulong)config.Length - offset) return 0;
        ulong value = 0;
        for (int i = size - 1; i >= 0; i--) value = value << 8 | config[(int)offset + i];
        return value;
    }

    public uint Process(int queue, IReadOnlyList<VirtqBuffer> chain, MainMemory ram)
    {
        var request = new BlockRequestLayout(chain, ram);
        byte status;
        if (!request.TryReadHeader(out uint type, out ulong sector)) status = StatusIoError;
        else
        {
            try
            {
                status = type switch
                {
                    TypeIn => Transfer(request, sector, toGuest: true),
                    TypeOut => Transfer(request, sector, toGuest: false),
                    TypeFlush => Flush(),
                    TypeGetId => GetId(request),
                    _ => StatusUnsupported,
                };
            }
            catch (IOException)
            {
                status = StatusIoError;
            }
        }
        request.WriteStatus(status);
        // QEMU reports the whole device-writable size as the used length, whatever the outcome;
        // drivers ignore it for virtio-blk, and matching QEMU keeps the two machines comparable.
        return request.WritableLength;
    }

    private byte Transfer(BlockRequestLayout request, ulong sector, bool toGuest)
    {
        var (data, length) = toGuest ? request.GuestWritableData : request.GuestReadableData;
        if (length % SectorSize != 0 || sector > Capacity || length / SectorSize > Capacity - sector) return StatusIoError;
        if (!toGuest && storage.IsReadOnly) return StatusIoError;
        if (!BlockRequestLayout.AllInRam(data, request.Ram)) return StatusIoError;
        long position = (long)(sector * SectorSize);
        foreach (var (address, bytes) in data)
        {
            for (ulong done = 0; done < bytes;)
            {
                int n = (int)Math.Min((ulong)ChunkBytes, bytes - done);
                if (toGuest)
                {
                    storage.Read(position, _chunk.AsSpan(0, n));
                    request.Ram.Write(address + done, _chunk.AsSpan(0, n));
                }
                else storage.Write(position, request.Ram.Read(address + done, n));
                position += n;
                done += (ulong)n;
            }
        }
        return StatusOk;
    }

    private byte Flush()
    {
        storage.Flush();
        return StatusOk;
    }

    /// <summary>GET_ID: the serial and its NUL, at most 20 bytes, as QEMU writes it (an empty serial is one zero byte).</summary>
    private byte GetId(BlockRequestLayout request)
    {
        var (data, length) = request.GuestWritableData;
        if (!BlockRequestLayout.AllInRam(data, request.Ram)) return StatusIoError;
        var id = new byte[IdBytes];
        Encoding.ASCII.GetBytes(serial.Length > IdBytes ? serial[..IdBytes] : serial).CopyTo(id, 0);
        int count = (int)Math.Min((ulong)Math.Min(serial.Length + 1, IdBytes), length);
        int copied = 0;
        foreach (var (address, bytes) in data)
        {
            int n = (int)Math.Min(bytes, (ulong)(count - copied));
            if (n == 0) break;
            request.Ram.Write(address, id.AsSpan(copied, n));
            copied += n;
        }
        return StatusOk;
    }
}
