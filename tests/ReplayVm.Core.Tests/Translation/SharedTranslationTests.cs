using ReplayVm.Core.Hart;
using ReplayVm.Core.Loading;
using ReplayVm.Core.Tests.Oracle;
using ReplayVm.Core.Translation;

namespace ReplayVm.Core.Tests.Translation;

/// <summary>
/// Harts sharing compiled regions through a <see cref="TranslationCache"/>: a hart may only take a
/// region compiled for exactly its code, modes and stops, and nothing one hart learns while running
/// (exit links, epochs, its registers and memory) may reach another. Each translator below runs
/// beside an interpreter given the same slices; their states must agree after every slice.
/// </summary>
[Collection(nameof(BackgroundCompilerGate))] // one test runs the background compiler: no other test may hold its gate meanwhile
public sealed class SharedTranslationTests
{
    private const string Exit = """
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        1: j 1b
        """;

    /// <summary>A loop at the same addresses in every variant, whose body differs only in <paramref name="body"/>.</summary>
    private static byte[] Loop(string body) => EngineComparison.Assemble($$"""
        .option norvc
        .globl _start
        _start:
          li a0, 0
          li s0, 0
          la s1, data
        loop:
        {{body}}
        store:
          sd a1, 0(s1)
          addi s0, s0, 1
          li t0, 3000
          blt s0, t0, loop
        {{Exit}}
        .balign 4096          # a page of its own: a store into a page holding code takes the slow path anyway
        data: .dword 0
        """);

    private static readonly Lazy<byte[]> AddThree = new(() => Loop("""
          addi a0, a0, 3
        body:
          xor a1, a0, s0
        """));

    private static readonly Lazy<byte[]> ShiftAndSubtract = new(() => Loop("""
          slli a0, a0, 1
        body:
          sub a1, a0, s0
        """));

    private static readonly ulong[] Slices = [1, 7, 333, 4096, 13, 100_000, 2, 999];

    private static Machine Translator(byte[] elf, TranslationCache cache, int threshold = 1)
    {
        var machine = EngineComparison.Boot(ExecutionEngine.Translator, elf, threshold);
        machine.Hart.Translations = cache;
        return machine;
    }

    /// <summary>Runs <paramref name="translated"/> beside a fresh interpreter slice by slice to the end (or a
    /// debug stop, resumed <paramref name="stops"/> times), asserting equal states after every slice.</summary>
    private static void RunBeside(byte[] elf, Machine translated, Action<Machine>? prepare = null, int stops = 0, ulong maxSteps = 5_000_000)
    {
        var reference = EngineComparison.Boot(ExecutionEngine.Interpreter, elf);
        prepare?.Invoke(reference);
        prepare?.Invoke(translated);
        int stopped = 0;
        for (int i = 0; reference.Hart.Steps < maxSteps; i++)
        {
            ulong slice = Slices[i % Slices.Length];
            var a = reference.Run(slice);
            var b = translated.Run(slice);
            Assert.Equal(a.Reason, b.Reason);
            string expected = EngineComparison.Describe(reference), actual = EngineComparison.Describe(translated);
            if (expected != actual) Assert.Fail($"after slice {i} the engines differ:\n interpreter {expected}\n translator  {actual}");
            if (a.Reason == StopReason.DebugStop)
            {
                Assert.Equal(reference.TakeDebugStop(), translated.TakeDebugStop());
                if (++stopped > stops) return;
                continue;
            }
            if (a.Reason != StopReason.InstructionLimit) break;
        }
        Assert.Equal(stops, stopped);
    }

    [Fact]
    public void Different_code_at_the_same_addresses_never_takes_the_other_guests_regions()
    {
        var cache = new TranslationCache();
        var first = Translator(AddThree.Value, cache);
        RunBeside(AddThree.Value, first);
        Assert.True(first.Hart.TranslatorStats.RegionsTranslated > 0);
        // Same pcs, same page, same block shapes; other instructions: nothing of the first is theirs to take.
        var other = Translator(ShiftAndSubtract.Value, cache);
        RunBeside(ShiftAndSubtract.Value, other);
        // A third machine running the first guest again compiles nothing: all it runs was compiled by the first.
        var again = Translator(AddThree.Value, cache);
        RunBeside(AddThree.Value, again);
        Assert.Equal(0UL, again.Hart.TranslatorStats.RegionsTranslated);
        Assert.True(again.Hart.TranslatorStats.RegionsShared > 0, "the second machine took nothing from the cache");
        Assert.True(again.Hart.TranslatorStats.RegionSteps > 0);
    }

    [Fact]
    public void A_breakpoint_inside_a_region_another_hart_compiled_without_it_still_stops()
    {
        var elf = AddThree.Value;
        ulong body = ElfImage.Parse(elf).FindSymbol("body")!.Value;
        var cache = new TranslationCache();
        RunBeside(elf, Translator(elf, cache)); // the loop compiled straight through `body`
        var stopping = Translator(elf, cache);
        RunBeside(elf, stopping, m => m.Hart.SetBreakpoints([body]), stops: 5);
    }

    [Fact]
    public void A_write_watch_is_hit_by_a_hart_whose_cached_code_was_compiled_for_unwatched_stores()
    {
        var elf = AddThree.Value;
        ulong data = ElfImage.Parse(elf).FindSymbol("data")!.Value;
        var cache = new TranslationCache();
        RunBeside(elf, Translator(elf, cache)); // stores compiled straight to RAM, no watch checks
        var watching = Translator(elf, cache);
        RunBeside(elf, watching, m => m.Hart.SetWatchpoints([new WatchRange(data, 8, OnRead: false, OnWrite: true)]), stops: 5);
    }

    /// <summary>
    /// A loop calls a function on the next page (a linked exit) that returns through jalr (the jump
    /// cache); at round 400 it rewrites the function and runs fence.i. Two harts share the cache and
    /// run interleaved, one far ahead of the other: the one behind must keep running the old function
    /// (its own links, its own epochs) until its own rewrite, the one ahead the new one.
    /// </summary>
    private static readonly Lazy<byte[]> Rewriting = new(() => EngineComparison.Assemble($$"""
        .option norvc
        .globl _start
        _start:
          li s0, 0
          li s1, 0
        loop:
          jal far
          add s1, s1, a0
          addi s0, s0, 1
          li t0, 400
          bne s0, t0, 2f
          la t1, far
          la t2, replacement
          lw t3, 0(t2)
          sw t3, 0(t1)
          fence.i
        2:
          li t0, 1000
          blt s0, t0, loop
        {{Exit}}
        replacement:
          li a0, 1000
        .balign 4096
        far:
          li a0, 1
          ret
        """));

    [Fact]
    public void Harts_sharing_code_that_one_of_them_rewrites_each_run_their_own_code()
    {
        var elf = Rewriting.Value;
        var cache = new TranslationCache();
        var ahead = Translator(elf, cache);
        var behind = Translator(elf, cache);
        var aheadReference = EngineComparison.Boot(ExecutionEngine.Interpreter, elf);
        var behindReference = EngineComparison.Boot(ExecutionEngine.Interpreter, elf);
        for (int i = 0; i < 400; i++)
        {
            // The one ahead runs 37 steps per slice, the one behind 3: the first rewrites `far` long before the second.
            foreach (var (machine, reference, slice) in new[] { (ahead, aheadReference, 37UL), (behind, behindReference, 3UL) })
            {
                var a = reference.Run(slice);
                var b = machine.Run(slice);
                Assert.Equal(a.Reason, b.Reason);
                Assert.Equal(EngineComparison.Describe(reference), EngineComparison.Describe(machine));
            }
        }
        foreach (var (machine, reference) in new[] { (ahead, aheadReference), (behind, behindReference) })
        {
            var a = reference.Run(1_000_000);
            var b = machine.Run(1_000_000);
            Assert.Equal(StopReason.GuestExit, a.Reason);
            Assert.Equal(a.Reason, b.Reason);
            Assert.Equal(EngineComparison.Describe(reference), EngineComparison.Describe(machine));
            Assert.Equal(400UL * 1 + 600UL * 1000, machine.Hart.GetX(9)); // s1: 400 rounds of the old far, 600 of the new
        }
        Assert.True(behind.Hart.TranslatorStats.RegionsShared > 0, "the harts shared nothing");
    }

    /// <summary>The same loop calling a function on the next page that returns <paramref name="value"/>: the
    /// loop's regions are equal (shared), the function's are not.</summary>
    private static byte[] Caller(int value) => EngineComparison.Assemble($$"""
        .option norvc
        .globl _start
        _start:
          li s0, 0
          li s1, 0
        loop:
          jal far
          add s1, s1, a0
          addi s0, s0, 1
          li t0, 1000
          blt s0, t0, loop
        {{Exit}}
        .balign 4096
        far:
          li a0, {{value}}
          ret
        """);

    [Fact]
    public void Harts_sharing_a_loop_follow_only_their_own_exit_links()
    {
        // Run in the same slices, the two harts' translation epochs advance alike: a link one of
        // them set, were it shared, would pass the other's epoch check and run the wrong function.
        byte[] one = Caller(1), other = Caller(1000);
        var cache = new TranslationCache();
        var machines = new[] { (Translator(one, cache), EngineComparison.Boot(ExecutionEngine.Interpreter, one)),
                               (Translator(other, cache), EngineComparison.Boot(ExecutionEngine.Interpreter, other)) };
        for (int i = 0; i < 2000; i++)
        {
            foreach (var (machine, reference) in machines)
            {
                ulong slice = Slices[i % Slices.Length];
                var a = reference.Run(slice);
                var b = machine.Run(slice);
                Assert.Equal(a.Reason, b.Reason);
                Assert.Equal(EngineComparison.Describe(reference), EngineComparison.Describe(machine));
            }
            if (machines[0].Item1.Hart.Steps > 20_000) break;
        }
        Assert.Equal(1000UL, machines[0].Item1.Hart.GetX(9));
        Assert.Equal(1000UL * 1000, machines[1].Item1.Hart.GetX(9));
        Assert.True(machines[1].Item1.Hart.TranslatorStats.RegionsShared > 0, "the loop was not shared");
    }

    /// <summary>Bundled guests: S-mode kernels with user processes (several programs at the same virtual
    /// addresses), traps, paging. A second machine takes what the first compiled.</summary>
    [Theory]
    [InlineData("kernel.elf", 3_000_000UL)]
    [InlineData("traps.elf", 3_000_000UL)]
    public void A_second_machine_of_a_guest_runs_its_shared_regions_as_the_interpreter(string guest, ulong steps)
    {
        var elf = File.ReadAllBytes(RepoPaths.GuestBinary(guest));
        var cache = new TranslationCache();
        RunBeside(elf, Translator(elf, cache), maxSteps: steps);
        var second = Translator(elf, cache);
        RunBeside(elf, second, maxSteps: steps);
        Assert.True(second.Hart.TranslatorStats.RegionsShared > 0, "the second machine took nothing from the cache");
    }

    [Fact]
    public void Machines_on_separate_threads_sharing_the_background_compiler_run_as_the_interpreter()
    {
        var elf = File.ReadAllBytes(RepoPaths.GuestBinary("bench.elf"));
        const ulong Steps = 20_000_000;
        var reference = EngineComparison.Boot(ExecutionEngine.Interpreter, elf);
        reference.Run(Steps);
        string expected = EngineComparison.Describe(reference);
        var cache = new TranslationCache();
        var machines = Enumerable.Range(0, 3).Select(_ =>
        {
            var m = Translator(elf, cache, threshold: 50);
            m.Hart.TranslateInBackground = true;
            return m;
        }).ToArray();
        var threads = machines.Select((m, k) => new Thread(() =>
        {
            // Different slicings: the machines reach each region at different times.
            ulong slice = 1000UL + 7919UL * (ulong)k;
            while (m.Hart.Steps < Steps) m.Run(Math.Min(slice, Steps - m.Hart.Steps));
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) Assert.True(t.Join(TimeSpan.FromMinutes(5)), "a machine did not finish");
        foreach (var m in machines) Assert.Equal(expected, EngineComparison.Describe(m));
        Assert.True(machines.Sum(m => (long)m.Hart.TranslatorStats.RegionsShared) > 0, "the machines shared nothing");
    }
}
