using System.Runtime.CompilerServices;
using ReplayVm.Core.Hart.FloatingPoint;

namespace ReplayVm.Core.Hart;

/// <summary>
/// The F and D extensions (unprivileged spec ch. 11, 12): 32 registers of 64 bits, single values
/// NaN-boxed in them (12.2), the fcsr (11.2), and mstatus.FS gating (privileged spec 3.1.6.6).
/// Arithmetic is done by <see cref="SoftFloat{TFormat}"/>, bit-exact in every rounding mode.
/// </summary>
public sealed unsafe partial class Hart
{
    private readonly ulong[] _f = new ulong[32];
    /// <summary>fflags (accrued exceptions, bits 4:0) and frm (dynamic rounding mode, 3 bits; 5–7 are
    /// stored as written and make dynamic-rm instructions illegal, spec 11.2).</summary>
    private byte _fflags, _frm;

    /// <summary>Upper 32 bits of a properly NaN-boxed single value (spec 12.2).</summary>
    private const ulong NaNBox = 0xFFFF_FFFF_0000_0000;

    /// <summary>Raw 64-bit contents of register f<paramref name="register"/>, for debuggers.</summary>
    public ulong GetF(int register) => register is >= 0 and < 32 ? _f[register] : 0;

    public void SetF(int register, ulong value)
    {
        if (register is >= 0 and < 32) _f[register] = value;
    }

    /// <summary>frm and fflags as the fcsr CSR shows them.</summary>
    public uint Fcsr => (uint)(_frm << 5 | _fflags);

    private void ResetFloat()
    {
        Array.Clear(_f);
        _fflags = _frm = 0;
    }

    private bool FloatingPointEnabled => (_mstatus & Mstatus.Fs) != 0;

    /// <summary>FS = Dirty: any change to the FP registers or fcsr (privileged spec 3.1.6.6).</summary>
    private void MarkFloatDirty() => _mstatus |= Mstatus.Fs;

    /// <summary>Reads fflags/frm/fcsr (0x001–0x003).</summary>
    private ulong ReadFloatCsr(uint csr) => csr switch
    {
        0x001 => _fflags,
        0x002 => _frm,
        _ => Fcsr,
    };

    private void WriteFloatCsr(uint csr, ulong value)
    {
        switch (csr)
        {
            case 0x001: _fflags = (byte)(value & 0x1F); break;
            case 0x002: _frm = (byte)(value & 7); break;
            default: _fflags = (byte)(value & 0x1F); _frm = (byte)((value >> 5) & 7); break;
        }
        MarkFloatDirty();
    }

    /// <summary>Executes an F/D operation; false if it trapped.</summary>
    private bool ExecuteFloat(ref DecodedInstruction d)
    {
        // With FS = Off every FP instruction is illegal (privileged spec 3.1.6.6).
        int rm = d.Rm == 7 ? _frm : d.Rm;
        if (!FloatingPointEnabled || rm > 4)
        {
            IllegalInstruction(ref d);
            return false;
        }
        switch (d.Op)
        {
            case Opcode.Flw:
            {
                if (!Load32(X(d.Rs1) + (ulong)d.Imm, out uint v)) return false;
                WriteF(d.Rd, NaNBox | v);
                return true;
            }
            case Opcode.Fld:
            {
                if (!Load64(X(d.Rs1) + (ulong)d.Imm, out ulong v)) return false;
                WriteF(d.Rd, v);
                return true;
            }
            // Stores move the bits unchanged, boxed or not (spec 11.5).
            case Opcode.Fsw: return Store32(X(d.Rs1) + (ulong)d.Imm, (uint)_f[d.Rs2]);
            case Opcode.Fsd: return Store64(X(d.Rs1) + (ulong)d.Imm, _f[d.Rs2]);
            case Opcode.FcvtSD:
            {
                var flags = FloatFlags.None;
                ulong r = FloatConvert.Convert<Binary64, Binary32>(_f[d.Rs1], (RoundingMode)rm, ref flags);
                WriteF(d.Rd, NaNBox | r);
                Accrue(flags);
                return true;
            }
            case Opcode.FcvtDS:
            {
                var flags = FloatFlags.None;
                WriteF(d.Rd, FloatConvert.Convert<Binary32, Binary64>(ReadSingle(d.Rs1), (RoundingMode)rm, ref flags));
                Accrue(flags);
                return true;
            }
            case >= Opcode.FmaddD:
                Execute<Binary64>(ref d, (Opcode)(d.Op - (Opcode.FmaddD - Opcode.FmaddS)), (RoundingMode)rm);
                return true;
            default:
                Execute<Binary32>(ref d, d.Op, (RoundingMode)rm);
                return true;
        }
    }

    /// <summary>
    /// One arithmetic, compare, convert or move operation in format <typeparamref name="TF"/>;
    /// <paramref name="op"/> is the single-precision member of its pair. None of these can trap.
    /// </summary>
    private void Execute<TF>(ref DecodedInstruction d, Opcode op, RoundingMode rm) where TF : struct, IFloatFormat
    {
        var flags = FloatFlags.None;
        ulong a = Read<TF>(d.Rs1), b = Read<TF>(d.Rs2);
        switch (op)
        {
            case >= Opcode.FmaddS and <= Opcode.FnmaddS:
            {
                // MSUB negates the addend, NMSUB the product, NMADD both (spec 11.6).
                bool negateAddend = op is Opcode.FmsubS or Opcode.FnmaddS;
                bool negateProduct = op is Opcode.FnmsubS or Opcode.FnmaddS;
                Write<TF>(d.Rd, SoftFloat<TF>.MulAdd(a, b, Read<TF>(d.Rs3), negateProduct, negateAddend, rm, ref flags));
                break;
            }
            case Opcode.FaddS: Write<TF>(d.Rd, SoftFloat<TF>.Add(a, b, rm, ref flags)); break;
            case Opcode.FsubS: Write<TF>(d.Rd, SoftFloat<TF>.Sub(a, b, rm, ref flags)); break;
            case Opcode.FmulS: Write<TF>(d.Rd, SoftFloat<TF>.Mul(a, b, rm, ref flags)); break;
            case Opcode.FdivS: Write<TF>(d.Rd, SoftFloat<TF>.Div(a, b, rm, ref flags)); break;
            case Opcode.FsqrtS: Write<TF>(d.Rd, SoftFloat<TF>.Sqrt(a, rm, ref flags)); break;
            // Sign injection never canonicalises NaNs (spec 11.6).
            case Opcode.FsgnjS: Write<TF>(d.Rd, (a & ~SoftFloat<TF>.SignBit) | (b & SoftFloat<TF>.SignBit)); break;
            case Opcode.FsgnjnS: Write<TF>(d.Rd, (a & ~SoftFloat<TF>.SignBit) | (~b & SoftFloat<TF>.SignBit)); break;
            case Opcode.FsgnjxS: Write<TF>(d.Rd, a ^ (b & SoftFloat<TF>.SignBit)); break;
            case Opcode.FminS: Write<TF>(d.Rd, SoftFloat<TF>.MinMax(a, b, max: false, ref flags)); break;
            case Opcode.FmaxS: Write<TF>(d.Rd, SoftFloat<TF>.MinMax(a, b, max: true, ref flags)); break;
            case Opcode.FeqS: X(d.Rd) = SoftFloat<TF>.Equal(a, b, ref flags) ? 1UL : 0; break;
            case Opcode.FltS: X(d.Rd) = SoftFloat<TF>.Less(a, b, orEqual: false, ref flags) ? 1UL : 0; break;
            case Opcode.FleS: X(d.Rd) = SoftFloat<TF>.Less(a, b, orEqual: true, ref flags) ? 1UL : 0; break;
            case Opcode.FclassS: X(d.Rd) = SoftFloat<TF>.Classify(a); break;
            case Opcode.FcvtWS: X(d.Rd) = SoftFloat<TF>.ToInteger(a, rm, signed: true, 32, ref flags); break;
            case Opcode.FcvtWuS: X(d.Rd) = SoftFloat<TF>.ToInteger(a, rm, signed: false, 32, ref flags); break;
            case Opcode.FcvtLS: X(d.Rd) = SoftFloat<TF>.ToInteger(a, rm, signed: true, 64, ref flags); break;
            case Opcode.FcvtLuS: X(d.Rd) = SoftFloat<TF>.ToInteger(a, rm, signed: false, 64, ref flags); break;
            case Opcode.FcvtSW: Write<TF>(d.Rd, SoftFloat<TF>.FromInteger(X(d.Rs1), signed: true, 32, rm, ref flags)); break;
            case Opcode.FcvtSWu: Write<TF>(d.Rd, SoftFloat<TF>.FromInteger(X(d.Rs1), signed: false, 32, rm, ref flags)); break;
            case Opcode.FcvtSL: Write<TF>(d.Rd, SoftFloat<TF>.FromInteger(X(d.Rs1), signed: true, 64, rm, ref flags)); break;
            case Opcode.FcvtSLu: Write<TF>(d.Rd, SoftFloat<TF>.FromInteger(X(d.Rs1), signed: false, 64, rm, ref flags)); break;
            // FMV.X.W takes the register's low 32 bits as they are, boxed or not, sign-extended (spec 11.10).
            case Opcode.FmvXW: X(d.Rd) = IsSingle<TF>() ? (ulong)(long)(int)_f[d.Rs1] : _f[d.Rs1]; break;
            case Opcode.FmvWX: Write<TF>(d.Rd, X(d.Rs1)); break;
        }
        Accrue(flags);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsSingle<TF>() where TF : struct, IFloatFormat => typeof(TF) == typeof(Binary32);

    /// <summary>A single read from a register that is not NaN-boxed yields the canonical NaN (spec 12.2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong ReadSingle(int register)
    {
        ulong v = _f[register];
        return (v & NaNBox) == NaNBox ? (uint)v : SoftFloat<Binary32>.DefaultNaN;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Read<TF>(int register) where TF : struct, IFloatFormat =>
        IsSingle<TF>() ? ReadSingle(register) : _f[register];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Write<TF>(int register, ulong value) where TF : struct, IFloatFormat =>
        WriteF(register, IsSingle<TF>() ? NaNBox | (uint)value : value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void WriteF(int register, ulong value)
    {
        _f[register] = value;
        MarkFloatDirty();
    }

    /// <summary>Exceptions accrue into fflags; a change to fflags dirties the FP state.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Accrue(FloatFlags flags)
    {
        if (flags == FloatFlags.None) return;
        _fflags |= (byte)flags;
        MarkFloatDirty();
    }
}
