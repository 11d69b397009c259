namespace ReplayVm.Core;

/// <summary>
/// Optional real-time pacing (`--pace`). Guest time comes from the instruction count, so a fast
/// host runs the guest's clock ahead of the wall clock; a pacer may make the host wait between
/// slices until real time catches up. It can only delay — never change — what the guest computes:
/// the machine calls it after a slice, with guest time in nanoseconds, and ignores what it does.
/// </summary>
public interface IGuestPacer
{
    void WaitForHost(ulong guestNanoseconds);
}
