using System.Globalization;

namespace ReplayVm.Lockstep;

/// <summary>One CPU state as QEMU 7.2 prints it with <c>-d cpu</c>: before each translation block,
/// which under <c>-singlestep</c> means before each instruction (or after each trap entry).</summary>
public sealed class QemuCpuState
{
    public ulong Pc;
    public readonly ulong[] X = new ulong[32];

    /// <summary>The CSRs QEMU prints (mstatus, mepc, mcause, mtval, ...), by name.</summary>
    public readonly Dictionary<string, ulong> Csrs = new(StringComparer.Ordinal);
}

/// <summary>
/// Reads QEMU's <c>-d cpu</c> log as a stream of <see cref="QemuCpuState"/>s. The format is lines of
/// "name value" pairs: " pc       0000000080000000", " mstatus  0000000a00000000", and register
/// lines with four "x5/t0    0000000000001000" pairs each. A state starts at its pc line and is
/// complete after x31. Only one state is held at a time: the log runs to ~1.6 KB per instruction.
/// </summary>
public sealed class QemuCpuLog(TextReader reader)
{
    private string? _pending;

    /// <summary>The next complete state, or null at the end of the log.</summary>
    public QemuCpuState? Next()
    {
        QemuCpuState? state = null;
        while ((_pending ?? reader.ReadLine()) is { } line)
        {
            _pending = null;
            var tokens = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (tokens.Length >= 2 && tokens[0] == "pc")
            {
                state = new QemuCpuState { Pc = Hex(tokens[1]) };
                continue;
            }
            if (state == null) continue;
            for (int i = 0; i + 1 < tokens.Length; i += 2)
            {
                if (!TryHex(tokens[i + 1], out var value)) break;
                string name = tokens[i];
                if (name.Length > 1 && name[0] == 'x' && name.IndexOf('/') is var slash and > 1
                    && int.TryParse(name.AsSpan(1, slash - 1), out int reg) && reg is >= 0 and < 32)
                {
                    state.X[reg] = value;
                    if (reg == 31) return state;
                }
                else
                {
                    state.Csrs[name] = value;
                }
            }
        }
        return null;
    }

    private static ulong Hex(string s) => TryHex(s, out var v) ? v : throw new FormatException($"bad hex '{s}' in QEMU log");

    private static bool TryHex(string s, out ulong value) =>
        ulong.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
}
