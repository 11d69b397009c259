using ReplayVm.Core.Memory;
using ReplayVm.Core.State;

namespace ReplayVm.Core.Devices.Virtio;

/// <summary>
/// The virtio-mmio transport, version 2 (virtio 1.1 section 4.2.2), one 0x1000-byte slot of
/// QEMU virt. A slot with no device still answers magic and version with device ID 0, which
/// drivers take as "nothing here". Requests are served synchronously when the driver writes
/// QueueNotify, so results appear at a deterministic instruction. The interrupt line is driven as
/// QEMU's virtio_mmio_update_irq drives it — to "interrupt status is non-zero" — whenever a status
/// bit is set (used buffers, configuration change), acknowledged, or cleared by a reset.
/// </summary>
public sealed class VirtioMmio(MainMemory ram, Action<bool> interruptLine) : IMmioDevice, IDeviceState
{
    public const uint Magic = 0x7472_6976; // "virt"
    public const uint QemuVendorId = 0x554D_4551; // "QEMU", what QEMU's transports report
    public const ushort MaxQueueSize = 1024;

    // Status bits (spec 2.1).
    public const uint StatusAcknowledge = 1, StatusDriver = 2, StatusDriverOk = 4, StatusFeaturesOk = 8,
        StatusNeedsReset = 0x40, StatusFailed = 0x80;
    public const uint InterruptUsedBuffer = 1, InterruptConfigChange = 2;

    private const ulong RegMagic = 0x000, RegVersion = 0x004, RegDeviceId = 0x008, RegVendorId = 0x00c,
        RegDeviceFeatures = 0x010, RegDeviceFeaturesSel = 0x014, RegDriverFeatures = 0x020, RegDriverFeaturesSel = 0x024,
        RegQueueSel = 0x030, RegQueueNumMax = 0x034, RegQueueNum = 0x038, RegQueueReady = 0x044, RegQueueNotify = 0x050,
        RegInterruptStatus = 0x060, RegInterruptAck = 0x064, RegStatus = 0x070,
        RegQueueDescLow = 0x080, RegQueueDescHigh = 0x084, RegQueueDriverLow = 0x090, RegQueueDriverHigh = 0x094,
        RegQueueDeviceLow = 0x0a0, RegQueueDeviceHigh = 0x0a4, RegConfigGeneration = 0x0fc, ConfigBase = 0x100;

    private IVirtioDevice? _device;
    private VirtQueue[] _queues = [];
    private readonly List<VirtqBuffer> _chain = new();
    private uint _deviceFeaturesSel, _driverFeaturesSel, _queueSel, _status, _interruptStatus;
    private ulong _driverFeatures;

    public IVirtioDevice? Device => _device;

    public uint Status => _status;

    public uint InterruptStatus => _interruptStatus;

    /// <summary>The slot's interrupt output: high while an interrupt status bit is unacknowledged.</summary>
    public bool InterruptPending => _interruptStatus != 0;

    public void Attach(IVirtioDevice device)
    {
        if (_device != null) throw new InvalidOperationException("this virtio-mmio slot already holds a device");
        _device = device;
        _queues = new VirtQueue[device.QueueCount];
        for (int i = 0; i < _queues.Length; i++) _queues[i] = new VirtQueue(ram, MaxQueueSize);
        Reset();
    }

    /// <summary>Device reset (spec 2.1.1, writing 0 to Status).</summary>
    private void Reset()
    {
        _deviceFeaturesSel = _driverFeaturesSel = _queueSel = _status = _interruptStatus = 0;
        _driverFeatures = 0;
        foreach (var q in _queues) q.Reset();
        interruptLine(false);
    }

    /// <summary>Which device sits in the slot is the board's wiring, not state; it is written only to catch a mismatched restore.</summary>
    public void SaveState(BinaryWriter w)
    {
        SaveTransportState(w);
        if (_device is IDeviceState device) device.SaveState(w);
    }

    public void WriteHashState(BinaryWriter w)
    {
        SaveTransportState(w);
        if (_device is IDeviceState device) device.WriteHashState(w);
    }

    private void SaveTransportState(BinaryWriter w)
    {
        w.Write(_device?.DeviceId ?? 0);
        w.Write(_deviceFeaturesSel); w.Write(_driverFeaturesSel); w.Write(_queueSel); w.Write(_status); w.Write(_interruptStatus);
        w.Write(_driverFeatures);
        foreach (var q in _queues) q.SaveState(w);
    }

    public void LoadState(BinaryReader r)
    {
        uint id = r.ReadUInt32();
        if (id != (_device?.DeviceId ?? 0)) throw new InvalidDataException($"virtio-mmio state is for device ID {id}, this slot holds {_device?.DeviceId ?? 0}");
        _deviceFeaturesSel = r.ReadUInt32(); _driverFeaturesSel = r.ReadUInt32(); _queueSel = r.ReadUInt32(); _status = r.ReadUInt32(); _interruptStatus = r.ReadUInt32();
        _driverFeatures = r.ReadUInt64();
        foreach (var q in _queues) q.LoadState(r);
        if (_device is IDeviceState device) device.LoadState(r);
    }

    private VirtQueue? SelectedQueue => _queueSel < _queues.Length ? _queues[_queueSel] : null;

    public bool Read(ulong offset, int size, out ulong value)
    {
        value = 0;
        if (offset >= ConfigBase)
        {
            if (_device != null && size is 1 or 2 or 4 or 8) value = _device.ReadConfig(offset - ConfigBase, size);
            return true;
        }
        // Registers are 32-bit (spec 4.2.2.2); other widths read as zero, as QEMU answers them.
        if (size != 4) return true;
        value = offset switch
        {
            RegMagic => Magic,
            RegVersion => 2,
            RegDeviceId => _device?.DeviceId ?? 0,
            RegVendorId => _device == null ? 0 : QemuVendorId,
            RegDeviceFeatures when _device != null => _deviceFeaturesSel switch
            {
                0 => (uint)_device.Features,
                1 => (uint)(_device.Features >> 32),
                _ => 0,
            },
            RegQueueNumMax => SelectedQueue?.MaxSize ?? 0u,
            RegQueueReady => SelectedQueue is { Ready: true } ? 1u : 0u,
            RegInterruptStatus => _interruptStatus,
            RegStatus => _status,
            RegConfigGeneration => 0,
            _ => 0,
        };
        return true;
    }

    /// <summary>Reading the transport or a device's configuration has no side effects.</summary>
    public bool Peek(ulong offset, int size, out ulong value) => Read(offset, size, out value);

    public bool Write(ulong offset, int size, ulong value)
    {
        if (_device == null || offset >= ConfigBase || size != 4) return true; // config space is read-only for what we offer
        uint v = (uint)value;
        var q = SelectedQueue;
        switch (offset)
        {
            case RegDeviceFeaturesSel: _deviceFeaturesSel = v; break;
            case RegDriverFeaturesSel: _driverFeaturesSel = v; break;
            case RegDriverFeatures:
                if ((_status & StatusFeaturesOk) != 0) break; // features are fixed once accepted (spec 3.1.1)
                if (_driverFeaturesSel == 0) _driverFeatures = (_driverFeatures & ~0xFFFF_FFFFUL) | v;
                else if (_driverFeaturesSel == 1) _driverFeatures = (_driverFeatures & 0xFFFF_FFFFUL) | (ulong)v << 32;
                break;
            case RegQueueSel: _queueSel = v; break;
            case RegQueueNum when q is { Ready: false }: q.Size = v; break;
            case RegQueueReady when q != null:
                if ((v & 1) == 0) q.Unready();
                else if (!q.Ready) Guard(q.MakeReady);
                break;
            case RegQueueDescLow when q is { Ready: false }: q.DescriptorTable = Low(q.DescriptorTable, v); break;
            case RegQueueDescHigh when q is { Ready: false }: q.DescriptorTable = High(q.DescriptorTable, v); break;
            case RegQueueDriverLow when q is { Ready: false }: q.DriverArea = Low(q.DriverArea, v); break;
            case RegQueueDriverHigh when q is { Ready: false }: q.DriverArea = High(q.DriverArea, v); break;
            case RegQueueDeviceLow when q is { Ready: false }: q.DeviceArea = Low(q.DeviceArea, v); break;
            case RegQueueDeviceHigh when q is { Ready: false }: q.DeviceArea = High(q.DeviceArea, v); break;
            case RegQueueNotify: Notify(v); break;
            case RegInterruptAck:
                _interruptStatus &= ~v;
                interruptLine(_interruptStatus != 0);
                break;
            case RegStatus: WriteStatus(v); break;
        }
        return true;
    }

    private static ulong Low(ulong old, uint v) => (old & ~0xFFFF_FFFFUL) | v;
    private static ulong High(ulong old, uint v) => (old & 0xFFFF_FFFFUL) | (ulong)v << 32;

    /// <summary>
    /// Status (spec 3.1.1): 0 resets; FEATURES_OK sticks only if the driver accepted a subset of
    /// what we offer. A driver that negotiates only the low 32 bits (no VIRTIO_F_VERSION_1) is
    /// accepted too, since the request formats we serve are the same either way.
    /// </summary>
    private void WriteStatus(uint v)
    {
        if (v == 0)
        {
            Reset();
            return;
        }
        bool featuresNewlyOk = (v & StatusFeaturesOk) != 0 && (_status & StatusFeaturesOk) == 0;
        _status = (v & ~StatusNeedsReset) | (_status & StatusNeedsReset);
        if (featuresNewlyOk && (_driverFeatures & ~_device!.Features) != 0) _status &= ~StatusFeaturesOk;
    }

    private void Notify(uint queue)
    {
        if (queue >= _queues.Length || (_status & StatusDriverOk) == 0 || (_status & StatusNeedsReset) != 0) return;
        var q = _queues[queue];
        if (!q.Ready) return;
        Guard(() =>
        {
            bool interrupt = false;
            while (q.TryTake(_chain, out ushort head))
            {
                uint written = _device!.Process((int)queue, _chain, ram);
                interrupt |= q.Complete(head, written);
            }
            if (interrupt) RaiseInterrupt(InterruptUsedBuffer);
        });
    }

    /// <summary>
    /// Runs a step that reads guest-provided structures; a protocol violation puts the device in
    /// DEVICE_NEEDS_RESET (spec 2.1.2). Only the violations the device's checks name count: any other
    /// exception (a RAM access out of range that no check foresaw) is a bug in ReplayVm and surfaces.
    /// </summary>
    private void Guard(Action step)
    {
        try
        {
            step();
        }
        catch (VirtioProtocolException)
        {
            _status |= StatusNeedsReset;
            if ((_status & StatusDriverOk) != 0) RaiseInterrupt(InterruptConfigChange);
        }
    }

    private void RaiseInterrupt(uint bit)
    {
        _interruptStatus |= bit;
        interruptLine(true);
    }
}
