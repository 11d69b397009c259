using ReplayVm.Debugger.Disassembly;

namespace ReplayVm.Debugger.Tests.Disassembly;

/// <summary>GNU objdump (riscv64-unknown-elf-objdump 2.40) is the oracle for the disassembler's text.</summary>
public class DisassemblerObjdumpTests
{
    [Fact]
    public void EveryFormInAllInsnsMatchesObjdump()
    {
        string source = Path.Combine(AppContext.BaseDirectory, "Data", "all_insns.S");
        IReadOnlyList<ObjdumpLine> lines = ObjdumpOracle.DisassembleFile(source);
        OracleComparison.AssertAllMatch(lines, minimumLines: 290);
    }

    [Fact]
    public void EveryCompressedParcelMatchesObjdump()
    {
        // All 16-bit parcels whose low bits are not 11 (those are the low half of a longer instruction).
        var parcels = Enumerable.Range(0, 0x10000).Where(p => (p & 3) != 3).Select(p => (uint)p).ToList();
        IReadOnlyList<ObjdumpLine> lines = ObjdumpOracle.DisassembleParcels(parcels);
        OracleComparison.AssertAllMatch(lines, minimumLines: parcels.Count);
    }

    [Fact]
    public void EveryCsrNumberMatchesObjdump()
    {
        // csrrc a0, N, a1: a form with no pseudo-instruction, so objdump shows the CSR operand as is.
        const uint csrrcA0A1 = (11u << 15) | (3u << 12) | (10u << 7) | 0x73;
        var words = Enumerable.Range(0, 4096).Select(csr => ((uint)csr << 20) | csrrcA0A1).ToList();
        IReadOnlyList<ObjdumpLine> lines = ObjdumpOracle.DisassembleParcels(words);
        OracleComparison.AssertAllMatch(lines, minimumLines: 4096);

        foreach (ObjdumpLine line in lines)
        {
            int csr = (int)(line.Bits >> 20);
            string objdumpName = ObjdumpOracle.Normalize(line.Text).Split(',')[1];
            Assert.Equal(objdumpName, CsrNames.Format(csr));
            Assert.Equal(objdumpName.StartsWith("0x", StringComparison.Ordinal) ? null : objdumpName, CsrNames.Lookup(csr));
        }
    }

    [Fact]
    public void EveryCsrInstructionVariantMatchesObjdump()
    {
        // Each Zicsr form against each named CSR, with rd and rs1/uimm both zero and nonzero:
        // covers csrr/csrw/csrs/csrc and the frflags/fsrm/rdcycle-style pseudo-instructions.
        var words = new List<uint>();
        foreach (int csr in CsrNames.All.Keys.Append(0x7C0))
            foreach (uint funct3 in new uint[] { 1, 2, 3, 5, 6, 7 })
                foreach (uint rd in new uint[] { 0, 10 })
                    foreach (uint rs1 in new uint[] { 0, 11 })
                        words.Add(((uint)csr << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | 0x73);
        OracleComparison.AssertAllMatch(ObjdumpOracle.DisassembleParcels(words), minimumLines: words.Count);
    }

    [Fact]
    public void EveryFunctFieldCombinationMatchesObjdump()
    {
        // Under each opcode whose funct7/funct3/rs2 fields select the operation, every combination of
        // those fields; rd and rs1 cycle through zero, ra and others so the zero-register aliases show.
        uint[] opcodes = [0x0F, 0x13, 0x1B, 0x2F, 0x33, 0x3B, 0x53, 0x73];
        uint[] registers = [0, 1, 10, 0, 31, 2, 1];
        var words = new List<uint>();
        int n = 0;
        foreach (uint opcode in opcodes)
            for (uint funct7 = 0; funct7 < 128; funct7++)
                for (uint funct3 = 0; funct3 < 8; funct3++)
                    for (uint rs2 = 0; rs2 < 32; rs2++, n++)
                    {
                        uint rs1 = registers[n % registers.Length], rd = registers[(n / 3) % registers.Length];
                        words.Add((funct7 << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode);
                    }
        OracleComparison.AssertAllMatch(ObjdumpOracle.DisassembleParcels(words), minimumLines: words.Count);
    }

    [Fact]
    public void SingleAndDoubleBitFlipsOfExactEncodingsMatchObjdump()
    {
        // Encodings whose other fields must be zero (system, fences, lr, fmv/fclass/fcvt) or that
        // select aliases on zero fields, each with every one- and two-bit change above the length bits.
        uint[] bases =
        [
            0x00000073, 0x00100073, 0x10200073, 0x30200073, 0x10500073, 0x12000073, 0x12B50073,
            0x0FF0000F, 0x8330000F, 0x0000100F, 0x1005252F, 0x1005352F,
            0xD2050553, 0x42050553, 0x40150553, 0xE0050553, 0xE2051553, 0xF0050553, 0x58050553,
            0x00151513, 0x40155513, 0x0015151B, 0x4015551B, 0x00000013, 0x00008067, 0x000500E7,
            0x00A50533, 0x40A50533, 0x02A5053B, 0x00000063, 0x0000006F,
        ];
        var words = new List<uint>();
        foreach (uint b in bases)
        {
            words.Add(b);
            for (int i = 2; i < 32; i++)
            {
                words.Add(b ^ (1u << i));
                for (int j = i + 1; j < 32; j++) words.Add(b ^ (1u << i) ^ (1u << j));
            }
        }
        // Keep 32-bit encodings only (bits [4:2] = 111 would announce a longer instruction).
        words = words.Where(w => (w & 3) == 3 && ((w >> 2) & 7) != 7).ToList();
        OracleComparison.AssertAllMatch(ObjdumpOracle.DisassembleParcels(words), minimumLines: words.Count);
    }

    [Fact]
    public void MissingToolFailsInsteadOfSkipping()
    {
        // Without the toolchain the oracle throws (so the comparison tests fail), naming the tool.
        var e = Assert.Throws<InvalidOperationException>(() => ObjdumpOracle.RunTool("replayvm-no-such-tool", ["--version"]));
        Assert.Contains("replayvm-no-such-tool", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ObjdumpListingIsParsed()
    {
        const string listing = "\n   0:\t00150513          \tadd\ta0,a0,1\n  10:\t0505                \tadd\ta0,a0,1\n"
            + "  18:\tfe050ee3          \tbeqz\ta0,14 <.L1^B1>\n  1c:\t9d8b0b13          \tadd\ts6,s6,-1576 # 12345 <x>\n";
        IReadOnlyList<ObjdumpLine> lines = ObjdumpOracle.Parse(listing);
        Assert.Equal(4, lines.Count);
        Assert.Equal(new ObjdumpLine(0x10, 0x0505, 2, "add\ta0,a0,1"), lines[1]);
        Assert.Equal("beqz a0,14", ObjdumpOracle.Normalize(lines[2].Text));
        Assert.Equal("add s6,s6,-1576", ObjdumpOracle.Normalize(lines[3].Text));
    }
}
