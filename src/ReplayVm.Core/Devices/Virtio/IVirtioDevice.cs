using ReplayVm.Core.Memory;

namespace ReplayVm.Core.Devices.Virtio;

/// <summary>A virtio device type behind the MMIO transport (virtio 1.1 ch. 5).</summary>
public interface IVirtioDevice
{
    /// <summary>Device ID (spec 5): 2 for a block device.</summary>
    uint DeviceId { get; }

    /// <summary>Feature bits offered, including transport bits such as VIRTIO_F_VERSION_1.</summary>
    ulong Features { get; }

    int QueueCount { get; }

    /// <summary>Reads the device-specific configuration space (little-endian).</summary>
    ulong ReadConfig(ulong offset, int size);

    /// <summary>
    /// Serves one request chain; returns the used length to report for it (spec 2.6.8: bytes
    /// written into the chain's device-writable buffers). Throws <see cref="VirtioProtocolException"/> when no in-band answer is possible.
    /// </summary>
    uint Process(int queue, IReadOnlyList<VirtqBuffer> chain, MainMemory ram);
}
