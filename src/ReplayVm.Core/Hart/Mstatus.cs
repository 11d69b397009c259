namespace ReplayVm.Core.Hart;

/// <summary>mstatus fields (privileged spec 3.1.6, figure 3.7).</summary>
public static class Mstatus
{
    public const ulong Sie = 1UL << 1;
    public const ulong Mie = 1UL << 3;
    public const ulong Spie = 1UL << 5;
    public const ulong Mpie = 1UL << 7;
    public const ulong Spp = 1UL << 8;
    public const int MppShift = 11;
    public const ulong Mpp = 3UL << MppShift;
    public const ulong Fs = 3UL << 13;
    public const ulong Mprv = 1UL << 17;
    public const ulong Sum = 1UL << 18;
    public const ulong Mxr = 1UL << 19;
    public const ulong Tvm = 1UL << 20;
    public const ulong Tw = 1UL << 21;
    public const ulong Tsr = 1UL << 22;
    /// <summary>UXL = SXL = 2: XLEN is 64 in U and S mode, read-only here.</summary>
    public const ulong XlenFields = (2UL << 32) | (2UL << 34);
    public const ulong Sd = 1UL << 63;

    /// <summary>Fields M-mode software may write.</summary>
    public const ulong WritableByM = Sie | Mie | Spie | Mpie | Spp | Mpp | Mprv | Sum | Mxr | Tvm | Tw | Tsr;

    /// <summary>The fields visible through sstatus (privileged spec 4.1.1).</summary>
    public const ulong SstatusView = Sie | Spie | Spp | Fs | Sum | Mxr | (3UL << 32) | Sd;
    public const ulong WritableByS = Sie | Spie | Spp | Sum | Mxr;
}
