using FsCheck;
using FsCheck.Fluent;

namespace ReplayVm.Core.Tests.Oracle;

/// <summary>
/// FsCheck generators for valid RV64IMAC + Zicsr test bodies whose result is fully defined by the
/// ISA (or by behaviour where QEMU and the spec agree), so that any difference between QEMU and
/// ReplayVm is a bug in one of them. Things deliberately left out, and why:
/// <list type="bullet">
/// <item>backward branches (no loops: every program terminates);</item>
/// <item>reads of cycle/time/instret (time depends on the host in QEMU);</item>
/// <item>mstatus writes other than MIE (MPRV/MPP would change how the body's own loads behave);</item>
/// <item>odd values into mepc and out-of-range codes into mcause (WARL/WLRL: implementation-defined);</item>
/// <item>a plain store between LR and SC (whether it breaks the reservation is implementation-defined);</item>
/// <item>misaligned SC (QEMU checks the reservation before alignment);</item>
/// <item>CSRRS/CSRRC on a read-only CSR with a non-x0 source holding 0 (QEMU 7.2 treats it as a
/// read, the Zicsr spec as a write attempt, hence illegal).</item>
/// </list>
/// </summary>
public static class RandomProgramGen
{
    private static readonly ulong[] Corners =
    [
        0, 1, ulong.MaxValue, 0x8000_0000_0000_0000, 0x7fff_ffff_ffff_ffff,
        0x8000_0000, 0x7fff_ffff, 0xffff_ffff, 0xffff_ffff_8000_0000, 0xffff_ffff_7fff_ffff,
        2, 0xffff_ffff_ffff_fffe, 31, 32, 63, 64, 0x8000, 0xffff_ffff_ffff_8000,
    ];

    private static readonly Gen<ulong> AnyU64 =
        Gen.Choose(0, 0xffff).Four().Select(t =>
            (ulong)(uint)t.Item1 | (ulong)(uint)t.Item2 << 16 | (ulong)(uint)t.Item3 << 32 | (ulong)(uint)t.Item4 << 48);

    /// <summary>Corner values half of the time, uniformly random 64-bit values otherwise.</summary>
    public static readonly Gen<ulong> Value = Gen.Frequency((1, Gen.Elements(Corners)), (1, AnyU64));

    private static readonly Gen<int> WritableReg = Gen.Elements(OracleLayout.Writable);

    /// <summary>A destination: usually a writable register, sometimes x0 (the write must vanish).</summary>
    private static readonly Gen<int> Rd = Gen.Frequency((12, WritableReg), (1, Gen.Constant(0)));

    private static readonly Gen<int> AnyReg = Gen.Choose(0, 31);
    private static readonly Gen<int> NonZeroReg = Gen.Choose(1, 31);
    private static readonly Gen<int> CRd = Gen.Elements(OracleLayout.WritableCompressed);
    private static readonly Gen<int> CRs = Gen.Elements(OracleLayout.ReadableCompressed);

    private static readonly Gen<int> Imm12 = Gen.Frequency(
        (1, Gen.Elements(0, 1, -1, 2047, -2048, 31, 32, 63, 64)), (3, Gen.Choose(-2048, 2047)));

    private static readonly Gen<int> Shamt64 = Gen.Frequency((1, Gen.Elements(0, 1, 31, 32, 63)), (2, Gen.Choose(0, 63)));
    private static readonly Gen<int> Shamt32 = Gen.Frequency((1, Gen.Elements(0, 1, 15, 31)), (2, Gen.Choose(0, 31)));

    private static string X(int r) => OracleLayout.X(r);

    private static Gen<BodyItem> Line(Gen<string> text) => text.Select(t => BodyItem.Of(t));

    private static Gen<T> Pick<T>(params T[] items) => Gen.Elements(items);

    // ---- RV64I / RV64M register-register and register-immediate arithmetic -------------------

    private static readonly string[] RegRegOps =
    [
        "add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and",
        "addw", "subw", "sllw", "srlw", "sraw",
        "mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu",
        "mulw", "divw", "divuw", "remw", "remuw",
    ];

    private static readonly Gen<string> RegRegText =
        from op in Pick(RegRegOps)
        from rd in Rd
        from rs1 in AnyReg
        from rs2 in AnyReg
        select $"{op} {X(rd)}, {X(rs1)}, {X(rs2)}";

    private static readonly Gen<BodyItem> RegReg = Line(RegRegText);

    private static readonly Gen<BodyItem> RegImm = Line(
        from op in Pick("addi", "slti", "sltiu", "xori", "ori", "andi", "addiw")
        from rd in Rd
        from rs1 in AnyReg
        from imm in Imm12
        select $"{op} {X(rd)}, {X(rs1)}, {imm}");

    private static readonly Gen<BodyItem> ShiftImm = Gen.OneOf(
        Line(from op in Pick("slli", "srli", "srai") from rd in Rd from rs in AnyReg from sh in Shamt64
             select $"{op} {X(rd)}, {X(rs)}, {sh}"),
        Line(from op in Pick("slliw", "srliw", "sraiw") from rd in Rd from rs in AnyReg from sh in Shamt32
             select $"{op} {X(rd)}, {X(rs)}, {sh}"));

    private static readonly Gen<BodyItem> Upper = Line(
        from op in Pick("lui", "auipc")
        from rd in Rd
        from imm in Gen.Frequency((1, Gen.Elements(0, 1, 0x7ffff, 0x80000, 0xfffff)), (2, Gen.Choose(0, 0xfffff)))
        select $"{op} {X(rd)}, 0x{imm:x}");

    private static readonly Gen<BodyItem> LoadConstant = Line(
        from rd in WritableReg from v in Value select $"li {X(rd)}, 0x{v:x}");

    // ---- loads and stores into the scratch areas (misaligned ones included: QEMU's M-mode
    // handles them in hardware, so they must succeed) ----------------------------------------

    private static readonly Gen<int> AreaBase = Pick(OracleLayout.DataAreaReg, OracleLayout.StackAreaReg);

    private static Gen<int> AreaOffset(int size) => Gen.Frequency(
        (3, Gen.Choose(0, OracleLayout.AreaBytes / size - 1).Select(i => i * size)),
        (1, Gen.Choose(0, OracleLayout.AreaBytes - size)));

    private static readonly Gen<BodyItem> Load = Line(
        from op in Pick(("lb", 1), ("lbu", 1), ("lh", 2), ("lhu", 2), ("lw", 4), ("lwu", 4), ("ld", 8))
        from rd in Rd
        from b in AreaBase
        from off in AreaOffset(op.Item2)
        select $"{op.Item1} {X(rd)}, {off}({X(b)})");

    private static readonly Gen<BodyItem> Store = Line(
        from op in Pick(("sb", 1), ("sh", 2), ("sw", 4), ("sd", 8))
        from rs2 in AnyReg
        from b in AreaBase
        from off in AreaOffset(op.Item2)
        select $"{op.Item1} {X(rs2)}, {off}({X(b)})");

    // ---- control flow: forward only, to item boundaries --------------------------------------

    private static readonly Gen<BodyItem> Branch =
        from op in Pick("beq", "bne", "blt", "bge", "bltu", "bgeu")
        from rs1 in AnyReg
        from rs2 in Gen.Frequency((4, AnyReg), (1, Gen.Constant(rs1)))
        from d in Gen.Choose(1, 8)
        select new BodyItem([$"{op} {X(rs1)}, {X(rs2)}, {{T}}"], d);

    private static readonly Gen<BodyItem> Jal =
        from rd in Rd from d in Gen.Choose(1, 8) select new BodyItem([$"jal {X(rd)}, {{T}}"], d);

    /// <summary>JALR through a register holding target - offset (+1 sometimes: bit 0 of the sum is cleared, spec 2.5).</summary>
    private static readonly Gen<BodyItem> Jalr =
        from rt in WritableReg
        from rd in Rd
        from off in Pick(0, 4, -4, 2, -2, 2046, -2048)
        from odd in Gen.Elements(0, 1)
        from d in Gen.Choose(1, 8)
        select new BodyItem([$"la {X(rt)}, {{T}}{-off + odd:+0;-0;+0}", $"jalr {X(rd)}, {off}({X(rt)})"], d);

    // ---- A extension ----------------------------------------------------------------------

    private static readonly string[] AmoOps =
        ["amoswap", "amoadd", "amoxor", "amoand", "amoor", "amomin", "amomax", "amominu", "amomaxu"];

    private static readonly Gen<string> Ordering = Pick("", ".aq", ".rl", ".aqrl");

    private static readonly Gen<(string Suffix, int Size)> Width = Pick((".w", 4), (".d", 8));

    /// <summary>Aligned offsets mostly; a misaligned one raises store/AMO address misaligned (cause 6).</summary>
    private static Gen<int> AtomicOffset(int size) => Gen.Frequency(
        (6, Gen.Choose(0, OracleLayout.AreaBytes / size - 1).Select(i => i * size)),
        (1, Gen.Choose(0, OracleLayout.AreaBytes / size - 2).SelectMany(i => Gen.Choose(1, size - 1).Select(m => i * size + m))));

    private static readonly Gen<BodyItem> Amo =
        from op in Pick(AmoOps)
        from w in Width
        from ord in Ordering
        from rt in WritableReg
        from rd in Rd
        from rs2 in AnyReg
        from off in AtomicOffset(w.Size)
        select BodyItem.Of($"addi {X(rt)}, {X(OracleLayout.DataAreaReg)}, {off}", $"{op}{w.Suffix}{ord} {X(rd)}, {X(rs2)}, ({X(rt)})");

    /// <summary>LR, a little arithmetic that leaves the address register alone, then SC to the same address.</summary>
    private static readonly Gen<BodyItem> LrScPair =
        from w in Width
        from ordLr in Ordering
        from ordSc in Ordering
        from rt in WritableReg
        from rd in Rd.Where(r => r != rt)
        from off in Gen.Choose(0, OracleLayout.AreaBytes / w.Size - 1).Select(i => i * w.Size)
        from middle in Gen.Choose(0, 2).SelectMany(n => Gen.ArrayOf(RegRegText.Where(t => !t.Split(' ')[1].StartsWith(X(rt) + ",")), n))
        from rd2 in Rd
        from rs2 in AnyReg
        select new BodyItem(
            [$"addi {X(rt)}, {X(OracleLayout.DataAreaReg)}, {off}",
             $"lr{w.Suffix}{ordLr} {X(rd)}, ({X(rt)})",
             .. middle,
             $"sc{w.Suffix}{ordSc} {X(rd2)}, {X(rs2)}, ({X(rt)})"]);

    /// <summary>SC with no reservation (fails, writes 1), or a misaligned LR (load address misaligned, cause 4).</summary>
    private static readonly Gen<BodyItem> LoneAtomic = Gen.OneOf(
        from w in Width
        from rt in WritableReg
        from rd in Rd
        from rs2 in AnyReg
        from off in Gen.Choose(0, OracleLayout.AreaBytes / w.Size - 1).Select(i => i * w.Size)
        select BodyItem.Of($"addi {X(rt)}, {X(OracleLayout.DataAreaReg)}, {off}", $"sc{w.Suffix} {X(rd)}, {X(rs2)}, ({X(rt)})"),
        from w in Width
        from rt in WritableReg
        from rd in Rd
        from off in Gen.Choose(0, OracleLayout.AreaBytes / w.Size - 2).SelectMany(i => Gen.Choose(1, w.Size - 1).Select(m => i * w.Size + m))
        select BodyItem.Of($"addi {X(rt)}, {X(OracleLayout.DataAreaReg)}, {off}", $"lr{w.Suffix} {X(rd)}, ({X(rt)})"));

    // ---- Zicsr on CSRs whose behaviour is fully specified ----------------------------------

    private static readonly Gen<int> Uimm5 = Gen.Choose(0, 31);

    private static readonly ulong[] LegalCauses =
    [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15,
        0x8000_0000_0000_0001, 0x8000_0000_0000_0003, 0x8000_0000_0000_0005,
        0x8000_0000_0000_0007, 0x8000_0000_0000_0009, 0x8000_0000_0000_000b,
    ];

    private static readonly Gen<BodyItem> Csr = Gen.OneOf(
        // Plain reads.
        Line(from rd in Rd from csr in Pick("mscratch", "mepc", "mcause", "mtval", "misa", "mstatus")
             select $"csrr {X(rd)}, {csr}"),
        // Fully writable registers: every form, every value.
        Line(from op in Pick("csrrw", "csrrs", "csrrc") from rd in Rd from csr in Pick("mscratch", "mtval") from rs in AnyReg
             select $"{op} {X(rd)}, {csr}, {X(rs)}"),
        Line(from op in Pick("csrrwi", "csrrsi", "csrrci") from rd in Rd from csr in Pick("mscratch", "mtval") from u in Uimm5
             select $"{op} {X(rd)}, {csr}, {u}"),
        // mepc: bit 0 always reads 0 (priv spec 3.1.14); only even values are written here.
        from rt in WritableReg from rs in AnyReg from rd in Rd from op in Pick("csrrw", "csrrs", "csrrc")
        select BodyItem.Of($"andi {X(rt)}, {X(rs)}, -2", $"{op} {X(rd)}, mepc, {X(rt)}"),
        Line(from rd in Rd from u in Uimm5 select $"csrrci {X(rd)}, mepc, {u}"),
        // mcause: WLRL, so only legal codes.
        from rt in WritableReg from rd in Rd from v in Pick(LegalCauses)
        select BodyItem.Of($"li {X(rt)}, 0x{v:x}", $"csrrw {X(rd)}, mcause, {X(rt)}"),
        // mstatus: only MIE (bit 3); mie stays 0, so no interrupt can follow.
        Line(from op in Pick("csrrsi", "csrrci") from rd in Rd select $"{op} {X(rd)}, mstatus, 8"));

    // ---- traps: each is logged by the handler and skipped --------------------------------

    private static readonly Gen<BodyItem> Trap = Gen.OneOf(
        Gen.Constant(BodyItem.Of("ecall")),
        Gen.Constant(BodyItem.Of("ebreak")),
        Gen.Constant(BodyItem.Of(".option rvc", "c.ebreak", ".option norvc")),
        // 16-bit all-zero: defined illegal (spec 16.1, "c.unimp").
        Gen.Constant(BodyItem.Of(".half 0")),
        // Writes to read-only CSRs (csr[11:10] = 0b11) are illegal (priv spec 2.1).
        // The source register holds a non-zero value: QEMU 7.2 decides "is this a write" from the
        // value rather than from rs1 != x0 (Zicsr spec), and would then read a host-clock counter.
        from op in Pick("csrrw", "csrrs", "csrrc") from rd in Rd from csr in Pick("mhartid", "mvendorid", "marchid", "mimpid", "cycle", "instret")
        from rt in WritableReg from rs in AnyReg
        select BodyItem.Of($"ori {X(rt)}, {X(rs)}, 1", $"{op} {X(rd)}, {csr}, {X(rt)}"),
        Line(from op in Pick("csrrwi", "csrrsi", "csrrci") from rd in Rd from csr in Pick("mhartid", "mvendorid", "cycle", "time")
             from u in Gen.Choose(1, 31)
             select $"{op} {X(rd)}, {csr}, {u}"),
        Line(from rd in Rd from csr in Pick("mhartid", "cycle") select $"csrrwi {X(rd)}, {csr}, 0"));

    private static readonly Gen<BodyItem> Fence = Line(Pick("fence", "fence.i", "fence rw, rw", "fence r, w", "nop"));

    // ---- C extension (RV64 forms only; C.FLD/C.FSD left out: no F/D in this march) ---------

    private static BodyItem Rvc(params string[] lines) => new([".option rvc", .. lines, ".option norvc"]);

    private static Gen<BodyItem> C(Gen<string> text) => text.Select(t => Rvc(t));

    private static Gen<int> Scaled(int max, int step) => Gen.Choose(0, max / step).Select(i => i * step);

    private static readonly Gen<int> NonZeroImm6 = Gen.Choose(-32, 31).Where(i => i != 0);

    private static readonly Gen<BodyItem> Compressed = Gen.OneOf(
        C(from rd in CRd from u in Gen.Choose(1, 255) select $"c.addi4spn {X(rd)}, sp, {u * 4}"),
        C(from op in Pick(("c.lw", 4, 124), ("c.ld", 8, 248)) from rd in CRd from off in Scaled(op.Item3, op.Item2)
          select $"{op.Item1} {X(rd)}, {off}({X(OracleLayout.DataAreaReg)})"),
        C(from op in Pick(("c.sw", 4, 124), ("c.sd", 8, 248)) from rs in CRs from off in Scaled(op.Item3, op.Item2)
          select $"{op.Item1} {X(rs)}, {off}({X(OracleLayout.DataAreaReg)})"),
        Gen.Constant(Rvc("c.nop")),
        C(from rd in WritableReg from imm in NonZeroImm6 select $"c.addi {X(rd)}, {imm}"),
        C(from rd in WritableReg from imm in Gen.Choose(-32, 31) select $"c.addiw {X(rd)}, {imm}"),
        C(from rd in WritableReg from imm in Gen.Choose(-32, 31) select $"c.li {X(rd)}, {imm}"),
        // sp must stay a valid pointer, so C.ADDI16SP comes in a +k/-k pair (both within its [-512, 496]).
        from k in Gen.Choose(-31, 31).Where(i => i != 0) select Rvc($"c.addi16sp sp, {k * 16}", $"c.addi16sp sp, {-k * 16}"),
        C(from rd in WritableReg from imm in Gen.OneOf(Gen.Choose(1, 31), Gen.Choose(0xfffe0, 0xfffff)) select $"c.lui {X(rd)}, 0x{imm:x}"),
        C(from op in Pick("c.srli", "c.srai") from rd in CRd from sh in Gen.Choose(1, 63) select $"{op} {X(rd)}, {sh}"),
        C(from rd in CRd from imm in Gen.Choose(-32, 31) select $"c.andi {X(rd)}, {imm}"),
        C(from op in Pick("c.sub", "c.xor", "c.or", "c.and", "c.subw", "c.addw") from rd in CRd from rs in CRs
          select $"{op} {X(rd)}, {X(rs)}"),
        from d in Gen.Choose(1, 8) select new BodyItem([".option rvc", "c.j {T}", ".option norvc"], d),
        // C.BEQZ/C.BNEZ reach only +-256 bytes: stay within three items.
        from op in Pick("c.beqz", "c.bnez") from rs in CRs from d in Gen.Choose(1, 3)
        select new BodyItem([".option rvc", $"{op} {X(rs)}, {{T}}", ".option norvc"], d),
        C(from rd in WritableReg from sh in Gen.Choose(1, 63) select $"c.slli {X(rd)}, {sh}"),
        C(from op in Pick(("c.lwsp", 4, 252), ("c.ldsp", 8, 504)) from rd in WritableReg from off in Scaled(op.Item3, op.Item2)
          select $"{op.Item1} {X(rd)}, {off}(sp)"),
        C(from op in Pick(("c.swsp", 4, 252), ("c.sdsp", 8, 504)) from rs in AnyReg from off in Scaled(op.Item3, op.Item2)
          select $"{op.Item1} {X(rs)}, {off}(sp)"),
        from op in Pick("c.jr", "c.jalr") from rt in WritableReg from d in Gen.Choose(1, 8)
        select new BodyItem([$"la {X(rt)}, {{T}}", ".option rvc", $"{op} {X(rt)}", ".option norvc"], d),
        C(from op in Pick("c.mv", "c.add") from rd in WritableReg from rs in NonZeroReg select $"{op} {X(rd)}, {X(rs)}"));

    public static readonly Gen<BodyItem> Item = Gen.Frequency(
        (14, RegReg), (6, RegImm), (4, ShiftImm), (2, Upper), (3, LoadConstant),
        (5, Load), (4, Store), (3, Branch), (1, Jal), (1, Jalr),
        (4, Amo), (2, LrScPair), (1, LoneAtomic), (4, Csr), (2, Trap), (1, Fence),
        (12, Compressed));

    public static Gen<RandomProgram> Program(int minItems, int maxItems) =>
        from seeds in Gen.ArrayOf(Value, 31)
        from words in Gen.ArrayOf(Value, 2 * OracleLayout.AreaWords)
        from n in Gen.Choose(minItems, maxItems)
        from body in Gen.ArrayOf(Item, n)
        select new RandomProgram(seeds, words, body);

    public static Gen<ProgramBatch> Batch(int programs, int minItems, int maxItems) =>
        Gen.ArrayOf(Program(minItems, maxItems), programs).Select(p => new ProgramBatch(p));
}
