namespace ReplayVm.Core.Input;

/// <summary>
/// The one door through which host input reaches the guest. The machine polls it only at
/// instruction boundaries it chooses, passing the retired-instruction count, so the same
/// schedule of deliveries reproduces the same run. A recorder wraps a live port and logs what it
/// hands over; a replayer delivers logged events at their logged counts.
/// </summary>
public interface IInputPort
{
    /// <summary>
    /// The next instruction count at which this port already knows it has something to deliver
    /// (a replayed event), or <see cref="ulong.MaxValue"/>. The machine ends its current slice
    /// there so that the event lands at exactly that count.
    /// </summary>
    ulong NextDeliveryAt { get; }

    /// <summary>Hand pending input to the guest's devices, at instruction count <paramref name="instret"/>.</summary>
    void Poll(ulong instret, IInputSink sink);

    /// <summary>
    /// The host's wall-clock time in nanoseconds since the Unix epoch, as a device (the Goldfish RTC)
    /// reads it at step <paramref name="instret"/>. A nondeterministic input: live ports read the
    /// host clock, recorders log the answer, replayers return the logged one.
    /// </summary>
    ulong ReadWallClock(ulong instret);

    /// <summary>
    /// Fills <paramref name="destination"/> with random bytes, as a device (virtio-rng) asks for
    /// them at step <paramref name="instret"/>. A nondeterministic input like the wall clock: live
    /// ports draw from the host's cryptographic generator, recorders log the bytes, replayers hand
    /// the logged bytes back and flag a divergence when asked at another step or for another length.
    /// </summary>
    void ReadEntropy(ulong instret, Span<byte> destination);

    /// <summary>
    /// The guest is idle at step <paramref name="instret"/>: it executed WFI with no interrupt
    /// pending and nothing in the machine (a timer, an RTC alarm) that could raise one, so only host
    /// input can change what it does next. A live port blocks until it has input for a
    /// <see cref="Poll"/> (true) or <paramref name="wake"/> is cancelled (false), so that an idle
    /// guest costs no steps while the user thinks. A port whose input is fixed in advance (a
    /// replay, a script, none), or that will never have more (stdin at its end), answers at once —
    /// true if it has input due now — and the guest runs on. Waiting changes no machine state.
    /// </summary>
    bool WaitForInput(ulong instret, CancellationToken wake) => false;
}

/// <summary>What the machine offers an input port at a poll.</summary>
public interface IInputSink
{
    /// <summary>Room left in the UART receive FIFO.</summary>
    int ConsoleRoom { get; }

    void DeliverConsoleByte(byte value);
}

/// <summary>An input port with nothing to say: for batch runs and tests.</summary>
public sealed class NoInput : IInputPort
{
    public static readonly NoInput Instance = new();
    public ulong NextDeliveryAt => ulong.MaxValue;
    public void Poll(ulong instret, IInputSink sink) { }

    /// <summary>A fixed instant (2026-01-01T00:00:00Z), so runs without a host clock stay reproducible.</summary>
    public ulong ReadWallClock(ulong instret) => 1_767_225_600UL * 1_000_000_000UL;

    /// <summary>
    /// A fixed pattern, so runs without a host generator stay reproducible: the destination is
    /// filled 8 bytes at a time, little-endian, with SplitMix64 outputs for the seeds
    /// <c>instret</c>, <c>instret + 1</c>, ... (one seed per 8-byte block). Varied enough for a
    /// guest that seeds a game from it; never a secret.
    /// </summary>
    public void ReadEntropy(ulong instret, Span<byte> destination) => DeterministicEntropy.Fill(instret, destination);
}

/// <summary>The reproducible entropy pattern <see cref="NoInput"/> answers with (SplitMix64, Steele et al. 2014).</summary>
public static class DeterministicEntropy
{
    public static void Fill(ulong seed, Span<byte> destination)
    {
        Span<byte> block = stackalloc byte[8];
        for (int at = 0; at < destination.Length; at += 8, seed++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(block, SplitMix64(seed));
            block[..Math.Min(8, destination.Length - at)].CopyTo(destination[at..]);
        }
    }

    private static ulong SplitMix64(ulong x)
    {
        x += 0x9E37_79B9_7F4A_7C15;
        x = (x ^ (x >> 30)) * 0xBF58_476D_1CE4_E5B9;
        x = (x ^ (x >> 27)) * 0x94D0_49BB_1331_11EB;
        return x ^ (x >> 31);
    }
}
