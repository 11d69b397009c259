namespace ReplayVm.Core;

/// <summary>
/// The last <see cref="Capacity"/> bytes the guest printed on its console, and how many it printed in
/// all. Host-side bookkeeping only, outside the machine's state (never hashed, snapshotted or
/// rewound): it exists so that <c>replayvm inspect</c> can show a hung or crashed process's last
/// console lines from its heap, and check a salvaged recording against them.
/// </summary>
public sealed class ConsoleTail
{
    public const int Capacity = 4096;

    private readonly byte[] _ring = new byte[Capacity];
    private long _written;

    /// <summary>Bytes printed since the machine was built.</summary>
    public long Written => _written;

    public void Add(byte value)
    {
        _ring[(int)(_written & (Capacity - 1))] = value;
        _written++;
    }

    /// <summary>The retained bytes, oldest first.</summary>
    public byte[] ToArray()
    {
        int count = (int)Math.Min(_written, Capacity);
        var bytes = new byte[count];
        for (int i = 0; i < count; i++) bytes[i] = _ring[(int)((_written - count + i) & (Capacity - 1))];
        return bytes;
    }
}
