using ReplayVm.Core.Input;

namespace ReplayVm.Replay.Input;

/// <summary>
/// A "live" input port that plays an <see cref="InputScript"/>: it watches the guest's console
/// output (feed every output byte to <see cref="ObserveOutput"/>, from the machine's thread, as the
/// guest writes it) and types each <c>send</c> once the <c>wait</c>s before it have matched,
/// handing bytes over at input polls as the UART has room. Output is a function of the step, so
/// the same script against the same guest types the same bytes at the same steps. Wall-clock and
/// entropy requests go to caller-supplied sources.
/// </summary>
public sealed class ScriptedSessionPort : IInputPort
{
    private readonly IReadOnlyList<InputScriptStep> _steps;
    private readonly Func<ulong, ulong> _wallClock;
    private readonly ScriptedInputPort.EntropySource _entropy;
    private readonly Queue<byte> _typing = new();
    private int _next;
    private int _matched; // bytes of the current wait's text matched so far

    public ScriptedSessionPort(InputScript script, Func<ulong, ulong>? wallClock = null, ScriptedInputPort.EntropySource? entropy = null)
    {
        _steps = script.Steps;
        _wallClock = wallClock ?? NoInput.Instance.ReadWallClock;
        _entropy = entropy ?? NoInput.Instance.ReadEntropy;
        QueueSends();
    }

    /// <summary>True once every step has run (everything typed has been handed to the guest).</summary>
    public bool Finished => _next >= _steps.Count && _typing.Count == 0;

    /// <summary>The text the script waits for now, or null.</summary>
    public byte[]? WaitingFor => _next < _steps.Count && _steps[_next] is InputScriptStep.Wait w ? w.Text : null;

    /// <summary>One byte the guest wrote to its console.</summary>
    public void ObserveOutput(byte value)
    {
        if (WaitingFor is not { } text) return;
        _matched = Advance(text, _matched, value);
        if (_matched < text.Length) return;
        _matched = 0;
        _next++;
        QueueSends();
    }

    /// <summary>Keys are handed over at the machine's regular polls; there is no step to stop at.</summary>
    public ulong NextDeliveryAt => ulong.MaxValue;

    public void Poll(ulong instret, IInputSink sink)
    {
        while (_typing.Count > 0 && sink.ConsoleRoom > 0) sink.DeliverConsoleByte(_typing.Dequeue());
    }

    /// <summary>Never waits (what it types depends only on the guest's output); says whether keys are due, so an idle guest gets them now.</summary>
    public bool WaitForInput(ulong instret, CancellationToken wake) => _typing.Count > 0;

    public ulong ReadWallClock(ulong instret) => _wallClock(instret);

    public void ReadEntropy(ulong instret, Span<byte> destination) => _entropy(instret, destination);

    private void QueueSends()
    {
        while (_next < _steps.Count && _steps[_next] is InputScriptStep.Send send)
        {
            foreach (byte b in send.Text) _typing.Enqueue(b);
            _next++;
        }
    }

    /// <summary>
    /// How much of <paramref name="text"/> is matched after <paramref name="value"/>, given
    /// <paramref name="matched"/> bytes were: the longest prefix of the text that ends the output
    /// (a naive fall-back, fine for the short texts scripts wait for).
    /// </summary>
    private static int Advance(byte[] text, int matched, byte value)
    {
        while (true)
        {
            if (text[matched] == value) return matched + 1;
            if (matched == 0) return 0;
            // Retry with the next shorter prefix of the text that is also a suffix of what matched.
            int shorter = matched - 1;
            while (shorter > 0 && !text.AsSpan(0, shorter).SequenceEqual(text.AsSpan(matched - shorter, shorter))) shorter--;
            matched = shorter;
        }
    }
}
