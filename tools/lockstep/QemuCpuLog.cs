using System.Globalization;

namespace ReplayVm.Lockstep;

/// <summary>One CPU state as QEMU 7.2 prints it with <c>-d cpu,fpu</c>: before each translation block,
/// which under <c>-singlestep</c> means before each instruction (or after each trap entry).</summary>
public sealed class QemuCpuState
{
    public ulong Pc;
    public readonly ulong[] X = new ulong[32];

    /// <summary>f0..f31 as raw 64-bit patterns (NaN-boxed singles included); null when QEMU printed none.</summary>
    public ulong[]? F;

    /// <summary>The CSRs QEMU prints (mstatus, mip, satp, ...), by name.</summary>
    public readonly Dictionary<string, ulong> Csrs = new(StringComparer.Ordinal);

    /// <summary>
    /// The cause QEMU's <c>-d int</c> logged for an interrupt taken just before this state, or null.
    /// QEMU takes an interrupt between translation blocks and logs no state of its own for it, so
    /// this state is "interrupt entered, vector instruction not yet executed".
    /// </summary>
    public ulong? InterruptCause;

    /// <summary>Same pc, registers and CSRs: the same moment logged twice.</summary>
    public bool SameStateAs(QemuCpuState other) =>
        Pc == other.Pc && InterruptCause == null && X.AsSpan().SequenceEqual(other.X)
        && (F ?? []).AsSpan().SequenceEqual(other.F ?? [])
        && Csrs.Count == other.Csrs.Count && Csrs.All(c => other.Csrs.TryGetValue(c.Key, out var v) && v == c.Value);
}

/// <summary>
/// Reads QEMU's <c>-d cpu,fpu,int</c> log as a stream of <see cref="QemuCpuState"/>s. The format is
/// lines of "name value" pairs: " pc       0000000080000000", " mstatus  0000000a00000000", register
/// lines with four "x5/t0    0000000000001000" (or "f5/ft5 ...") pairs each, and from <c>int</c>
/// lines such as "riscv_cpu_do_interrupt: hart:0, async:1, cause:0000000000000007, ...". A state
/// starts at its pc line and ends where the next one starts. Only one state is held at a time:
/// the log runs to ~1.6 KB per instruction.
/// </summary>
public sealed class QemuCpuLog(TextReader reader)
{
    private string? _pending;
    private ulong? _interruptBeforeNext;

    /// <summary>The next complete state, or null at the end of the log.</summary>
    public QemuCpuState? Next()
    {
        QemuCpuState? state = null;
        while ((_pending ?? reader.ReadLine()) is { } line)
        {
            _pending = null;
            if (line.StartsWith("riscv_cpu_do_interrupt:", StringComparison.Ordinal))
            {
                if (state != null) { _pending = line; return state; }
                _interruptBeforeNext = ParseInterrupt(line);
                continue;
            }
            var tokens = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (tokens.Length >= 2 && tokens[0] == "pc")
            {
                if (state != null) { _pending = line; return state; }
                state = new QemuCpuState { Pc = Hex(tokens[1]), InterruptCause = _interruptBeforeNext };
                _interruptBeforeNext = null;
                continue;
            }
            if (state == null) continue;
            for (int i = 0; i + 1 < tokens.Length; i += 2)
            {
                if (!TryHex(tokens[i + 1], out var value)) break;
                string name = tokens[i];
                if (TryRegister(name, 'x', out int x)) state.X[x] = value;
                else if (TryRegister(name, 'f', out int f)) (state.F ??= new ulong[32])[f] = value;
                else state.Csrs[name] = value;
            }
        }
        return state;
    }

    /// <summary>"x11/a1" or "f10/fa0" → 11 or 10.</summary>
    private static bool TryRegister(string name, char file, out int index)
    {
        index = -1;
        return name.Length > 1 && name[0] == file && name.IndexOf('/') is var slash and > 1
            && int.TryParse(name.AsSpan(1, slash - 1), out index) && index is >= 0 and < 32;
    }

    /// <summary>The cause of an asynchronous entry (async:1); exceptions (async:0) need no alignment.</summary>
    private static ulong? ParseInterrupt(string line)
    {
        if (!line.Contains("async:1", StringComparison.Ordinal)) return null;
        int at = line.IndexOf("cause:", StringComparison.Ordinal);
        if (at < 0) return null;
        var rest = line.AsSpan(at + "cause:".Length);
        int end = rest.IndexOf(',');
        return TryHex((end < 0 ? rest : rest[..end]).ToString(), out var cause) ? cause : null;
    }

    private static ulong Hex(string s) => TryHex(s, out var v) ? v : throw new FormatException($"bad hex '{s}' in QEMU log");

    private static bool TryHex(string s, out ulong value) =>
        ulong.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
}
