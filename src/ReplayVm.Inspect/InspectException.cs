namespace ReplayVm.Inspect;

/// <summary>Why a process or dump cannot be inspected, in one line that says what to do (the CLI exits 2).</summary>
public sealed class InspectException(string message) : Exception(message);
