namespace ReplayVm.Core.Isa;

/// <summary>What an instruction does to memory, besides its registers.</summary>
public enum MemoryAccessKind : byte
{
    None,
    Load,
    Store,
    /// <summary>LR: a load that sets a reservation.</summary>
    LoadReserved,
    /// <summary>SC: a store only if the reservation holds.</summary>
    StoreConditional,
    /// <summary>An AMO: a read and a write of the same location, atomically.</summary>
    ReadModifyWrite,
}

/// <summary>An instruction's memory access: kind and size in bytes (0 with <see cref="MemoryAccessKind.None"/>).</summary>
public readonly record struct MemoryAccess(MemoryAccessKind Kind, byte Size)
{
    public static readonly MemoryAccess None = default;

    public bool Reads => Kind is MemoryAccessKind.Load or MemoryAccessKind.LoadReserved or MemoryAccessKind.ReadModifyWrite;

    public bool Writes => Kind is MemoryAccessKind.Store or MemoryAccessKind.StoreConditional or MemoryAccessKind.ReadModifyWrite;

    public static MemoryAccess Load(int size) => new(MemoryAccessKind.Load, (byte)size);

    public static MemoryAccess Store(int size) => new(MemoryAccessKind.Store, (byte)size);
}
