using ReplayVm.Core.Input;
using ReplayVm.Core.Loading;
using ReplayVm.Core.State;
using ReplayVm.Core.Translation;

namespace ReplayVm.Core.Tests.Oracle;

/// <summary>What a guest did on ReplayVm: its console bytes and how the run ended.</summary>
public sealed record ReplayVmOutcome(byte[] Console, RunResult Result, StateHash FinalState, ulong Steps);

/// <summary>The two engines ended a run differently: a translator bug (the interpreter is the reference).</summary>
public sealed class EngineDivergenceException(string message) : Exception(message);

/// <summary>
/// Runs a guest ELF on ReplayVm's virt machine in-process, the way QEMU runs it — on both engines:
/// the interpreter, and the translator with every entry translated at its first arrival (so every
/// instruction the translator handles goes through it). Both must end with the same console
/// bytes, stop, step count and state hash, or the run throws <see cref="EngineDivergenceException"/>;
/// every differential test that compares a run with QEMU thereby checks both engines.
/// </summary>
public static class ReplayVmRunner
{
    public static ReplayVmOutcome Run(byte[] elf, ulong maxInstructions)
    {
        var reference = RunOn(ExecutionEngine.Interpreter, elf, maxInstructions);
        var translated = RunOn(ExecutionEngine.Translator, elf, maxInstructions);
        if (Describe(reference) != Describe(translated) || !reference.Console.AsSpan().SequenceEqual(translated.Console))
            throw new EngineDivergenceException(
                $"the translator diverged from the interpreter: interpreter {Describe(reference)}, translator {Describe(translated)}" +
                (reference.Console.AsSpan().SequenceEqual(translated.Console) ? "" : "; console output differs"));
        return reference;
    }

    public static ReplayVmOutcome RunOn(ExecutionEngine engine, byte[] elf, ulong maxInstructions)
    {
        var console = new List<byte>();
        var machine = new Machine(new MachineConfig { Engine = engine }, NoInput.Instance, console.Add);
        machine.Hart.TranslationThreshold = 1;
        machine.LoadElf(ElfImage.Parse(elf));
        var result = machine.Run(maxInstructions);
        return new ReplayVmOutcome(console.ToArray(), result, new MachineStateHasher(machine).Compute(), machine.Hart.Steps);
    }

    private static string Describe(ReplayVmOutcome o) =>
        $"{o.Result.Reason} exit {o.Result.ExitCode} after {o.Steps} steps, state {o.FinalState}";
}
