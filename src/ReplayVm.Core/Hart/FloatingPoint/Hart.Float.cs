namespace ReplayVm.Core.Hart;

public sealed unsafe partial class Hart
{
    /// <summary>Executes an F/D operation; false if it trapped.</summary>
    private bool ExecuteFloat(ref DecodedInstruction d)
    {
        IllegalInstruction(ref d);
        return false;
    }
}
