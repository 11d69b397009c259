namespace ReplayVm.Core.Hart;

/// <summary>
/// A hart snapshot as bytes, for checkpoints kept on disk (a trace's index sidecar). The layout is
/// fixed field by field; <see cref="ImageVersion"/> changes whenever it does, and the sidecar
/// records it so an index written by another layout is rebuilt rather than misread.
/// </summary>
public sealed partial class HartSnapshot
{
    /// <summary>Bump when <see cref="Write"/>'s layout changes (or a field is added to the snapshot).</summary>
    public const int ImageVersion = 1;

    public void Write(BinaryWriter w)
    {
        foreach (ulong v in X) w.Write(v);
        foreach (ulong v in F) w.Write(v);
        foreach (ulong v in Csrs) w.Write(v);
        w.Write(PmpConfig);
        foreach (ulong v in PmpAddress) w.Write(v);
        foreach (ulong v in (ReadOnlySpan<ulong>)[Pc, Steps, ExceptionsTaken, ReservationAddress, ReservationValue, IdleNanoseconds, TickOffset, InterruptLines])
            w.Write(v);
        w.Write((byte)Mode);
        w.Write(Fflags);
        w.Write(Frm);
        w.Write(WaitingForInterrupt);
        w.Write(RepeatedTrapCount);
        w.Write(LastTrapPc);
        w.Write(LastTrapCause);
        w.Write(LastTrapRetired);
        w.Write(Triggers.Select);
        w.Write(Triggers.Control0);
        w.Write(Triggers.Address0);
        w.Write(Triggers.Control1);
        w.Write(Triggers.Address1);
    }

    /// <summary>
    /// Reads what <see cref="Write"/> wrote. Values no hart can hold (a privilege level that does not
    /// exist, a negative trap count) are an <see cref="InvalidDataException"/>; so is running out of bytes.
    /// Anything else is a state a hart can be put in; whether it is the right one is the state hash's job.
    /// </summary>
    public static HartSnapshot Read(BinaryReader r)
    {
        var s = new HartSnapshot();
        try
        {
            for (int i = 0; i < 32; i++) s.X[i] = r.ReadUInt64();
            s.X[0] = 0;
            for (int i = 0; i < 32; i++) s.F[i] = r.ReadUInt64();
            for (int i = 0; i < CsrFieldCount; i++) s.Csrs[i] = r.ReadUInt64();
            if (r.Read(s.PmpConfig) != s.PmpConfig.Length) throw new EndOfStreamException();
            for (int i = 0; i < s.PmpAddress.Length; i++) s.PmpAddress[i] = r.ReadUInt64();
            s.Pc = r.ReadUInt64();
            s.Steps = r.ReadUInt64();
            s.ExceptionsTaken = r.ReadUInt64();
            s.ReservationAddress = r.ReadUInt64();
            s.ReservationValue = r.ReadUInt64();
            s.IdleNanoseconds = r.ReadUInt64();
            s.TickOffset = r.ReadUInt64();
            s.InterruptLines = r.ReadUInt64();
            byte mode = r.ReadByte();
            if (mode is not ((byte)PrivilegeLevel.User or (byte)PrivilegeLevel.Supervisor or (byte)PrivilegeLevel.Machine))
                throw new InvalidDataException($"a hart state with privilege level {mode}");
            s.Mode = (PrivilegeLevel)mode;
            s.Fflags = r.ReadByte();
            s.Frm = r.ReadByte();
            s.WaitingForInterrupt = r.ReadBoolean();
            s.RepeatedTrapCount = r.ReadInt32();
            if (s.RepeatedTrapCount < 0) throw new InvalidDataException("a hart state with a negative repeated-trap count");
            s.LastTrapPc = r.ReadUInt64();
            s.LastTrapCause = r.ReadUInt64();
            s.LastTrapRetired = r.ReadUInt64();
            s.Triggers = new TriggerState(r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64());
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException("a hart state that ends early");
        }
        return s;
    }
}
