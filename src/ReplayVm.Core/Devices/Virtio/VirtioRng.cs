using ReplayVm.Core.Input;
using ReplayVm.Core.Memory;

namespace ReplayVm.Core.Devices.Virtio;

/// <summary>
/// virtio-rng, the entropy device (virtio 1.1 section 5.4, device ID 4): one request queue, no
/// device-specific features and no configuration space. Each request chain's device-writable
/// buffers are filled, in order, with bytes from the input port — the one place randomness may
/// enter the machine, so a recording logs them and a replay hands them back.
/// </summary>
/// <param name="input">Where the bytes come from.</param>
/// <param name="currentStep">The machine's step count (<c>Hart.Steps</c>) when a request is served.</param>
public sealed class VirtioRng(IInputPort input, Func<ulong> currentStep) : IVirtioDevice
{
    public const int FeatureVersion1 = 32;

    /// <summary>
    /// Most bytes one request gets. Spec 5.4.6.1 lets the device fill fewer than offered (the used
    /// length says how many); the cap keeps one trace event small whatever buffer size a guest offers.
    /// </summary>
    public const int MaxBytesPerRequest = 64 * 1024;

    private readonly byte[] _entropy = new byte[MaxBytesPerRequest];

    public uint DeviceId => 4;

    public ulong Features => 1UL << FeatureVersion1;

    public int QueueCount => 1;

    /// <summary>virtio-rng has no configuration space (spec 5.4.4): every read answers zero.</summary>
    public ulong ReadConfig(ulong offset, int size) => 0;

    /// <summary>
    /// Fills the device-writable buffers up to the cap, stopping at the first buffer that does not
    /// lie wholly in RAM; device-readable buffers carry nothing for this device and are skipped.
    /// The input port is asked once per request, for exactly the bytes written.
    /// </summary>
    public uint Process(int queue, IReadOnlyList<VirtqBuffer> chain, MainMemory ram)
    {
        int total = 0;
        foreach (var b in chain)
        {
            if (!b.DeviceWritable || b.Length == 0) continue;
            if (!ram.Contains(b.Address, b.Length)) break;
            int take = (int)Math.Min(b.Length, (uint)(MaxBytesPerRequest - total));
            total += take;
            if (total == MaxBytesPerRequest) break;
        }
        if (total == 0) return 0;

        var bytes = _entropy.AsSpan(0, total);
        input.ReadEntropy(currentStep(), bytes);
        int at = 0;
        foreach (var b in chain)
        {
            if (at == total) break;
            if (!b.DeviceWritable || b.Length == 0) continue;
            int take = (int)Math.Min(b.Length, (uint)(total - at));
            ram.Write(b.Address, bytes.Slice(at, take));
            at += take;
        }
        return (uint)total;
    }
}
