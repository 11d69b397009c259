using ReplayVm.Core.Hart;
using static ReplayVm.Core.Isa.Operand;

namespace ReplayVm.Core.Isa;

/// <summary>
/// The RV64GC instruction set as data: RV64I, M, A, F, D, Zicsr, Zifencei, the privileged
/// instructions (unprivileged spec ch. 2, 4, 7–12 and the opcode map of ch. 34 "RV32/64G
/// Instruction Set Listings"; privileged spec 3.3) and C (ch. 16, tables 16.5–16.7 for RV64).
///
/// An encoding is written as fixed fields: <c>op</c> (6:0), <c>f3</c> (14:12), <c>f7</c> (31:25),
/// <c>f6</c> (31:26), <c>f5</c> (31:27), <c>fmt</c> (26:25), <c>fm</c> (31:28), <c>rd</c>, <c>rs1</c>,
/// <c>rs2</c> (the register fields), <c>f12</c> (31:20); bits not named are free. RVC parcels are
/// written as 16 characters of 0, 1 and x (bit 15 first). Where rows overlap, the first match wins.
/// </summary>
public static class Rv64gc
{
    /// <summary>The 32-bit instructions.</summary>
    public static IReadOnlyList<InstructionSpec> Instructions { get; }

    /// <summary>The 16-bit instructions, in matching order.</summary>
    public static IReadOnlyList<CompressedSpec> Compressed { get; }

    static Rv64gc()
    {
        var rows = BuildInstructions();
        Instructions = rows;
        Compressed = BuildCompressed(mnemonic => rows.First(r => r.Mnemonic == mnemonic && (r.Flags & SpecFlags.NotAssembled) == 0));
    }

    private static InstructionSpec Row(string mnemonic, string encoding, Opcode op, Operand[] operands, MemoryAccess memory = default, SpecFlags flags = SpecFlags.None)
    {
        var (mask, match) = ParseFields(encoding);
        return new InstructionSpec(mnemonic, mask, match, op, operands, memory, flags);
    }

    private static List<InstructionSpec> BuildInstructions()
    {
        var t = new List<InstructionSpec>();
        void Add(string mnemonic, string encoding, Opcode op, Operand[] operands, MemoryAccess memory = default, SpecFlags flags = SpecFlags.None) =>
            t.Add(Row(mnemonic, encoding, op, operands, memory, flags));

        // RV64I (ch. 2 and 4)
        Add("lui", "op=0x37", Opcode.Lui, [Rd, Upper20]);
        Add("auipc", "op=0x17", Opcode.Auipc, [Rd, Upper20]);
        Add("jal", "op=0x6F", Opcode.Jal, [Rd, JumpTarget]);
        Add("jalr", "op=0x67 f3=0", Opcode.Jalr, [Rd, LoadAddress]);
        string[] branches = ["beq", "bne", "", "", "blt", "bge", "bltu", "bgeu"];
        Opcode[] branchOps = [Opcode.Beq, Opcode.Bne, 0, 0, Opcode.Blt, Opcode.Bge, Opcode.Bltu, Opcode.Bgeu];
        for (int f3 = 0; f3 < 8; f3++)
            if (branches[f3] != "") Add(branches[f3], $"op=0x63 f3={f3}", branchOps[f3], [Rs1, Rs2, BranchTarget]);
        (string, Opcode, int)[] loads = [("lb", Opcode.Lb, 1), ("lh", Opcode.Lh, 2), ("lw", Opcode.Lw, 4), ("ld", Opcode.Ld, 8), ("lbu", Opcode.Lbu, 1), ("lhu", Opcode.Lhu, 2), ("lwu", Opcode.Lwu, 4)];
        for (int f3 = 0; f3 < loads.Length; f3++)
            Add(loads[f3].Item1, $"op=0x03 f3={f3}", loads[f3].Item2, [Rd, LoadAddress], MemoryAccess.Load(loads[f3].Item3));
        (string, Opcode)[] stores = [("sb", Opcode.Sb), ("sh", Opcode.Sh), ("sw", Opcode.Sw), ("sd", Opcode.Sd)];
        for (int f3 = 0; f3 < stores.Length; f3++)
            Add(stores[f3].Item1, $"op=0x23 f3={f3}", stores[f3].Item2, [Rs2, StoreAddress], MemoryAccess.Store(1 << f3));
        Add("addi", "op=0x13 f3=0", Opcode.Addi, [Rd, Rs1, Imm12]);
        Add("slti", "op=0x13 f3=2", Opcode.Slti, [Rd, Rs1, Imm12]);
        Add("sltiu", "op=0x13 f3=3", Opcode.Sltiu, [Rd, Rs1, Imm12]);
        Add("xori", "op=0x13 f3=4", Opcode.Xori, [Rd, Rs1, Imm12]);
        Add("ori", "op=0x13 f3=6", Opcode.Ori, [Rd, Rs1, Imm12]);
        Add("andi", "op=0x13 f3=7", Opcode.Andi, [Rd, Rs1, Imm12]);
        // RV64 shifts take a 6-bit shamt; the bits above it are 0 (or 010000 for SRAI) (spec 4.2.1).
        Add("slli", "op=0x13 f3=1 f6=0", Opcode.Slli, [Rd, Rs1, Shamt6]);
        Add("srli", "op=0x13 f3=5 f6=0", Opcode.Srli, [Rd, Rs1, Shamt6]);
        Add("srai", "op=0x13 f3=5 f6=0x10", Opcode.Srai, [Rd, Rs1, Shamt6]);
        (string, Opcode, int, int)[] alu =
        [
            ("add", Opcode.Add, 0, 0), ("sub", Opcode.Sub, 0, 0x20), ("sll", Opcode.Sll, 1, 0), ("slt", Opcode.Slt, 2, 0),
            ("sltu", Opcode.Sltu, 3, 0), ("xor", Opcode.Xor, 4, 0), ("srl", Opcode.Srl, 5, 0), ("sra", Opcode.Sra, 5, 0x20),
            ("or", Opcode.Or, 6, 0), ("and", Opcode.And, 7, 0),
            // M (ch. 7)
            ("mul", Opcode.Mul, 0, 1), ("mulh", Opcode.Mulh, 1, 1), ("mulhsu", Opcode.Mulhsu, 2, 1), ("mulhu", Opcode.Mulhu, 3, 1),
            ("div", Opcode.Div, 4, 1), ("divu", Opcode.Divu, 5, 1), ("rem", Opcode.Rem, 6, 1), ("remu", Opcode.Remu, 7, 1),
        ];
        foreach (var (name, op, f3, f7) in alu) Add(name, $"op=0x33 f3={f3} f7={f7}", op, [Rd, Rs1, Rs2]);
        Add("addiw", "op=0x1B f3=0", Opcode.Addiw, [Rd, Rs1, Imm12]);
        Add("slliw", "op=0x1B f3=1 f7=0", Opcode.Slliw, [Rd, Rs1, Shamt5]);
        Add("srliw", "op=0x1B f3=5 f7=0", Opcode.Srliw, [Rd, Rs1, Shamt5]);
        Add("sraiw", "op=0x1B f3=5 f7=0x20", Opcode.Sraiw, [Rd, Rs1, Shamt5]);
        (string, Opcode, int, int)[] alu32 =
        [
            ("addw", Opcode.Addw, 0, 0), ("subw", Opcode.Subw, 0, 0x20), ("sllw", Opcode.Sllw, 1, 0), ("srlw", Opcode.Srlw, 5, 0), ("sraw", Opcode.Sraw, 5, 0x20),
            ("mulw", Opcode.Mulw, 0, 1), ("divw", Opcode.Divw, 4, 1), ("divuw", Opcode.Divuw, 5, 1), ("remw", Opcode.Remw, 6, 1), ("remuw", Opcode.Remuw, 7, 1),
        ];
        foreach (var (name, op, f3, f7) in alu32) Add(name, $"op=0x3B f3={f3} f7={f7}", op, [Rd, Rs1, Rs2]);

        // MISC-MEM. FENCE's unused fields are reserved for future use and must be ignored (spec 2.7), and
        // FENCE.I ignores rd, rs1 and imm (Zifencei): the hart executes every such encoding, while
        // assemblers only produce the canonical ones, so only those have a disassembly.
        Add("fence.tso", "op=0x0F f3=0 rd=0 rs1=0 fm=8 f12=0x833", Opcode.Fence, []);
        Add("fence", "op=0x0F f3=0 rd=0 rs1=0 fm=0", Opcode.Fence, [FenceSets]);
        Add("fence", "op=0x0F f3=0", Opcode.Fence, [], flags: SpecFlags.NotAssembled);
        Add("fence.i", "op=0x0F f3=1 rd=0 rs1=0 f12=0", Opcode.FenceI, []);
        Add("fence.i", "op=0x0F f3=1", Opcode.FenceI, [], flags: SpecFlags.NotAssembled);

        // SYSTEM (privileged spec 3.3, 4.2.1)
        Add("ecall", "f12=0x000 rs1=0 f3=0 rd=0 op=0x73", Opcode.Ecall, []);
        Add("ebreak", "f12=0x001 rs1=0 f3=0 rd=0 op=0x73", Opcode.Ebreak, []);
        Add("sret", "f12=0x102 rs1=0 f3=0 rd=0 op=0x73", Opcode.Sret, []);
        Add("mret", "f12=0x302 rs1=0 f3=0 rd=0 op=0x73", Opcode.Mret, []);
        Add("wfi", "f12=0x105 rs1=0 f3=0 rd=0 op=0x73", Opcode.Wfi, []);
        Add("sfence.vma", "f7=0x09 f3=0 rd=0 op=0x73", Opcode.SfenceVma, [Rs1, Rs2]);
        // Named by disassemblers, not implemented here (illegal): DRET (debug spec 4.8), URET (the N
        // extension), HRET and SFENCE.VM (privileged spec 1.9.1).
        Add("dret", "f12=0x7B2 rs1=0 f3=0 rd=0 op=0x73", Opcode.Illegal, []);
        Add("uret", "f12=0x002 rs1=0 f3=0 rd=0 op=0x73", Opcode.Illegal, []);
        Add("hret", "f12=0x202 rs1=0 f3=0 rd=0 op=0x73", Opcode.Illegal, []);
        Add("sfence.vm", "f12=0x104 f3=0 rd=0 op=0x73", Opcode.Illegal, [Rs1]);

        // Zicsr (ch. 9)
        Add("csrrw", "op=0x73 f3=1", Opcode.Csrrw, [Rd, Csr, Rs1]);
        Add("csrrs", "op=0x73 f3=2", Opcode.Csrrs, [Rd, Csr, Rs1]);
        Add("csrrc", "op=0x73 f3=3", Opcode.Csrrc, [Rd, Csr, Rs1]);
        Add("csrrwi", "op=0x73 f3=5", Opcode.Csrrwi, [Rd, Csr, Zimm]);
        Add("csrrsi", "op=0x73 f3=6", Opcode.Csrrsi, [Rd, Csr, Zimm]);
        Add("csrrci", "op=0x73 f3=7", Opcode.Csrrci, [Rd, Csr, Zimm]);

        // A (ch. 8): funct5 selects the operation, aq/rl (bits 26:25) are free.
        (string, int, Opcode, Opcode)[] amos =
        [
            ("sc", 0x03, Opcode.ScW, Opcode.ScD), ("amoswap", 0x01, Opcode.AmoswapW, Opcode.AmoswapD),
            ("amoadd", 0x00, Opcode.AmoaddW, Opcode.AmoaddD), ("amoxor", 0x04, Opcode.AmoxorW, Opcode.AmoxorD),
            ("amoand", 0x0C, Opcode.AmoandW, Opcode.AmoandD), ("amoor", 0x08, Opcode.AmoorW, Opcode.AmoorD),
            ("amomin", 0x10, Opcode.AmominW, Opcode.AmominD), ("amomax", 0x14, Opcode.AmomaxW, Opcode.AmomaxD),
            ("amominu", 0x18, Opcode.AmominuW, Opcode.AmominuD), ("amomaxu", 0x1C, Opcode.AmomaxuW, Opcode.AmomaxuD),
        ];
        foreach (var (suffix, f3, size) in new[] { (".w", 2, 4), (".d", 3, 8) })
        {
            Add("lr" + suffix, $"op=0x2F f3={f3} f5=0x02 rs2=0", size == 4 ? Opcode.LrW : Opcode.LrD, [Rd, AtomicAddress, Ordering],
                new MemoryAccess(MemoryAccessKind.LoadReserved, (byte)size));
            foreach (var (name, f5, w, d) in amos)
                Add(name + suffix, $"op=0x2F f3={f3} f5={f5}", size == 4 ? w : d, [Rd, Rs2, AtomicAddress, Ordering],
                    new MemoryAccess(name == "sc" ? MemoryAccessKind.StoreConditional : MemoryAccessKind.ReadModifyWrite, (byte)size));
        }

        // F and D (ch. 11, 12): fmt 00 is single, 01 double; the double rows mirror the single ones.
        Add("flw", "op=0x07 f3=2", Opcode.Flw, [Fd, LoadAddress], MemoryAccess.Load(4));
        Add("fld", "op=0x07 f3=3", Opcode.Fld, [Fd, LoadAddress], MemoryAccess.Load(8));
        Add("fsw", "op=0x27 f3=2", Opcode.Fsw, [Fs2, StoreAddress], MemoryAccess.Store(4));
        Add("fsd", "op=0x27 f3=3", Opcode.Fsd, [Fs2, StoreAddress], MemoryAccess.Store(8));
        foreach (var (s, fmt, k) in new[] { (".s", 0, 0), (".d", 1, Opcode.FmaddD - Opcode.FmaddS) })
        {
            Opcode Op(Opcode single) => (Opcode)((int)single + k);
            Add("fmadd" + s, $"op=0x43 fmt={fmt}", Op(Opcode.FmaddS), [Fd, Fs1, Fs2, Fs3, RoundingMode]);
            Add("fmsub" + s, $"op=0x47 fmt={fmt}", Op(Opcode.FmsubS), [Fd, Fs1, Fs2, Fs3, RoundingMode]);
            Add("fnmsub" + s, $"op=0x4B fmt={fmt}", Op(Opcode.FnmsubS), [Fd, Fs1, Fs2, Fs3, RoundingMode]);
            Add("fnmadd" + s, $"op=0x4F fmt={fmt}", Op(Opcode.FnmaddS), [Fd, Fs1, Fs2, Fs3, RoundingMode]);
            Add("fadd" + s, $"op=0x53 f5=0x00 fmt={fmt}", Op(Opcode.FaddS), [Fd, Fs1, Fs2, RoundingMode]);
            Add("fsub" + s, $"op=0x53 f5=0x01 fmt={fmt}", Op(Opcode.FsubS), [Fd, Fs1, Fs2, RoundingMode]);
            Add("fmul" + s, $"op=0x53 f5=0x02 fmt={fmt}", Op(Opcode.FmulS), [Fd, Fs1, Fs2, RoundingMode]);
            Add("fdiv" + s, $"op=0x53 f5=0x03 fmt={fmt}", Op(Opcode.FdivS), [Fd, Fs1, Fs2, RoundingMode]);
            Add("fsqrt" + s, $"op=0x53 f5=0x0B fmt={fmt} rs2=0", Op(Opcode.FsqrtS), [Fd, Fs1, RoundingMode]);
            Add("fsgnj" + s, $"op=0x53 f5=0x04 fmt={fmt} f3=0", Op(Opcode.FsgnjS), [Fd, Fs1, Fs2]);
            Add("fsgnjn" + s, $"op=0x53 f5=0x04 fmt={fmt} f3=1", Op(Opcode.FsgnjnS), [Fd, Fs1, Fs2]);
            Add("fsgnjx" + s, $"op=0x53 f5=0x04 fmt={fmt} f3=2", Op(Opcode.FsgnjxS), [Fd, Fs1, Fs2]);
            Add("fmin" + s, $"op=0x53 f5=0x05 fmt={fmt} f3=0", Op(Opcode.FminS), [Fd, Fs1, Fs2]);
            Add("fmax" + s, $"op=0x53 f5=0x05 fmt={fmt} f3=1", Op(Opcode.FmaxS), [Fd, Fs1, Fs2]);
            Add("feq" + s, $"op=0x53 f5=0x14 fmt={fmt} f3=2", Op(Opcode.FeqS), [Rd, Fs1, Fs2]);
            Add("flt" + s, $"op=0x53 f5=0x14 fmt={fmt} f3=1", Op(Opcode.FltS), [Rd, Fs1, Fs2]);
            Add("fle" + s, $"op=0x53 f5=0x14 fmt={fmt} f3=0", Op(Opcode.FleS), [Rd, Fs1, Fs2]);
            Add("fclass" + s, $"op=0x53 f5=0x1C fmt={fmt} rs2=0 f3=1", Op(Opcode.FclassS), [Rd, Fs1]);
            string[] ints = [".w", ".wu", ".l", ".lu"];
            for (int type = 0; type < 4; type++)
            {
                Add("fcvt" + ints[type] + s, $"op=0x53 f5=0x18 fmt={fmt} rs2={type}", Op((Opcode)((int)Opcode.FcvtWS + type)), [Rd, Fs1, RoundingMode]);
                // An int32 converts to double exactly.
                Add("fcvt" + s + ints[type], $"op=0x53 f5=0x1A fmt={fmt} rs2={type}", Op((Opcode)((int)Opcode.FcvtSW + type)), [Fd, Rs1, RoundingMode],
                    flags: fmt == 1 && type < 2 ? SpecFlags.ExactResult : SpecFlags.None);
            }
            Add(fmt == 0 ? "fmv.x.w" : "fmv.x.d", $"op=0x53 f5=0x1C fmt={fmt} rs2=0 f3=0", Op(Opcode.FmvXW), [Rd, Fs1]);
            Add(fmt == 0 ? "fmv.w.x" : "fmv.d.x", $"op=0x53 f5=0x1E fmt={fmt} rs2=0 f3=0", Op(Opcode.FmvWX), [Fd, Rs1]);
        }
        Add("fcvt.s.d", "op=0x53 f5=0x08 fmt=0 rs2=1", Opcode.FcvtSD, [Fd, Fs1, RoundingMode]);
        Add("fcvt.d.s", "op=0x53 f5=0x08 fmt=1 rs2=0", Opcode.FcvtDS, [Fd, Fs1, RoundingMode], flags: SpecFlags.ExactResult);
        return t;
    }

    private static List<CompressedSpec> BuildCompressed(Func<string, InstructionSpec> spec)
    {
        var t = new List<CompressedSpec>();
        const CompressedRegister none = CompressedRegister.None, zero = CompressedRegister.Zero, ra = CompressedRegister.Ra, sp = CompressedRegister.Sp,
            r7 = CompressedRegister.Bits11To7, r2 = CompressedRegister.Bits6To2, p7 = CompressedRegister.Prime9To7, p2 = CompressedRegister.Prime4To2;
        void Add(string name, string bits, string? @base, CompressedRegister rd, CompressedRegister rs1, CompressedRegister rs2,
            CompressedImmediate immediate, string? text = null)
        {
            var (mask, match) = ParseBits(bits);
            t.Add(new CompressedSpec(name, (ushort)mask, (ushort)match, @base is null ? null : spec(@base), rd, rs1, rs2, immediate, text));
        }
        void Reserved(string name, string bits, string? text = null) =>
            Add(name, bits, null, none, none, none, CompressedImmediate.None, text);
        const CompressedImmediate noImm = CompressedImmediate.None, imm6 = CompressedImmediate.Signed6, shamt = CompressedImmediate.Shamt6;

        // Quadrant 0
        Reserved("c.unimp", "0000000000000000", "unimp"); // the all-zero parcel is defined illegal (spec 16.1)
        Reserved("c.addi4spn", "00000000000xxx00"); // nzuimm = 0
        Add("c.addi4spn", "000xxxxxxxxxxx00", "addi", p2, sp, none, CompressedImmediate.Addi4spn);
        Add("c.fld", "001xxxxxxxxxxx00", "fld", p2, p7, none, CompressedImmediate.DoubleOffset);
        Add("c.lw", "010xxxxxxxxxxx00", "lw", p2, p7, none, CompressedImmediate.WordOffset);
        Add("c.ld", "011xxxxxxxxxxx00", "ld", p2, p7, none, CompressedImmediate.DoubleOffset);
        Add("c.fsd", "101xxxxxxxxxxx00", "fsd", none, p7, p2, CompressedImmediate.DoubleOffset);
        Add("c.sw", "110xxxxxxxxxxx00", "sw", none, p7, p2, CompressedImmediate.WordOffset);
        Add("c.sd", "111xxxxxxxxxxx00", "sd", none, p7, p2, CompressedImmediate.DoubleOffset);

        // Quadrant 1
        Add("c.nop", "0000000000000001", "addi", r7, r7, none, imm6);
        Add("c.nop", "000x00000xxxxx01", "addi", r7, r7, none, imm6, "c.nop {imm}"); // HINT
        Add("c.addi", "000xxxxxxxxxxx01", "addi", r7, r7, none, imm6, "add {rd},{rs1},{imm}");
        Reserved("c.addiw", "001x00000xxxxx01");
        Add("c.addiw", "001xxxxxxxxxxx01", "addiw", r7, r7, none, imm6);
        Add("c.li", "010x00000xxxxx01", "addi", r7, zero, none, imm6, "c.li zero,{imm}"); // HINT
        Add("c.li", "010xxxxxxxxxxx01", "addi", r7, zero, none, imm6);
        Reserved("c.addi16sp", "0110000100000001", "add sp,sp,0"); // nzimm = 0: objdump still names it
        Add("c.addi16sp", "011x00010xxxxx01", "addi", sp, sp, none, CompressedImmediate.Addi16sp, "add sp,sp,{imm}");
        Reserved("c.lui", "0110xxxxx0000001"); // nzimm = 0
        Add("c.lui", "011x00000xxxxx01", "lui", r7, none, none, CompressedImmediate.Lui, "c.lui zero,{hex20}"); // HINT
        Add("c.lui", "011xxxxxxxxxxx01", "lui", r7, none, none, CompressedImmediate.Lui);
        Add("c.srli", "100000xxx0000001", "srli", p7, p7, none, shamt, "c.srli64 {rd}"); // HINT
        Add("c.srli", "100x00xxxxxxxx01", "srli", p7, p7, none, shamt);
        Add("c.srai", "100001xxx0000001", "srai", p7, p7, none, shamt, "c.srai64 {rd}"); // HINT
        Add("c.srai", "100x01xxxxxxxx01", "srai", p7, p7, none, shamt);
        Add("c.andi", "100x10xxxxxxxx01", "andi", p7, p7, none, imm6);
        Add("c.sub", "100011xxx00xxx01", "sub", p7, p7, p2, noImm);
        Add("c.xor", "100011xxx01xxx01", "xor", p7, p7, p2, noImm);
        Add("c.or", "100011xxx10xxx01", "or", p7, p7, p2, noImm);
        Add("c.and", "100011xxx11xxx01", "and", p7, p7, p2, noImm);
        Add("c.subw", "100111xxx00xxx01", "subw", p7, p7, p2, noImm);
        Add("c.addw", "100111xxx01xxx01", "addw", p7, p7, p2, noImm);
        Add("c.j", "101xxxxxxxxxxx01", "jal", zero, none, none, CompressedImmediate.Jump);
        Add("c.beqz", "110xxxxxxxxxxx01", "beq", none, p7, zero, CompressedImmediate.Branch);
        Add("c.bnez", "111xxxxxxxxxxx01", "bne", none, p7, zero, CompressedImmediate.Branch);

        // Quadrant 2
        Add("c.slli", "0000xxxxx0000010", "slli", r7, r7, none, shamt, "c.slli64 {rd}"); // HINT
        Add("c.slli", "000x00000xxxxx10", "slli", r7, r7, none, shamt, "c.slli zero,{shamt}"); // HINT
        Add("c.slli", "000xxxxxxxxxxx10", "slli", r7, r7, none, shamt);
        Add("c.fldsp", "001xxxxxxxxxxx10", "fld", r7, sp, none, CompressedImmediate.DoubleSpLoad);
        Reserved("c.lwsp", "010x00000xxxxx10");
        Add("c.lwsp", "010xxxxxxxxxxx10", "lw", r7, sp, none, CompressedImmediate.WordSpLoad);
        Reserved("c.ldsp", "011x00000xxxxx10");
        Add("c.ldsp", "011xxxxxxxxxxx10", "ld", r7, sp, none, CompressedImmediate.DoubleSpLoad);
        Reserved("c.jr", "1000000000000010");
        Add("c.jr", "1000xxxxx0000010", "jalr", zero, r7, none, noImm);
        Add("c.mv", "100000000xxxxx10", "add", r7, zero, r2, noImm, "c.mv zero,{rs2}"); // HINT
        Add("c.mv", "1000xxxxxxxxxx10", "add", r7, zero, r2, noImm, "mv {rd},{rs2}");
        Add("c.ebreak", "1001000000000010", "ebreak", none, none, none, noImm);
        Add("c.jalr", "1001xxxxx0000010", "jalr", ra, r7, none, noImm);
        Add("c.add", "100100000xxxxx10", "add", r7, r7, r2, noImm, "c.add zero,{rs2}"); // HINT
        Add("c.add", "1001xxxxxxxxxx10", "add", r7, r7, r2, noImm);
        Add("c.fsdsp", "101xxxxxxxxxxx10", "fsd", none, sp, r2, CompressedImmediate.DoubleSpStore);
        Add("c.swsp", "110xxxxxxxxxxx10", "sw", none, sp, r2, CompressedImmediate.WordSpStore);
        Add("c.sdsp", "111xxxxxxxxxxx10", "sd", none, sp, r2, CompressedImmediate.DoubleSpStore);
        return t;
    }

    /// <summary>Fields as "name=value" separated by spaces (see the class summary) to a mask and match.</summary>
    internal static (uint Mask, uint Match) ParseFields(string encoding)
    {
        uint mask = 0, match = 0;
        foreach (string field in encoding.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = field.IndexOf('=');
            string name = field[..eq];
            string text = field[(eq + 1)..];
            uint value = text.StartsWith("0x", StringComparison.Ordinal) ? Convert.ToUInt32(text[2..], 16) : uint.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
            var (hi, lo) = name switch
            {
                "op" => (6, 0), "rd" => (11, 7), "f3" => (14, 12), "rs1" => (19, 15), "rs2" => (24, 20),
                "f7" => (31, 25), "f6" => (31, 26), "f5" => (31, 27), "fmt" => (26, 25), "fm" => (31, 28), "f12" => (31, 20),
                _ => throw new ArgumentException($"unknown field '{name}' in '{encoding}'"),
            };
            uint fieldMask = (uint)(((1UL << (hi - lo + 1)) - 1) << lo);
            if ((((ulong)value << lo) & ~(ulong)fieldMask) != 0) throw new ArgumentException($"value {value} does not fit {name} in '{encoding}'");
            if (((match ^ (value << lo)) & mask & fieldMask) != 0)
                throw new ArgumentException($"field {name} contradicts an earlier one in '{encoding}'");
            mask |= fieldMask;
            match = (match & ~fieldMask) | (value << lo);
        }
        return (mask, match);
    }

    /// <summary>A pattern of 0, 1 and x, most significant bit first, to a mask and match.</summary>
    internal static (uint Mask, uint Match) ParseBits(string bits)
    {
        uint mask = 0, match = 0;
        foreach (char c in bits)
        {
            mask <<= 1;
            match <<= 1;
            switch (c)
            {
                case '0': mask |= 1; break;
                case '1': mask |= 1; match |= 1; break;
                case 'x': break;
                default: throw new ArgumentException($"bad character '{c}' in pattern '{bits}'");
            }
        }
        return (mask, match);
    }
}
