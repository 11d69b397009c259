namespace ReplayVm.Replica.Wire;

/// <summary>What a connection is for; sent in the client's hello and bound into both proofs, so a proof for one purpose is useless for another.</summary>
public enum Purpose : byte
{
    /// <summary>A primary streaming its log to a backup.</summary>
    Log = 1,
    /// <summary>A console client following the live replica.</summary>
    Console = 2,
    /// <summary>A one-shot status query.</summary>
    Status = 3,
    /// <summary>A request to a primary: protect yourself with the backup at this address, or hand over to it (migration).</summary>
    Control = 4,
}
