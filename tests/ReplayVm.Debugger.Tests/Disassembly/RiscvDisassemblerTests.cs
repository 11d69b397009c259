using ReplayVm.Debugger.Disassembly;

namespace ReplayVm.Debugger.Tests.Disassembly;

/// <summary>Behaviour of the public API that objdump's listing does not show directly.</summary>
public class RiscvDisassemblerTests
{
    [Theory]
    [InlineData(0x0000, 2)]
    [InlineData(0x0505, 2)]
    [InlineData(0x8082, 2)]
    [InlineData(0xFFFE, 2)]
    [InlineData(0x0513, 4)]
    [InlineData(0x0003, 4)]
    public void LengthFollowsTheLowTwoBits(int low16, int length) =>
        Assert.Equal(length, RiscvDisassembler.Length((ushort)low16));

    [Fact]
    public void JumpTargetsAreAbsoluteAndSymbolized()
    {
        // jal ra, +0x100 at 0x80000000
        const uint jalRa = 0x100000EF;
        Assert.Equal("jal\t80000100", RiscvDisassembler.Disassemble(jalRa, 0x8000_0000));
        string text = RiscvDisassembler.Disassemble(jalRa, 0x8000_0000, a => a == 0x8000_0100 ? "main" : null);
        Assert.Equal("jal\t80000100 <main>", text);
        // j +0x10
        Assert.Equal("j\t80000010", RiscvDisassembler.Disassemble(0x0100006F, 0x8000_0000));
    }

    [Fact]
    public void BackwardTargetsWrapAtSixtyFourBits() =>
        // beqz a0, -4 at address 0
        Assert.Equal("beqz\ta0,fffffffffffffffc", RiscvDisassembler.Disassemble(0xFE050EE3, 0));

    [Fact]
    public void CompressedParcelIgnoresTheUpperHalf()
    {
        Assert.Equal("ret", RiscvDisassembler.Disassemble(0x8082, 0));
        Assert.Equal("ret", RiscvDisassembler.Disassemble(0xDEAD_8082, 0));
        Assert.Equal("unimp", RiscvDisassembler.Disassemble(0x0000, 0));
    }

    [Fact]
    public void UnknownEncodingsPrintAsRawData()
    {
        Assert.Equal(".4byte\t0xb", RiscvDisassembler.Disassemble(0x0000000B, 0));
        Assert.Equal(".2byte\t0x8002", RiscvDisassembler.Disassemble(0x8002, 0));
    }

    [Fact]
    public void OperandsUseAbiNamesAndObjdumpFormat()
    {
        Assert.Equal("fadd.d\tfa0,fa1,fa2", RiscvDisassembler.Disassemble(0x02C5F553, 0));
        Assert.Equal("fadd.d\tfa0,fa1,fa2,rtz", RiscvDisassembler.Disassemble(0x02C59553, 0));
        Assert.Equal("csrr\ta0,mstatus", RiscvDisassembler.Disassemble(0x30002573, 0));
        Assert.Equal("csrw\t0x7c0,a0", RiscvDisassembler.Disassemble(0x7C051073, 0));
        Assert.Equal("sd\ts0,8(sp)", RiscvDisassembler.Disassemble(0x00813423, 0));
    }

    [Fact]
    public void CsrNamesKnowsTheMachineRegisters()
    {
        Assert.Equal("mstatus", CsrNames.Lookup(0x300));
        Assert.Equal("pmpaddr63", CsrNames.Lookup(0x3EF));
        Assert.Null(CsrNames.Lookup(0x7C0));
        Assert.Equal("0x7c0", CsrNames.Format(0x7C0));
    }
}
