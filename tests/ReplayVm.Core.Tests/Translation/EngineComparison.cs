using ReplayVm.Core.Input;
using ReplayVm.Core.Loading;
using ReplayVm.Core.State;
using ReplayVm.Core.Tests.Oracle;
using ReplayVm.Core.Translation;

namespace ReplayVm.Core.Tests.Translation;

/// <summary>
/// Runs one guest on the interpreter and on the translator side by side, in the same slices (so
/// slice ends — the deadlines blocks must respect — fall at the same steps), and compares the
/// whole state after every slice: registers, pc, steps, exceptions, state hash.
/// </summary>
public static class EngineComparison
{
    public static Machine Boot(ExecutionEngine engine, byte[] elf, int threshold = 1, IInputPort? input = null, List<byte>? console = null)
    {
        var machine = new Machine(new MachineConfig { Engine = engine }, input ?? NoInput.Instance, b => console?.Add(b));
        machine.Hart.TranslationThreshold = threshold;
        machine.LoadElf(ElfImage.Parse(elf));
        return machine;
    }

    public static string Describe(Machine m) =>
        $"step {m.Hart.Steps} pc 0x{m.Hart.Pc:x} exceptions {m.Hart.ExceptionsTaken} x=[{string.Join(',', Enumerable.Range(0, 32).Select(i => m.Hart.GetX(i).ToString("x")))}] " +
        $"f=[{string.Join(',', Enumerable.Range(0, 32).Select(i => m.Hart.GetF(i).ToString("x")))}] mode {m.Hart.Mode} hash {new MachineStateHasher(m).Compute()}";

    /// <summary>Runs both engines slice by slice (sizes from <paramref name="slices"/>, cycled) until
    /// both stop for another reason than the instruction limit; asserts equal state after every slice.
    /// <paramref name="setUp"/> is applied to both machines before they run.</summary>
    public static (Machine Interpreter, Machine Translator) RunBoth(byte[] elf, IReadOnlyList<ulong> slices, ulong maxSteps = 50_000_000, int threshold = 1,
        Action<Machine>? setUp = null)
    {
        var reference = Boot(ExecutionEngine.Interpreter, elf);
        var translated = Boot(ExecutionEngine.Translator, elf, threshold);
        setUp?.Invoke(reference);
        setUp?.Invoke(translated);
        for (int i = 0; ; i++)
        {
            ulong slice = slices[i % slices.Count];
            var a = reference.Run(slice);
            var b = translated.Run(slice);
            Assert.Equal(a.Reason, b.Reason);
            Assert.Equal(a.ExitCode, b.ExitCode);
            string expected = Describe(reference), actual = Describe(translated);
            if (expected != actual)
                Assert.Fail($"after slice {i} ({slice} steps) the engines differ:\n interpreter {expected}\n translator  {actual}");
            if (a.Reason != StopReason.InstructionLimit || reference.Hart.Steps >= maxSteps) break;
        }
        return (reference, translated);
    }

    /// <summary>Builds a bare-metal RV64GC program (at 0x8000_0000) from assembly source.</summary>
    public static byte[] Assemble(string source, string march = "rv64gc")
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-translator-").FullName;
        try
        {
            var path = Path.Combine(dir, "t.S");
            var elf = Path.Combine(dir, "t.elf");
            File.WriteAllText(path, source);
            var gcc = ExternalTools.Require(ExternalTools.Gcc);
            var r = ExternalTools.Run(gcc, ["-nostdlib", "-nostartfiles", $"-march={march}", "-mabi=lp64d", "-Wl,-Ttext=0x80000000",
                "-Wl,--no-relax", "-Wl,--nmagic", "-Wl,--no-warn-rwx-segments", "-o", elf, path], TimeSpan.FromSeconds(60));
            Assert.True(r.ExitCode == 0, r.Stderr);
            return File.ReadAllBytes(elf);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
