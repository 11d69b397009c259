using ReplayVm.Debugger.Symbols;

namespace ReplayVm.Debugger.Frames;

/// <summary>How to find a register's value in the caller (DWARF 5 §6.4.1).</summary>
public readonly record struct RegisterRule(RegisterRuleKind Kind, long Value = 0);

public enum RegisterRuleKind { SameValue, Undefined, Offset, ValOffset, Register }

/// <summary>The unwinding rules in effect at one pc: CFA = register + offset, and each saved register's rule.</summary>
public sealed record FrameRules(int CfaRegister, long CfaOffset, IReadOnlyDictionary<int, RegisterRule> Registers, int ReturnAddressRegister);

/// <summary>
/// Call frame information from .debug_frame (DWARF 5 §6.4): CIEs and FDEs, and the rules at a pc
/// got by running the CIE's initial instructions and the FDE's up to that pc. .eh_frame is not read
/// (bare-metal GCC builds emit .debug_frame); CFA expressions are not supported (such frames end the
/// backtrace).
/// </summary>
public sealed class CallFrameTable
{
    private sealed record Cie(ulong CodeAlign, long DataAlign, int ReturnRegister, byte[] Initial, int AddressSize);
    private sealed record Fde(ulong Start, ulong End, Cie Cie, byte[] Instructions);

    private readonly List<Fde> _fdes = [];

    public static CallFrameTable Empty { get; } = new();

    public bool IsEmpty => _fdes.Count == 0;

    public static CallFrameTable Read(ElfSections sections)
    {
        var table = new CallFrameTable();
        if (sections.Data(".debug_frame") is not { } memory) return table;
        byte[] data = memory.ToArray();
        var cies = new Dictionary<ulong, Cie>();
        var c = new DwarfCursor(data, ".debug_frame");
        while (!c.AtEnd)
        {
            int start = c.Position;
            ulong length = c.U32();
            bool dwarf64 = false;
            if (length == 0xffff_ffff)
            {
                dwarf64 = true;
                length = c.U64();
            }
            if (length == 0) continue;
            if (length > (ulong)(c.Length - c.Position)) throw new DwarfFormatException($"frame entry at 0x{start:x} runs past the end of .debug_frame");
            int end = c.Position + (int)length;
            ulong id = c.Offset(dwarf64);
            bool isCie = dwarf64 ? id == ulong.MaxValue : id == 0xffff_ffff;
            var entry = new DwarfCursor(data.AsSpan(0, end), ".debug_frame", c.Position);
            if (isCie) cies[(ulong)start] = ReadCie(ref entry, end);
            else if (cies.TryGetValue(id, out var cie))
            {
                ulong initial = entry.Unsigned(cie.AddressSize), range = entry.Unsigned(cie.AddressSize);
                // A discarded function's FDE stays in the section at address 0: skip it.
                if (range > 0 && initial != 0) table._fdes.Add(new Fde(initial, initial + range, cie, entry.Bytes((ulong)(end - entry.Position)).ToArray()));
            }
            c.Position = end;
        }
        table._fdes.Sort((a, b) => a.Start.CompareTo(b.Start));
        return table;
    }

    private static Cie ReadCie(ref DwarfCursor c, int end)
    {
        int version = c.U8();
        string augmentation = c.CString();
        if (augmentation.Length > 0) throw new DwarfFormatException($"CIE augmentation '{augmentation}' in .debug_frame is not supported");
        int addressSize = 8;
        if (version >= 4)
        {
            addressSize = c.U8();
            c.U8(); // segment selector size
        }
        ulong codeAlign = c.ULeb();
        long dataAlign = c.SLeb();
        int ra = version == 1 ? c.U8() : (int)c.ULeb();
        return new Cie(codeAlign, dataAlign, ra, c.Bytes((ulong)(end - c.Position)).ToArray(), addressSize);
    }

    /// <summary>The rules at <paramref name="pc"/>, or null when no FDE covers it.</summary>
    public FrameRules? RulesAt(ulong pc)
    {
        Fde? fde = null;
        foreach (var f in _fdes)
        {
            if (f.Start > pc) break;
            if (pc < f.End) fde = f;
        }
        if (fde is null) return null;
        var state = new State();
        Run(fde.Cie.Initial, fde, ulong.MaxValue, state, null);
        var initial = state.Copy();
        Run(fde.Instructions, fde, pc, state, initial);
        if (state.CfaRegister < 0) return null;
        return new FrameRules(state.CfaRegister, state.CfaOffset, state.Registers, fde.Cie.ReturnRegister);
    }

    private sealed class State
    {
        public int CfaRegister = -1;
        public long CfaOffset;
        public Dictionary<int, RegisterRule> Registers = [];
        public State Copy() => new() { CfaRegister = CfaRegister, CfaOffset = CfaOffset, Registers = new(Registers) };
    }

    /// <summary>Runs CFA instructions until the location passes <paramref name="pc"/> (DWARF 5 §6.4.2).</summary>
    private static void Run(byte[] instructions, Fde fde, ulong pc, State state, State? initial)
    {
        var c = new DwarfCursor(instructions, ".debug_frame instructions");
        var saved = new Stack<State>();
        ulong location = fde.Start;
        var cie = fde.Cie;
        while (!c.AtEnd)
        {
            byte op = c.U8();
            int high = op >> 6, low = op & 0x3f;
            ulong advance = 0;
            switch (high)
            {
                case 1: advance = (ulong)low * cie.CodeAlign; break;
                case 2: state.Registers[low] = new RegisterRule(RegisterRuleKind.Offset, (long)c.ULeb() * cie.DataAlign); continue;
                case 3: Restore(state, initial, low); continue;
            }
            if (high == 0)
            {
                switch (op)
                {
                    case 0x00: continue; // nop
                    case 0x01: location = c.Unsigned(cie.AddressSize); if (location > pc) return; continue; // set_loc
                    case 0x02: advance = c.U8() * cie.CodeAlign; break;
                    case 0x03: advance = c.U16() * cie.CodeAlign; break;
                    case 0x04: advance = c.U32() * cie.CodeAlign; break;
                    case 0x05: { int r = (int)c.ULeb(); state.Registers[r] = new(RegisterRuleKind.Offset, (long)c.ULeb() * cie.DataAlign); continue; }
                    case 0x06: Restore(state, initial, (int)c.ULeb()); continue;
                    case 0x07: state.Registers[(int)c.ULeb()] = new(RegisterRuleKind.Undefined); continue;
                    case 0x08: state.Registers[(int)c.ULeb()] = new(RegisterRuleKind.SameValue); continue;
                    case 0x09: { int r = (int)c.ULeb(); state.Registers[r] = new(RegisterRuleKind.Register, (long)c.ULeb()); continue; }
                    case 0x0a: saved.Push(state.Copy()); continue; // remember_state
                    case 0x0b: // restore_state: the CFA and register rules as remembered
                        if (saved.TryPop(out var s)) { state.CfaRegister = s.CfaRegister; state.CfaOffset = s.CfaOffset; state.Registers = s.Registers; }
                        continue;
                    case 0x0c: state.CfaRegister = (int)c.ULeb(); state.CfaOffset = (long)c.ULeb(); continue;
                    case 0x0d: state.CfaRegister = (int)c.ULeb(); continue;
                    case 0x0e: state.CfaOffset = (long)c.ULeb(); continue;
                    case 0x0f: state.CfaRegister = -1; c.Skip(c.ULeb()); continue; // def_cfa_expression: unsupported
                    case 0x10: { int r = (int)c.ULeb(); c.Skip(c.ULeb()); state.Registers[r] = new(RegisterRuleKind.Undefined); continue; }
                    case 0x11: { int r = (int)c.ULeb(); state.Registers[r] = new(RegisterRuleKind.Offset, c.SLeb() * cie.DataAlign); continue; }
                    case 0x12: state.CfaRegister = (int)c.ULeb(); state.CfaOffset = c.SLeb() * cie.DataAlign; continue;
                    case 0x13: state.CfaOffset = c.SLeb() * cie.DataAlign; continue;
                    case 0x14: { int r = (int)c.ULeb(); state.Registers[r] = new(RegisterRuleKind.ValOffset, (long)c.ULeb() * cie.DataAlign); continue; }
                    case 0x15: { int r = (int)c.ULeb(); state.Registers[r] = new(RegisterRuleKind.ValOffset, c.SLeb() * cie.DataAlign); continue; }
                    case 0x16: { int r = (int)c.ULeb(); c.Skip(c.ULeb()); state.Registers[r] = new(RegisterRuleKind.Undefined); continue; }
                    case 0x2e: c.ULeb(); continue; // GNU_args_size
                    default: throw new DwarfFormatException($"unknown call frame instruction 0x{op:x2}");
                }
            }
            location += advance;
            if (location > pc) return;
        }
    }

    private static void Restore(State state, State? initial, int register)
    {
        if (initial is not null && initial.Registers.TryGetValue(register, out var rule)) state.Registers[register] = rule;
        else state.Registers.Remove(register);
    }
}
