using ReplayVm.Core.Input;
using ReplayVm.Core.Loading;
using ReplayVm.Core.Tests.Oracle;

namespace ReplayVm.Core.Tests.FastPath;

/// <summary>
/// The hart's fast path walks the decode cache from slot to slot, and chains taken branches within a
/// page, without the full fetch. At a page's edge it must behave exactly like the full fetch: a
/// 16-bit instruction in the last parcel, reached straight-line and by an in-page branch, then
/// straight-line code flowing into the next page; and a 32-bit instruction split across two pages,
/// reached both ways. A run that may use the fast path must end in the same state, at the same
/// step, as one that takes every instruction through the full fetch (one-step slices) and as one
/// with the debugger's step-by-step mode on (a breakpoint that is never hit).
/// </summary>
public sealed class PageEdgeFastPathTests
{
    private const string Program = """
        .globl _start
        _start:
          li s0, 300
          li a0, 0
          li a1, 0
          li a2, 0
          j loop1

        .org 0x1FE4
        .option norvc
        loop1:
          addi s0, s0, -1
          beqz s0, to_part2
          addi a1, a1, 1
          andi t0, s0, 1
          bnez t0, edge16               # in-page branch to the last parcel
        .option rvc
          c.addi a1, 2
          c.addi a1, 3
          c.addi a2, 1                  # straight on into the last parcel
        edge16:
          c.addi a0, 7                  # 16-bit, at page offset 0xFFE
        .option norvc
          add a2, a2, a0                # next page, reached straight-line
          slli a3, a2, 1
          j loop1
        to_part2:                       # (part2 is beyond a branch's reach)
          j part2

        .org 0x3FE8
        part2:
          addi s0, zero, 300
        loop2:
          addi s0, s0, -1
          beqz s0, done
          andi t0, s0, 1
          bnez t0, split                # in-page branch to a split instruction
        .option rvc
          c.addi a1, 1                  # straight on into it
        .option norvc
        split:
          addi a0, a0, 11               # 32-bit, at page offset 0xFFE: its upper half is on the next page
          add a2, a2, a0
          j loop2

        done:
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        1: j 1b
        """;

    private static readonly Lazy<byte[]> Elf = new(Build);

    private static byte[] Build()
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-pageedge-").FullName;
        try
        {
            var source = Path.Combine(dir, "t.S");
            var elf = Path.Combine(dir, "t.elf");
            File.WriteAllText(source, Program);
            var gcc = ExternalTools.Require(ExternalTools.Gcc);
            var r = ExternalTools.Run(gcc, ["-nostdlib", "-march=rv64gc", "-mabi=lp64d", "-Wl,-Ttext=0x80000000", "-Wl,--nmagic",
                "-Wl,--no-warn-rwx-segments", "-o", elf, source], TimeSpan.FromSeconds(60));
            Assert.True(r.ExitCode == 0, r.Stderr);
            return File.ReadAllBytes(elf);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static (Machine Machine, ElfImage Image) Boot()
    {
        var image = ElfImage.Parse(Elf.Value);
        var machine = new Machine(new MachineConfig(), NoInput.Instance, _ => { });
        machine.LoadElf(image);
        return (machine, image);
    }

    private static RunResult RunTranslated(Machine m)
    {
        m.Hart.Engine = Core.Translation.ExecutionEngine.Translator;
        m.Hart.TranslationThreshold = 1;
        return m.Run(1_000_000);
    }

    private static ulong[] Registers(Machine m) => Enumerable.Range(0, 32).Select(i => m.Hart.GetX(i)).ToArray();

    [Fact]
    public void The_program_lands_its_instructions_at_the_page_edges_it_is_meant_to_test()
    {
        var (_, image) = Boot();
        Assert.Equal(0x8000_1FFEUL, image.FindSymbol("edge16")!.Value);
        Assert.Equal(0x8000_3FFEUL, image.FindSymbol("split")!.Value);
    }

    [Fact]
    public void Fast_path_full_fetch_and_step_by_step_runs_agree_at_page_edges()
    {
        var (fast, _) = Boot();
        var fastEnd = fast.Run(1_000_000);
        Assert.Equal(StopReason.GuestExit, fastEnd.Reason);
        // 299 passes through each loop: +7 at the 16-bit edge, +11 at the split instruction.
        Assert.Equal(299UL * 7 + 299UL * 11, fast.Hart.GetX(10));

        var (slow, _) = Boot();
        RunResult slowEnd;
        do slowEnd = slow.Run(1); // one-step slices: every instruction through the full fetch
        while (slowEnd.Reason == StopReason.InstructionLimit);
        Assert.Equal(StopReason.GuestExit, slowEnd.Reason);

        var (stepping, _) = Boot();
        stepping.Hart.SetBreakpoints([0x9000_0000UL]); // never reached: turns the fast path off
        var steppingEnd = stepping.Run(1_000_000);
        Assert.Equal(StopReason.GuestExit, steppingEnd.Reason);

        // The translator (every entry translated at once): blocks end at the page's edge.
        var (translated, _) = Boot();
        var translatedEnd = RunTranslated(translated);
        Assert.Equal(StopReason.GuestExit, translatedEnd.Reason);
        Assert.True(translated.Hart.TranslatorStats.RegionsTranslated > 0);

        foreach (var other in new[] { slow, stepping, translated })
        {
            Assert.Equal(Registers(fast), Registers(other));
            Assert.Equal(fast.Hart.Steps, other.Hart.Steps);
            Assert.Equal(fast.Hart.InstructionsRetired, other.Hart.InstructionsRetired);
        }
        Assert.Equal(fastEnd.InstructionsRetired, slowEnd.InstructionsRetired);
        Assert.Equal(fastEnd.InstructionsRetired, steppingEnd.InstructionsRetired);
    }
}
