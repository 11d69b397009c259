namespace ReplayVm.Replica;

/// <summary>What a replica is doing now.</summary>
public enum ReplicaRole
{
    /// <summary>Waiting for a primary's log.</summary>
    Waiting,
    /// <summary>Replaying a primary's log as it arrives.</summary>
    Backup,
    /// <summary>Running the guest on live input: the primary.</summary>
    Live,
    /// <summary>The guest's run has ended.</summary>
    Ended,
    /// <summary>Handed the guest over to another replica (migration).</summary>
    MigratedAway,
    /// <summary>Stopped without ending the guest (diverged, refused, lost the arbiter).</summary>
    Stopped,
}
