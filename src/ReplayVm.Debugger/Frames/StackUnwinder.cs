using ReplayVm.Core.Hart;
using ReplayVm.Debugger.Symbols.Info;

namespace ReplayVm.Debugger.Frames;

/// <summary>
/// Walks the guest's stack with the call frame information: each caller's CFA, return address and
/// saved registers come from the callee's rules at its pc (DWARF 5 §6.4). Registers without a rule
/// keep their value in the caller when the RISC-V psABI makes them callee-saved (sp, s0–s11) and are
/// unknown otherwise. The walk stops at a pc without rules, a zero or repeated return address, or
/// a CFA that does not grow (a corrupt stack cannot loop it).
/// </summary>
public sealed class StackUnwinder(CallFrameTable cfi, DebugInfo info)
{
    public const int MaxFrames = 64;
    private const int Ra = 1, Sp = 2;

    private static bool IsCalleeSaved(int reg) => reg is 2 or 8 or 9 or (>= 18 and <= 27);

    public IReadOnlyList<StackFrame> Unwind(Hart hart)
    {
        var registers = new ulong?[32];
        for (int i = 1; i < 32; i++) registers[i] = hart.GetX(i);
        var frames = new List<StackFrame>();
        ulong pc = hart.Pc;
        for (int level = 0; level < MaxFrames; level++)
        {
            ulong lookup = level == 0 ? pc : pc - 1;
            var rules = cfi.RulesAt(lookup);
            ulong? cfa = rules is not null && registers[rules.CfaRegister] is { } baseValue ? baseValue + (ulong)rules.CfaOffset : null;
            var frame = new StackFrame(level, pc, registers, cfa, hart, info.FunctionAt(lookup));
            frames.Add(frame);
            if (rules is null || cfa is not { } frameCfa) break;

            var caller = new ulong?[32];
            for (int reg = 1; reg < 32; reg++)
            {
                var rule = rules.Registers.TryGetValue(reg, out var r) ? r : new RegisterRule(IsCalleeSaved(reg) || reg == rules.ReturnAddressRegister ? RegisterRuleKind.SameValue : RegisterRuleKind.Undefined);
                caller[reg] = rule.Kind switch
                {
                    RegisterRuleKind.SameValue => registers[reg],
                    RegisterRuleKind.Offset => ReadWord(frame, frameCfa + (ulong)rule.Value),
                    RegisterRuleKind.ValOffset => frameCfa + (ulong)rule.Value,
                    RegisterRuleKind.Register => rule.Value is > 0 and < 32 ? registers[rule.Value] : null,
                    _ => null,
                };
            }
            caller[Sp] = frameCfa; // the CFA is, by definition, the caller's sp at the call
            ulong? returnAddress = rules.ReturnAddressRegister is > 0 and < 32 ? caller[rules.ReturnAddressRegister] : null;
            if (returnAddress is not { } next || next == 0) break;
            // A return address into the same frame (no progress) or a shrinking stack means the rules lie.
            if (level > 0 && frames[level - 1].Cfa is { } previousCfa && frameCfa <= previousCfa) break;
            if (next == pc && frameCfa == (frames.Count > 1 ? frames[^2].Cfa : null)) break;
            if (info.FunctionAt(next - 1) is null && cfi.RulesAt(next - 1) is null) break; // not code we know: the outermost frame
            registers = caller;
            pc = next;
        }
        return frames;
    }

    private static ulong? ReadWord(StackFrame frame, ulong address)
    {
        Span<byte> bytes = stackalloc byte[8];
        return frame.ReadMemory(address, bytes) ? BitConverter.ToUInt64(bytes) : null;
    }
}
