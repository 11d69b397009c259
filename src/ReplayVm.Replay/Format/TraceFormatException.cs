namespace ReplayVm.Replay.Format;

/// <summary>A trace that cannot be used: its one-line message says what is wrong and where.</summary>
public sealed class TraceFormatException(string message) : Exception(message);
