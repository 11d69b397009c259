namespace ReplayVm.Core.Hart;

/// <summary>Privilege modes with their encodings (privileged spec 1.2, table 1.1).</summary>
public enum PrivilegeLevel : byte
{
    User = 0,
    Supervisor = 1,
    Machine = 3,
}
