namespace ReplayVm.Inspect;

/// <summary>Why a process or dump cannot be inspected, in one line that says what to do (the CLI exits 2).</summary>
public sealed class InspectException(string message, bool momentary = false) : Exception(message)
{
    /// <summary>
    /// The live target was stopped at a moment its runtime's structures did not hold together (an
    /// object referenced before the runtime had published where it lives, a heap mid-collection):
    /// the same process read a moment later is readable, so the reader may attach again.
    /// </summary>
    public bool Momentary { get; } = momentary;
}
