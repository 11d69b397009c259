namespace ReplayVm.Core.State;

/// <summary>
/// A device whose registers, FIFOs or buffers decide what the guest sees next. A machine snapshot
/// asks each one to write its state and, on restore, to read it back, in the same order. The
/// format is private to the device and lives only in memory (checkpoints are never written to
/// disk), so it carries no version.
/// </summary>
public interface IDeviceState
{
    void SaveState(BinaryWriter w);

    void LoadState(BinaryReader r);

    /// <summary>
    /// Writes what the state hash (<see cref="MachineStateHasher"/>) covers of this device: by
    /// default exactly what <see cref="SaveState"/> writes, so a field a snapshot restores is a field
    /// the hash checks. A device may write something smaller that still changes whenever its state
    /// does (the disk overlay writes a digest per page instead of the pages). The bytes reach a
    /// trace only through the hash, so their layout is versioned by <see cref="MachineStateHasher.Version"/>.
    /// </summary>
    void WriteHashState(BinaryWriter w) => SaveState(w);
}
