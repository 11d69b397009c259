using ReplayVm.Core.Hart;
using ReplayVm.Core.Loading;
using ReplayVm.Core.State;
using ReplayVm.Core.Tests.Translation;
using ReplayVm.Core.Translation;

namespace ReplayVm.Core.Tests.Paging;

/// <summary>
/// A guest that rewrites a page-table entry and goes on using the mapping without sfence.vma. The
/// privileged spec (4.2.1) lets such an access use the old translation or the new one; which one it
/// gets must never depend on what a debugger, an index or a snapshot did to the TLB, or a replay
/// from a checkpoint, under a watchpoint or on the other engine would part from the recorded
/// history. ReplayVm's TLB never holds a translation the page tables no longer give (a store into a
/// page the walker has read drops the cached translations), so the new one is always seen, and the
/// guest's sum is known.
/// </summary>
public sealed class StaleTranslationTests
{
    private const int Blocks = 200, PerBlock = 64;

    /// <summary>Blocks of 64 loads alternate between data_b (1000) and data_a (1), starting with data_b.</summary>
    private const ulong ExpectedSum = Blocks / 2 * PerBlock * 1000UL + Blocks / 2 * PerBlock * 1UL;

    private static readonly Lazy<byte[]> Remapper = new(() => EngineComparison.Assemble($$"""
        {{SupervisorPrologue.MappingOnePageTo("data_a", "0xC7")}}
        supervisor:
          la s2, pt_l0
          la t0, data_a
          srli t0, t0, 12
          slli t0, t0, 10
          ori s3, t0, 0xC7      # s3: PTE -> data_a
          la t0, data_b
          srli t0, t0, 12
          slli t0, t0, 10
          ori s4, t0, 0xC7      # s4: PTE -> data_b
          li s0, 0              # i
          li s1, 0              # sum
          li s5, 0x40000000
          li s6, {{Blocks * PerBlock}}
        1:
          andi t0, s0, {{PerBlock - 1}}
          bnez t0, 2f
          ld t1, 0(s2)          # flip the mapping, with no sfence.vma
          xor t1, t1, s3
          xor t1, t1, s4
          sd t1, 0(s2)
        2:
          ld a0, 0(s5)
          add s1, s1, a0
          addi s0, s0, 1
          blt s0, s6, 1b
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        3: j 3b
        .balign 4096
        data_a: .dword 1
        .balign 4096
        data_b: .dword 1000
        {{SupervisorPrologue.PageTables}}
        """));

    private static Machine Boot(ExecutionEngine engine = ExecutionEngine.Interpreter) =>
        EngineComparison.Boot(engine, Remapper.Value, threshold: 1);

    private static (ulong Sum, StateHash Hash, ulong Steps) RunToEnd(Machine machine)
    {
        var result = machine.Run(10_000_000);
        Assert.Equal(StopReason.GuestExit, result.Reason);
        return (machine.Hart.GetX(9), new MachineStateHasher(machine).Compute(), machine.Hart.Steps); // s1
    }

    [Theory]
    [InlineData(ExecutionEngine.Interpreter)]
    [InlineData(ExecutionEngine.Translator)]
    public void A_rewritten_entry_is_seen_without_sfence_vma(ExecutionEngine engine)
    {
        Assert.Equal(ExpectedSum, RunToEnd(Boot(engine)).Sum);
    }

    [Fact]
    public void The_engines_agree_at_every_slice_end() =>
        EngineComparison.RunBoth(Remapper.Value, [1, 7, 333, 4096, 13, 100_000, 2, 999]);

    /// <summary>Snapshots are taken all through the loop (between a flip and the next load too);
    /// from each, the machine runs to the end, comes back and goes on to the next.</summary>
    [Fact]
    public void A_snapshot_restored_anywhere_replays_what_followed_it()
    {
        var expected = RunToEnd(Boot());
        var machine = Boot();
        for (ulong step = 40; step < expected.Steps; step += 1237)
        {
            machine.Run(step - machine.Hart.Steps);
            var snapshot = machine.CaptureSnapshot();
            Assert.Equal(expected, RunToEnd(machine));
            machine.RestoreSnapshot(snapshot);
            Assert.Equal(step, machine.Hart.Steps);
        }
    }

    /// <summary>What a debugger does — set and clear a watchpoint on memory the guest never touches — changes nothing.</summary>
    [Fact]
    public void Setting_and_clearing_a_watchpoint_changes_nothing()
    {
        var expected = RunToEnd(Boot());
        foreach (ulong at in new ulong[] { 100, 5_003, 31_117, 60_001 })
        {
            var machine = Boot();
            machine.Run(at);
            machine.Hart.SetWatchpoints([new WatchRange(0x8070_0000, 8, OnRead: true, OnWrite: true)]);
            machine.Run(997);
            machine.Hart.SetWatchpoints(null);
            Assert.Equal(expected, RunToEnd(machine));
        }
    }

    /// <summary>A device writing the entry (as DMA would) mid-block: the next loads see it, whether or
    /// not a snapshot restore emptied the TLB in between.</summary>
    [Fact]
    public void A_host_side_write_into_a_page_table_is_seen_at_once()
    {
        Span<byte> entry = stackalloc byte[8];
        foreach (ulong at in new ulong[] { 1_000, 20_011, 45_005 })
        {
            var (plain, restored) = (Boot(), Boot());
            foreach (var machine in new[] { plain, restored })
            {
                machine.Run(at);
                ulong table = machine.Hart.GetX(18), flipped = machine.Hart.GetX(19) ^ machine.Hart.GetX(20); // s2, s3 ^ s4
                Assert.True(machine.Hart.DebugRead(table, entry));
                ulong value = BitConverter.ToUInt64(entry) ^ flipped;
                machine.Ram.Write(table, BitConverter.GetBytes(value));
            }
            restored.RestoreSnapshot(restored.CaptureSnapshot());
            Assert.Equal(RunToEnd(restored), RunToEnd(plain));
        }
    }
}
