namespace ReplayVm.Core.Hart;

/// <summary>What a memory access is for; decides permission bits and which fault it raises.</summary>
public enum AccessType : byte
{
    Fetch,
    Load,
    Store,
}

internal static class AccessTypeFaults
{
    public static ulong PageFault(this AccessType type) => type switch
    {
        AccessType.Fetch => ExceptionCause.InstructionPageFault,
        AccessType.Load => ExceptionCause.LoadPageFault,
        _ => ExceptionCause.StorePageFault,
    };

    public static ulong AccessFault(this AccessType type) => type switch
    {
        AccessType.Fetch => ExceptionCause.InstructionAccessFault,
        AccessType.Load => ExceptionCause.LoadAccessFault,
        _ => ExceptionCause.StoreAccessFault,
    };
}
