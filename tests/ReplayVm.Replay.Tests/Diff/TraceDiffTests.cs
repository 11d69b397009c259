using ReplayVm.Core;
using ReplayVm.Replay.Diff;

namespace ReplayVm.Replay.Tests.Diff;

public class TraceDiffTests
{
    private const ulong TypedAt = 5_123;
    /// <summary><c>lbu t1, 0(s0)</c> (RV32I/RV64I LBU: imm 0, rs1 x8, funct3 4, rd x6, opcode 0x03): the echo guest's UART read.</summary>
    private const uint LbuT1FromUart = (8 << 15) | (4 << 12) | (6 << 7) | 0x03;
    private const int T1 = 6;

    [Fact]
    public void DifferentByteIsFoundWhereTheGuestReadsItIntoARegister()
    {
        var a = DiffFixtures.Record((byte)'a', TypedAt);
        var b = DiffFixtures.Record((byte)'z', TypedAt);

        var result = TraceDiff.Compare(a, b);

        Assert.Equal(TraceDiffOutcome.StateDiffers, result.Outcome);
        var d = result.Divergence!;
        Assert.Equal(result.Step, d.Step);
        // The byte arrives at step TypedAt; the guest sees it within one poll-loop iteration (4 instructions) and reads it 2 later.
        Assert.InRange(d.Step, TypedAt + 1, TypedAt + 8);
        Assert.Equal(LbuT1FromUart, d.InstructionBits);
        Assert.Equal(Core.Hart.PrivilegeLevel.Machine, d.Mode);
        var t1 = Assert.Single(d.IntegerRegisters);
        Assert.Equal((uint)T1, t1.Id);
        Assert.Equal((ulong)'a', t1.AfterA);
        Assert.Equal((ulong)'z', t1.AfterB);
        Assert.Equal(t1.BeforeA, t1.BeforeB); // equal one step back, by definition of the first divergent step
        Assert.Empty(d.FloatRegisters);
        Assert.Empty(d.Csrs);
        Assert.Empty(d.Memory); // the byte reaches RAM one instruction later
        Assert.Equal(d.Pc + 4, d.A.Pc);
        Assert.Equal(d.A.Pc, d.B.Pc);
        Assert.Equal(0, d.A.ConsoleBytes);

        var typed = Assert.Single(d.NearbyInputA, e => e.Kind == TraceEventKind.ConsoleInput && e.Step == TypedAt);
        Assert.Contains("\"a\"", typed.Payload);
        Assert.Contains(d.NearbyInputB, e => e.Kind == TraceEventKind.ConsoleInput && e.Step == TypedAt && e.Payload.Contains("\"z\""));
    }

    [Fact]
    public void ChunkScanAndTrustedHashPointsFindTheSameStepAsSingleSteppingFromTheInput()
    {
        // The guest ignores nothing, so to exercise the chunk scan the first window is switched off.
        var a = DiffFixtures.Record((byte)'x', TypedAt);
        var b = DiffFixtures.Record((byte)'y', TypedAt);
        var exact = TraceDiff.Compare(a, b);
        foreach (var options in new[]
                 {
                     new TraceDiffOptions { FirstWindowSteps = 0, ChunkSteps = 1_000 },
                     new TraceDiffOptions { FirstWindowSteps = 0, ChunkSteps = 3 },
                     new TraceDiffOptions { TrustAgreeingHashPoints = true },
                 })
        {
            var other = TraceDiff.Compare(a, b, options);
            Assert.Equal(exact.Step, other.Step);
            Assert.Equal(exact.Divergence!.IntegerRegisters, other.Divergence!.IntegerRegisters);
        }
    }

    [Fact]
    public void ByteArrivingLaterPartsTheStatesAtTheStatusRead()
    {
        // Both type 'k'; A types 'q' right after, B much later. A's guest then sees "data ready"
        // in the line status register (LSR bit 0, NS16550A) where B's does not: t0 parts first.
        var a = DiffFixtures.Record((byte)'k', TypedAt, quitAfter: 1);
        var b = DiffFixtures.Record((byte)'k', TypedAt, quitAfter: 1_000);
        var result = TraceDiff.Compare(a, b);
        Assert.Equal(TraceDiffOutcome.StateDiffers, result.Outcome);
        var t0 = Assert.Single(result.Divergence!.IntegerRegisters);
        Assert.Equal(5u, t0.Id);
        Assert.Equal(1UL, t0.AfterA & 1);
        Assert.Equal(0UL, t0.AfterB & 1);
        Assert.Equal(t0.AfterA & ~1UL, t0.AfterB);
    }

    [Fact]
    public void StoredByteShowsAsAMemoryRangeAStepLater()
    {
        var a = DiffFixtures.Record((byte)'a', TypedAt);
        var b = DiffFixtures.Record((byte)'b', TypedAt);
        var d = TraceDiff.Compare(a, b).Divergence!;
        Assert.Empty(d.Memory);
        Assert.Null(TraceDiff.DifferencesAt(a, b, d.Step - 1));

        // The next instruction is "sb t1, 0(s4)": the echo buffer's first byte differs from then on.
        var later = TraceDiff.DifferencesAt(a, b, d.Step + 1)!;
        var expected = new ReplayerPair(a, b, d.Step + 1).MemoryDifferences();
        var range = Assert.Single(later.Memory);
        Assert.Equal(Assert.Single(expected).Address, range.Address);
        Assert.Equal(1UL, range.Length);
        Assert.Equal("a"u8.ToArray(), range.A);
        Assert.Equal("b"u8.ToArray(), range.B);
        Assert.Contains(later.IntegerRegisters, r => r.Id == T1);
    }

    [Fact]
    public void IdenticalRecordingsAreIdentical()
    {
        var a = DiffFixtures.Record((byte)'a', TypedAt);
        var b = DiffFixtures.Record((byte)'a', TypedAt);
        var result = TraceDiff.Compare(a, b);
        Assert.Equal(TraceDiffOutcome.Identical, result.Outcome);
        Assert.True(result.Identical);
        Assert.Equal(a.End!.Step, result.Step);
        Assert.Null(result.Divergence);
    }

    [Fact]
    public void DifferenceThatRejoinsBeforeTheNextHashPointIsStillFound()
    {
        // On 't' the guest loads the RTC's TIME_LOW into t3 and keeps only its low 4 bits. Clocks 16 ns
        // apart make t3 differ for exactly one step; every recorded state hash agrees.
        var a = DiffFixtures.Record((byte)'t', TypedAt, clock: s => s * 7);
        var b = DiffFixtures.Record((byte)'t', TypedAt, clock: s => s * 7 + 16);
        Assert.Equal(a.HashPoints.Select(h => h.Hash), b.HashPoints.Select(h => h.Hash));
        Assert.Equal(a.End!.FinalHash, b.End!.FinalHash);

        var result = TraceDiff.Compare(a, b);
        Assert.Equal(TraceDiffOutcome.StateDiffers, result.Outcome);
        var t3 = Assert.Single(result.Divergence!.IntegerRegisters);
        Assert.Equal(28u, t3.Id);
        Assert.Equal(t3.AfterA + 16, t3.AfterB);
        Assert.Contains(result.Divergence.NearbyInputB, e => e.Kind == TraceEventKind.WallClock && e.Step == result.Step - 1);
        Assert.Null(TraceDiff.DifferencesAt(a, b, result.Step + 1)); // andi t3, t3, 15: equal again

        // Trusting agreeing hash points skips the whole stretch, and with it the difference.
        var trusting = TraceDiff.Compare(a, b, new TraceDiffOptions { TrustAgreeingHashPoints = true });
        Assert.Equal(TraceDiffOutcome.Identical, trusting.Outcome);
        Assert.Contains(trusting.Notes, n => n.Contains("input logs differ"));
    }

    [Fact]
    public void TruncatedTraceIsReportedAsEndingEarlier()
    {
        var a = DiffFixtures.Record((byte)'a', TypedAt);
        var cut = DiffFixtures.Truncate(a, 4_000);
        Assert.True(cut.Truncated);

        var result = TraceDiff.Compare(a, cut);
        Assert.Equal(TraceDiffOutcome.EndDiffers, result.Outcome);
        Assert.Equal(cut.LastStep, result.Step);
        Assert.True(result.Ending!.TruncatedB);
        Assert.Equal($"B ends at step {cut.LastStep} (truncated trace), A continues to step {a.End!.Step}", result.Ending.Message);

        var reversed = TraceDiff.Compare(cut, a);
        Assert.StartsWith($"A ends at step {cut.LastStep}", reversed.Ending!.Message);
    }

    [Fact]
    public void TruncatedTraceThatAlsoDiffersReportsTheStateDifferenceFirst()
    {
        var a = DiffFixtures.Record((byte)'a', TypedAt);
        var b = DiffFixtures.Truncate(DiffFixtures.Record((byte)'b', TypedAt), TypedAt + 2_500);
        var result = TraceDiff.Compare(a, b);
        Assert.Equal(TraceDiffOutcome.StateDiffers, result.Outcome);
        Assert.InRange(result.Step, TypedAt + 1, TypedAt + 8);
    }

    [Fact]
    public void DifferentSetupIsReportedWithoutReplaying()
    {
        var a = DiffFixtures.Record((byte)'a', TypedAt);
        var b = DiffFixtures.Record((byte)'a', TypedAt, setup: DiffFixtures.SmallEcho);
        var result = TraceDiff.Compare(a, b);
        Assert.Equal(TraceDiffOutcome.SetupDiffers, result.Outcome);
        var only = Assert.Single(result.SetupDifferences);
        Assert.Equal("RAM size 16 MiB vs 4 MiB", only);
        Assert.StartsWith("different machine setup: RAM size", result.Summary);
    }

    [Fact]
    public void DifferentImageContentsAreASetupDifference()
    {
        var elf = TestGuests.Echo.Images[0].Bytes.ToArray();
        elf[^1] ^= 0xFF; // the section string table's tail: still a loadable ELF, but another image
        var a = new MachineSetup(TestGuests.Config, [new GuestImage(ImageRole.Elf, "echo.elf", 0, TestGuests.Echo.Images[0].Bytes)]);
        var b = new MachineSetup(TestGuests.Config, [new GuestImage(ImageRole.Elf, "other-name.elf", 0, elf)]);
        var differences = SetupComparison.Differences(a, b);
        Assert.Contains(differences, d => d.Contains("contents differ"));
        Assert.Empty(SetupComparison.Differences(a, a with { Images = [new GuestImage(ImageRole.Elf, "renamed.elf", 0, a.Images[0].Bytes)] }));
    }

    [Fact]
    public void TraceThatDoesNotReplayIsBadInput()
    {
        var a = DiffFixtures.Record((byte)'a', TypedAt);
        var b = DiffFixtures.Record((byte)'b', TypedAt);
        // B's hashes with A's inputs: B no longer replays on its own.
        var forged = TraceReader.Read(TraceBuilder.Write(b.Header,
            b.Events.Select(e => e is ConsoleInputEvent { Bytes: [(byte)'b'] } c ? new ConsoleInputEvent(c.Step, [(byte)'a']) : e)));
        var e = Assert.Throws<Format.TraceFormatException>(() => TraceDiff.Compare(a, forged));
        Assert.StartsWith("trace B does not replay", e.Message);
    }
}

/// <summary>Two plain replays at one step, for checking what the diff reports against the machines themselves.</summary>
internal sealed class ReplayerPair
{
    private readonly Replayer _a, _b;

    public ReplayerPair(TraceFile a, TraceFile b, ulong step)
    {
        _a = new Replayer(a, _ => { });
        _b = new Replayer(b, _ => { });
        Assert.Null(_a.RunTo(step));
        Assert.Null(_b.RunTo(step));
    }

    public List<MemoryDifference> MemoryDifferences()
    {
        var (ra, rb) = (_a.Machine.Ram, _b.Machine.Ram);
        var found = new List<MemoryDifference>();
        ReadOnlySpan<byte> a = ra.Read(ra.Base, (int)ra.Size), b = rb.Read(rb.Base, (int)rb.Size);
        for (int i = 0; i < a.Length; i++)
            if (a[i] != b[i]) found.Add(new MemoryDifference(ra.Base + (ulong)i, 1, null, [a[i]], [b[i]]));
        return found;
    }
}
