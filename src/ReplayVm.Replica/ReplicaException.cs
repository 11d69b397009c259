namespace ReplayVm.Replica;

/// <summary>A replica cannot go on: its one-line message says why and what to do. The command prints it and exits non-zero.</summary>
public sealed class ReplicaException(string message) : Exception(message);
