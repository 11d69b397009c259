using ReplayVm.Core.Input;

namespace ReplayVm.Replay.Input;

/// <summary>Bytes to type into the console once the guest has run <paramref name="Step"/> steps.</summary>
public sealed record ScriptedKeys(ulong Step, byte[] Bytes);

/// <summary>
/// A deterministic "live" port for tests and <c>record --input</c>: types scripted bytes at given
/// steps (or at the first poll after, when the UART is full), and answers the wall clock with a
/// caller-supplied function of the step (by default the fixed instant <see cref="NoInput"/> uses),
/// and entropy requests with a caller-supplied filler (by default <see cref="NoInput"/>'s pattern).
/// </summary>
public sealed class ScriptedInputPort : IInputPort
{
    private readonly Queue<byte> _typing = new();
    private readonly ScriptedKeys[] _script;
    private readonly Func<ulong, ulong> _wallClock;
    private readonly EntropySource _entropy;
    private int _next;
    private ulong _lastPoll;

    public ScriptedInputPort(IEnumerable<ScriptedKeys> script, Func<ulong, ulong>? wallClock = null, EntropySource? entropy = null)
    {
        _script = script.OrderBy(k => k.Step).ToArray();
        _wallClock = wallClock ?? NoInput.Instance.ReadWallClock;
        _entropy = entropy ?? NoInput.Instance.ReadEntropy;
    }

    /// <summary>Fills <paramref name="destination"/> with the entropy for a request at <paramref name="instret"/>.</summary>
    public delegate void EntropySource(ulong instret, Span<byte> destination);

    /// <summary>Bytes scripted but not yet handed over.</summary>
    public int Remaining => _typing.Count + _script.Skip(_next).Sum(k => k.Bytes.Length);

    public ulong NextDeliveryAt
    {
        get
        {
            // Keys already due but blocked by a full FIFO wait for the regular polls; asking for a
            // stop at a past step would make the machine single-step.
            if (_typing.Count > 0 || _next >= _script.Length) return ulong.MaxValue;
            ulong step = _script[_next].Step;
            return step > _lastPoll ? step : ulong.MaxValue;
        }
    }

    public void Poll(ulong instret, IInputSink sink)
    {
        _lastPoll = instret;
        while (_next < _script.Length && _script[_next].Step <= instret)
            foreach (byte b in _script[_next++].Bytes) _typing.Enqueue(b);
        while (_typing.Count > 0 && sink.ConsoleRoom > 0) sink.DeliverConsoleByte(_typing.Dequeue());
    }

    /// <summary>Never waits (the script is fixed in advance); says whether keys are due, so an idle guest gets them now.</summary>
    public bool WaitForInput(ulong instret, CancellationToken wake) =>
        _typing.Count > 0 || (_next < _script.Length && _script[_next].Step <= instret);

    public ulong ReadWallClock(ulong instret) => _wallClock(instret);

    public void ReadEntropy(ulong instret, Span<byte> destination) => _entropy(instret, destination);
}
