namespace ReplayVm.Cli.Disassembly;

/// <summary>
/// Adds objdump's " # 80001038 &lt;counter&gt;" comments: it remembers the upper bits a LUI or
/// AUIPC put in a register and, when the next ADDI, load, store or JALR adds its 12-bit offset to
/// that register, names the full address (RISC-V unprivileged spec §2.4, "Integer
/// Register-Immediate Instructions", on how the pairs form 32-bit offsets).
/// Addresses off the global pointer use the value of <c>__global_pointer$</c>.
/// </summary>
internal sealed class AddressAnnotator(ulong? globalPointer, Func<ulong, string?> symbolize)
{
    private const int GlobalPointerRegister = 3;
    private readonly ulong?[] _upper = new ulong?[32];

    /// <summary>Forget what registers hold, e.g. at the start of a function.</summary>
    public void Reset() => Array.Clear(_upper);

    /// <summary>Notes the upper bits a C.LUI sets (spec §16.5: nzimm[17:12] into bits 17:12, sign-extended).</summary>
    public void Observe(ushort parcel)
    {
        uint rd = (uint)(parcel >> 7) & 31;
        bool isLui = (parcel & 3) == 1 && parcel >> 13 == 3 && rd is not (0 or 2);
        if (!isLui) return;
        int immediate = ((parcel >> 12) & 1) << 5 | (parcel >> 2) & 31;
        _upper[rd] = (ulong)(long)((immediate << 26) >> 14); // sign-extend the 6-bit field, then << 12
    }

    /// <summary>The comment for a 32-bit instruction at <paramref name="pc"/>, or "".</summary>
    public string Annotate(uint word, ulong pc)
    {
        uint opcode = word & 0x7f, rd = (word >> 7) & 31, funct3 = (word >> 12) & 7, rs1 = (word >> 15) & 31;
        long upperImmediate = (int)(word & 0xffff_f000);
        long iImmediate = (int)word >> 20;
        long sImmediate = (((int)word >> 25) << 5) + (int)((word >> 7) & 31); // imm[11:5] and imm[4:0]; the parts do not overlap

        switch (opcode)
        {
            case 0x37 when rd != 0: // LUI
                _upper[rd] = (ulong)upperImmediate;
                return "";
            case 0x17 when rd != 0: // AUIPC
                _upper[rd] = pc + (ulong)upperImmediate;
                return "";
            case 0x13 when funct3 == 0: // ADDI
            case 0x03 or 0x07: // LOAD, LOAD-FP
            case 0x67: // JALR
                return Comment(rs1, iImmediate);
            case 0x23 or 0x27: // STORE, STORE-FP
                return Comment(rs1, sImmediate);
            default:
                return "";
        }
    }

    private string Comment(uint baseRegister, long offset)
    {
        ulong address;
        if (_upper[baseRegister] is { } upper)
        {
            address = upper + (ulong)offset;
            _upper[baseRegister] = null; // a pair is used once, as objdump does
        }
        else if (baseRegister == GlobalPointerRegister && globalPointer is { } gp)
        {
            address = gp + (ulong)offset;
        }
        else
        {
            return "";
        }
        return symbolize(address) is { } name ? $" # {address:x} <{name}>" : $" # {address:x}";
    }
}
