namespace ReplayVm.Core.Hart;

/// <summary>
/// The hart's side of the debug triggers (<see cref="TriggerModule"/>). Like the debugger's own
/// breakpoints and watchpoints they cost nothing while none is armed: an armed execute trigger
/// turns on step-by-step execution, where every instruction comes through the full fetch path
/// that checks it; an armed load/store trigger keeps every page out of the TLB's data tags, so
/// every load and store takes the translating slow path, which checks it.
/// </summary>
public sealed unsafe partial class Hart
{
    private readonly TriggerModule _triggers = new();

    /// <summary>Copies of <see cref="TriggerModule.ExecuteArmed"/> and <see cref="TriggerModule.DataArmed"/>, read on the slow paths.</summary>
    private bool _executeTriggersArmed, _dataTriggersArmed;

    public TriggerState TriggerState => _triggers.Capture();

    /// <summary>Recomputes what the armed triggers turn on; called after any trigger CSR write, reset or
    /// restore, each of which then calls <see cref="TranslationChanged"/>, which reads <see cref="_dataTriggersArmed"/>.</summary>
    private void TriggersChanged()
    {
        _executeTriggersArmed = _triggers.ExecuteArmed;
        _dataTriggersArmed = _triggers.DataArmed;
        UpdateStepByStep();
    }

    private void UpdateStepByStep() => _stepByStep = _watchingRegisters || _executeTriggersArmed;

    /// <summary>Raises the trigger's breakpoint exception; QEMU 7.2 leaves mtval 0 for it, as for EBREAK.</summary>
    private bool TriggerFired()
    {
        RaiseException(ExceptionCause.Breakpoint, 0);
        return true;
    }

    /// <summary>Called before fetching at <paramref name="pc"/> while an execute trigger is armed; true if it fired.</summary>
    private bool ExecuteTriggerFires(ulong pc) => _triggers.ExecuteFires(pc, Mode) && TriggerFired();

    private bool LoadTriggerFires(ulong address, int size) =>
        _dataTriggersArmed && _triggers.LoadFires(address, size, Mode) && TriggerFired();

    private bool StoreTriggerFires(ulong address, int size) =>
        _dataTriggersArmed && _triggers.StoreFires(address, size, Mode) && TriggerFired();

    private bool AtomicTriggerFires(ulong address, int size) =>
        _dataTriggersArmed && _triggers.AtomicFires(address, size, Mode) && TriggerFired();
}
