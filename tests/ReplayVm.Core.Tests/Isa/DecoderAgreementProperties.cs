using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Core.Hart;
using ReplayVm.Core.Isa;
using ReplayVm.Core.Tests.Isa.Reference;

namespace ReplayVm.Core.Tests.Isa;

/// <summary>
/// The table-driven decoder (<see cref="InstructionTable"/>) against the hand-written decoders it
/// replaced (kept under Reference/): every field of the decoded instruction the executor reads must
/// agree, on arbitrary words and on words built from every row of the table with random free bits
/// (uniformly random words alone hit most rows too rarely).
/// </summary>
public class DecoderAgreementProperties
{
    private static readonly Gen<uint> AnyWord = ArbMap.Default.GeneratorFor<uint>();

    /// <summary>A row's fixed bits with random bits everywhere else: hits every row, legal and near-miss.</summary>
    private static readonly Gen<uint> RowWord =
        from row in Gen.Elements(Rv64gc.Instructions.ToArray())
        from free in AnyWord
        select row.Match | (free & ~row.Mask);

    private static readonly Gen<uint> CompressedWord =
        from row in Gen.Elements(Rv64gc.Compressed.ToArray())
        from free in AnyWord
        select (uint)(row.Match | (free & 0xFFFF & ~row.Mask)) | (free & 0xFFFF_0000);

    [Property(MaxTest = 20_000)]
    public Property Random_words_decode_as_the_reference_decoder_does() =>
        Prop.ForAll(AnyWord.ToArbitrary(), Agrees);

    [Property(MaxTest = 20_000)]
    public Property Every_row_decodes_as_the_reference_decoder_does() =>
        Prop.ForAll(RowWord.ToArbitrary(), Agrees);

    [Property(MaxTest = 20_000)]
    public Property Every_compressed_row_decodes_as_the_reference_decoder_does() =>
        Prop.ForAll(CompressedWord.ToArbitrary(), Agrees);

    [Fact]
    public void Every_executable_row_is_reachable()
    {
        // A row shadowed by an earlier, wider row would never decode: its own Match must reach it.
        foreach (var row in Rv64gc.Instructions.Where(r => r.Op != Opcode.Illegal))
            Assert.True(InstructionTable.Decode(row.Match).Op == row.Op,
                $"{row.Mnemonic} (0x{row.Match:x8}) decodes to {InstructionTable.Decode(row.Match).Op}");
    }

    /// <summary>Opcodes none of whose rows read rs2 (the integer conversions keep a selector there).</summary>
    private static readonly HashSet<Opcode> NoRs2 =
        [.. Rv64gc.Instructions.GroupBy(r => r.Op).Where(g => g.All(r => r.Rs2 == RegisterFile.None)).Select(g => g.Key)];

    private static bool Agrees(uint word)
    {
        var table = InstructionTable.Decode(word);
        var reference = ReferenceDecoder.Decode(word);
        Assert.True(Normalise(table).Equals(Normalise(reference)),
            $"0x{word:x8}: table {Show(table)}, reference {Show(reference)}");
        return true;
    }

    /// <summary>
    /// Clears the register fields an opcode does not read (the reference decoder filled some with the
    /// raw field bits, the table leaves them 0), so only what the executor uses is compared.
    /// </summary>
    private static DecodedInstruction Normalise(DecodedInstruction d)
    {
        if (d.Op == Opcode.Illegal) return d with { Rd = 0, Rs1 = 0, Rs2 = 0, Rs3 = 0, Rm = 0 };
        return NoRs2.Contains(d.Op) ? d with { Rs2 = 0 } : d;
    }

    private static string Show(DecodedInstruction d) =>
        $"{d.Op} rd={d.Rd} rs1={d.Rs1} rs2={d.Rs2} rs3={d.Rs3} rm={d.Rm} imm=0x{d.Imm:x} len={d.Length}";
}
