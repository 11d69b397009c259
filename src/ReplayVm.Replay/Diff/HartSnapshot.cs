using ReplayVm.Core;
using ReplayVm.Core.Hart;

namespace ReplayVm.Replay.Diff;

/// <summary>
/// The non-RAM part of what <see cref="Core.State.MachineStateHasher"/> hashes, copied out of a
/// machine so two machines (or one machine a step apart) can be compared value by value: step and
/// exception counters, pc, mode, x1..x31, f0..f31, every CSR 0x000..0xFFF that exists, the guest
/// clock's idle time and tick offset, and the CLINT's mtimecmp. Reused buffers: capturing does not allocate.
/// </summary>
public sealed class HartSnapshot
{
    public const int CsrCount = 0x1000;

    public ulong Steps, ExceptionsTaken, Pc, IdleNanoseconds, TickOffset, Mtimecmp;
    public PrivilegeLevel Mode;
    public readonly ulong[] X = new ulong[32];
    public readonly ulong[] F = new ulong[32];
    public readonly ulong[] Csr = new ulong[CsrCount];
    /// <summary>Bit <c>n</c> set when CSR <c>n</c> exists (a CSR may exist in one run and not the other, e.g. behind an enable bit).</summary>
    public readonly ulong[] CsrPresent = new ulong[CsrCount / 64];

    public void Capture(Machine machine)
    {
        var hart = machine.Hart;
        Steps = hart.Steps;
        ExceptionsTaken = hart.ExceptionsTaken;
        Pc = hart.Pc;
        Mode = hart.Mode;
        for (int i = 1; i < 32; i++) X[i] = hart.GetX(i);
        for (int i = 0; i < 32; i++) F[i] = hart.GetF(i);
        Array.Clear(CsrPresent);
        for (uint csr = 0; csr < CsrCount; csr++)
        {
            bool present = hart.TryReadCsr(csr, out Csr[csr]);
            if (present) CsrPresent[csr >> 6] |= 1UL << (int)(csr & 63);
        }
        IdleNanoseconds = hart.Clock.IdleNanoseconds;
        TickOffset = hart.Clock.TickOffset;
        Mtimecmp = machine.Clint.Mtimecmp;
    }

    public bool HasCsr(uint csr) => (CsrPresent[csr >> 6] >> (int)(csr & 63) & 1) != 0;

    public ulong? CsrOrNull(uint csr) => HasCsr(csr) ? Csr[csr] : null;

    public bool SameAs(HartSnapshot other) =>
        Steps == other.Steps && ExceptionsTaken == other.ExceptionsTaken && Pc == other.Pc && Mode == other.Mode
        && IdleNanoseconds == other.IdleNanoseconds && TickOffset == other.TickOffset && Mtimecmp == other.Mtimecmp
        && X.AsSpan().SequenceEqual(other.X) && F.AsSpan().SequenceEqual(other.F)
        && CsrPresent.AsSpan().SequenceEqual(other.CsrPresent) && Csr.AsSpan().SequenceEqual(other.Csr);

    public void CopyTo(HartSnapshot other)
    {
        (other.Steps, other.ExceptionsTaken, other.Pc, other.Mode) = (Steps, ExceptionsTaken, Pc, Mode);
        (other.IdleNanoseconds, other.TickOffset, other.Mtimecmp) = (IdleNanoseconds, TickOffset, Mtimecmp);
        X.CopyTo(other.X, 0);
        F.CopyTo(other.F, 0);
        Csr.CopyTo(other.Csr, 0);
        CsrPresent.CopyTo(other.CsrPresent, 0);
    }
}
