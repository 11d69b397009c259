namespace ReplayVm.Replica;

/// <summary>A replica cannot go on: its one-line message says why and what to do. The command prints it and exits non-zero.</summary>
public sealed class ReplicaException(string message, bool final = false) : Exception(message)
{
    /// <summary>No other replica can help either (a console client's output was dropped): give up at once rather than try the next.</summary>
    public bool Final { get; } = final;
}
