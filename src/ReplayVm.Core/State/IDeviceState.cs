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
}
