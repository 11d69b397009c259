using System.Buffers.Binary;
using ReplayVm.Core.Hart;
using ReplayVm.Debugger.Gdb;

namespace ReplayVm.Debugger.Tests.Gdb;

/// <summary>
/// A scripted machine behind <see cref="IDebugTarget"/>: 4 KiB of RAM at 0x8000_0000 holding a 16-instruction
/// loop, a recording <see cref="RecordingLength"/> instructions long, and a history of whole-state copies so it
/// can run backwards. Every instruction adds 1 to x1 (ra); the one at <see cref="StorePc"/> also writes the low
/// word of x1 to <see cref="StoreAddress"/>, the one at <see cref="LoadPc"/> reads x5 from <see cref="LoadAddress"/>.
/// </summary>
public sealed class FakeDebugTarget : IDebugTarget
{
    public const ulong RamBase = 0x8000_0000;
    public const int RamSize = 4096;
    public const ulong StorePc = RamBase + 0x14;
    public const ulong LoadPc = RamBase + 0x18;
    public const ulong StoreAddress = RamBase + 0x100;
    public const ulong LoadAddress = RamBase + 0x108;
    public const int LoopInstructions = 16;

    private const uint AddiRaRa1 = 0x00108093; // addi ra, ra, 1
    private const uint SwRa = 0x1010a023;      // sw ra, 256(ra)-shaped store (only its look matters to gdb)
    private const uint LdT0 = 0x1080b283;      // ld t0, 264(ra)-shaped load

    private sealed record State(ulong[] X, ulong Pc, ulong[] F, byte[] Ram, ulong Step, Dictionary<int, ulong> Csrs);

    private State _state;
    private readonly Stack<(State Before, ulong? Wrote, ulong? Read)> _history = new();
    private readonly List<(BreakpointType Type, ulong Address, ulong Length)> _points = [];

    public FakeDebugTarget(ulong recordingLength = 40)
    {
        RecordingLength = recordingLength;
        var ram = new byte[RamSize];
        for (int i = 0; i < LoopInstructions; i++)
        {
            uint word = (RamBase + (ulong)i * 4) switch { StorePc => SwRa, LoadPc => LdT0, _ => AddiRaRa1 };
            BinaryPrimitives.WriteUInt32LittleEndian(ram.AsSpan(i * 4), word);
        }
        BinaryPrimitives.WriteUInt64LittleEndian(ram.AsSpan((int)(LoadAddress - RamBase)), 0x1122334455667788);
        var csrs = new Dictionary<int, ulong>
        {
            [0x001] = 0x1, [0x002] = 0x2, [0x003] = 0x41, // fflags, frm, fcsr
            [0x300] = 0xa00000000, [0x301] = 0x800000000014112d, [0x341] = 0x1234, [0xF14] = 0,
        };
        var f = new ulong[32];
        f[1] = BitConverter.DoubleToUInt64Bits(1.5);
        _state = new State(new ulong[32], RamBase, f, ram, 0, csrs);
    }

    public ulong RecordingLength { get; }

    /// <summary>When set, Continue waits for cancellation instead of running (to test Ctrl-C).</summary>
    public bool SpinUntilCancelled { get; set; }

    /// <summary>Points currently inserted (to check that a session cleans up).</summary>
    public IReadOnlyList<(BreakpointType Type, ulong Address, ulong Length)> Points => _points;

    public List<string> MonitorCommands { get; } = [];

    public ulong CurrentStep => _state.Step;

    /// <summary>Null: the fake lets gdb write (to test the write packets); set it to act as a read-only recording.</summary>
    public string? WriteRefusal { get; set; }
    public PrivilegeLevel Privilege => PrivilegeLevel.Machine;

    public ulong ReadIntegerRegister(int index) => index == 0 ? 0 : _state.X[index];

    public bool WriteIntegerRegister(int index, ulong value)
    {
        if (index != 0) _state.X[index] = value;
        return true;
    }

    public ulong ReadPc() => PcReadsThrow ? throw new InvalidOperationException("injected bug") : _state.Pc;

    public bool WritePc(ulong value)
    {
        _state = _state with { Pc = value };
        return true;
    }

    public ulong ReadFloatRegister(int index) => _state.F[index];

    public bool WriteFloatRegister(int index, ulong value)
    {
        _state.F[index] = value;
        return true;
    }

    public bool TryReadCsr(int number, out ulong value) => _state.Csrs.TryGetValue(number, out value);

    public bool TryWriteCsr(int number, ulong value)
    {
        if (!_state.Csrs.ContainsKey(number) || number >= 0xF00) return false; // 0xFxx: read-only (priv spec 2.1)
        _state.Csrs[number] = value;
        return true;
    }

    public bool ReadMemory(ulong address, Span<byte> destination)
    {
        if (!InRam(address, destination.Length)) return false;
        _state.Ram.AsSpan((int)(address - RamBase), destination.Length).CopyTo(destination);
        return true;
    }

    public bool WriteMemory(ulong address, ReadOnlySpan<byte> source)
    {
        if (!InRam(address, source.Length)) return false;
        source.CopyTo(_state.Ram.AsSpan((int)(address - RamBase)));
        return true;
    }

    private static bool InRam(ulong address, int length) =>
        address >= RamBase && address - RamBase <= RamSize && (ulong)length <= RamSize - (address - RamBase);

    public bool InsertBreakpoint(BreakpointType type, ulong address, ulong length)
    {
        _points.Add((type, address, length));
        return true;
    }

    public bool RemoveBreakpoint(BreakpointType type, ulong address, ulong length) => _points.Remove((type, address, length));

    public StopEvent Step()
    {
        if (_state.Step >= RecordingLength) return StopEvent.EndOfRecording(_state.Pc);
        ExecuteOne();
        return StopEvent.StepDone(_state.Pc);
    }

    public StopEvent ReverseStep()
    {
        if (_history.Count == 0) return StopEvent.BeginningOfRecording(_state.Pc);
        _state = _history.Pop().Before;
        return StopEvent.StepDone(_state.Pc);
    }

    public StopEvent Continue(CancellationToken cancellation, IProgress<RunProgress>? progress = null)
    {
        if (SpinUntilCancelled)
        {
            progress?.Report(new RunProgress(_state.Step, 0.5));
            cancellation.WaitHandle.WaitOne();
            return StopEvent.Interrupted(_state.Pc);
        }
        while (_state.Step < RecordingLength)
        {
            if (cancellation.IsCancellationRequested) return StopEvent.Interrupted(_state.Pc);
            // Watchpoints trigger before the accessing instruction runs (gdb single-steps over it).
            var (wouldWrite, wouldRead) = Accesses(_state.Pc);
            if (WatchHit(wouldWrite, wouldRead) is { } watch) return watch;
            ExecuteOne();
            if (BreakpointAt(_state.Pc) is { } bp) return StopEvent.AtBreakpoint(_state.Pc, bp);
        }
        return StopEvent.EndOfRecording(_state.Pc, GuestExitStatus);
    }

    /// <summary>Set to make the end of the recording one where the guest exited with this status.</summary>
    public int? GuestExitStatus { get; set; }

    /// <summary>Set to make reading the pc fail as a bug in ReplayVm would (an unexpected exception).</summary>
    public bool PcReadsThrow { get; set; }

    public StopEvent ReverseContinue(CancellationToken cancellation, IProgress<RunProgress>? progress = null)
    {
        while (_history.Count > 0)
        {
            if (cancellation.IsCancellationRequested) return StopEvent.Interrupted(_state.Pc);
            // Backwards, the accessing instruction is the one about to be undone: stop before undoing it.
            var (before, wrote, read) = _history.Peek();
            if (WatchHit(wrote, read) is { } watch) return watch;
            _history.Pop();
            _state = before;
            if (BreakpointAt(_state.Pc) is { } bp) return StopEvent.AtBreakpoint(_state.Pc, bp);
        }
        return StopEvent.BeginningOfRecording(_state.Pc);
    }

    public string Monitor(string command, CancellationToken cancellation = default, IProgress<RunProgress>? progress = null)
    {
        MonitorCommands.Add(command);
        string[] words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        switch (words.FirstOrDefault())
        {
            case "when": return $"Current instruction: {_state.Step}";
            case "info": return $"fake target, recording of {RecordingLength} instructions, at {_state.Step}";
            case "checkpoint": return $"Checkpoint at {_state.Step}";
            case "seek" when words.Length == 2 && ulong.TryParse(words[1], out ulong target):
                while (_state.Step > target) ReverseStep();
                while (_state.Step < target && _state.Step < RecordingLength) Step();
                return $"Now at {_state.Step}";
            default: return $"unknown monitor command: {command}";
        }
    }

    private BreakpointType? BreakpointAt(ulong pc)
    {
        foreach (var p in _points)
            if (p.Type is BreakpointType.Software or BreakpointType.Hardware && p.Address == pc) return p.Type;
        return null;
    }

    private StopEvent? WatchHit(ulong? wrote, ulong? read)
    {
        foreach (var p in _points)
        {
            bool covers(ulong? a) => a is { } addr && addr + 4 > p.Address && addr < p.Address + p.Length;
            switch (p.Type)
            {
                case BreakpointType.WriteWatch when covers(wrote):
                    return StopEvent.AtWatchpoint(_state.Pc, WatchKind.Write, p.Address);
                case BreakpointType.ReadWatch when covers(read):
                    return StopEvent.AtWatchpoint(_state.Pc, WatchKind.Read, p.Address);
                case BreakpointType.AccessWatch when covers(wrote) || covers(read):
                    return StopEvent.AtWatchpoint(_state.Pc, WatchKind.Access, p.Address);
            }
        }
        return null;
    }

    private (ulong? Wrote, ulong? Read) ExecuteOne()
    {
        State before = Copy(_state);
        ulong pc = _state.Pc;
        ulong[] x = _state.X;
        x[1] += 1;
        var (wrote, read) = Accesses(pc);
        if (wrote is not null) BinaryPrimitives.WriteUInt32LittleEndian(_state.Ram.AsSpan((int)(StoreAddress - RamBase)), (uint)x[1]);
        if (read is not null) x[5] = BinaryPrimitives.ReadUInt64LittleEndian(_state.Ram.AsSpan((int)(LoadAddress - RamBase)));
        ulong next = pc + 4;
        if (next >= RamBase + LoopInstructions * 4 || next < RamBase) next = RamBase;
        _state = _state with { Pc = next, Step = _state.Step + 1 };
        _history.Push((before, wrote, read));
        return (wrote, read);
    }

    private static (ulong? Wrote, ulong? Read) Accesses(ulong pc) => pc switch
    {
        StorePc => (StoreAddress, null),
        LoadPc => (null, LoadAddress),
        _ => (null, null),
    };

    private static State Copy(State s) =>
        new((ulong[])s.X.Clone(), s.Pc, (ulong[])s.F.Clone(), (byte[])s.Ram.Clone(), s.Step, new Dictionary<int, ulong>(s.Csrs));
}
