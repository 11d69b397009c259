using System.Reflection;
using System.Reflection.Emit;
using ReplayVm.Core.Hart;
using ReplayVm.Core.Memory;
using HartType = ReplayVm.Core.Hart.Hart;

namespace ReplayVm.Core.Translation;

/// <summary>
/// Compiles a <see cref="RegionPlan"/> to one <see cref="DynamicMethod"/> that the .NET JIT turns
/// into machine code.
///
/// Shape of the generated method: the guest registers the region uses are loaded into IL locals on
/// entry (the JIT keeps them in host registers) and the ones it writes are stored back on the one
/// path every exit takes. Each basic block starts with the step budget check — the block runs only if all its
/// instructions complete before the slice's end, so slices (timer deadlines, input events, hash
/// points, instruction limits) end at exactly the step they end at in the interpreter; otherwise
/// the region returns and the interpreter steps to the deadline. Branches to blocks of the region
/// are IL branches (loops run without leaving the method); other transfers set pc and return the
/// region to run next when they know it (block chaining: an exit to a fixed pc through its
/// <see cref="ExitLink"/>, an indirect jump through the hart's jump cache), else null for the
/// dispatcher to look pc up. Loads and stores inline the TLB and RAM hit path (a store also stamps
/// its page's write epoch); anything else (a TLB miss, MMIO, a fault, a watched page, a store into
/// a page holding decoded code, a page crossing) leaves the region before the instruction, with pc
/// and steps as the interpreter has them there, and the interpreter runs it (see
/// <see cref="EmitLoad"/>). A, F/D and CSR instructions call the interpreter's executors, each
/// through one helper (Hart.RegionHelpers.cs) that sets pc and steps as the interpreter has them,
/// and tells the region to go on, or to leave because the instruction trapped (steps count the
/// trap, pc is the trap vector) or ended the slice with the rest of its block not fitting (a CSR
/// write), as the interpreter stops after it.
/// </summary>
internal sealed unsafe class RegionCompiler
{
    private static readonly FieldInfo PcField = Field(nameof(HartType.Pc));
    private static readonly FieldInfo StepsField = Field(nameof(HartType.Steps));
    private static readonly FieldInfo SliceEndField = Field("SliceEnd");
    private static readonly MethodInfo RegionExit = Method("RegionExit");
    private static readonly FieldInfo EpochField = Field("_translationEpoch");
    private static readonly FieldInfo LinkTargetField = typeof(ExitLink).GetField(nameof(ExitLink.Target))!;
    private static readonly FieldInfo RegionEpochField = typeof(TranslatedRegion).GetField(nameof(TranslatedRegion.Epoch))!;
    private static readonly FieldInfo TlbReadTag = typeof(TlbEntry).GetField(nameof(TlbEntry.ReadTag))!;
    private static readonly FieldInfo TlbWriteTag = typeof(TlbEntry).GetField(nameof(TlbEntry.WriteTag))!;
    private static readonly FieldInfo TlbPhysicalPage = typeof(TlbEntry).GetField(nameof(TlbEntry.PhysicalPage))!;
    private static readonly FieldInfo RamField = Field("_ram");
    private static readonly FieldInfo RegistersPointerField = Field("_xp");
    private static readonly FieldInfo RamPointerField = Field("_ramPointer");
    private static readonly FieldInfo PageEpochsPointerField = Field("_pageEpochs");
    private static readonly FieldInfo TlbPointerField = Field("_tlbPointer");
    private static readonly FieldInfo DecodedChunksField = Field("_decodedChunks");
    private static readonly MethodInfo RamEpoch = typeof(MainMemory).GetProperty(nameof(MainMemory.Epoch))!.GetMethod!;
    /// <summary>The field behind <see cref="MainMemory.Epoch"/>, which stores read directly: the JIT
    /// inlines the getter, but an inlinee costs it more than a field load (3–5% of the JIT time of
    /// bench.elf's and Linux's regions). Null if the property ever gets a body: the getter is called then.</summary>
    private static readonly FieldInfo? RamEpochField = typeof(MainMemory).GetField($"<{nameof(MainMemory.Epoch)}>k__BackingField", BindingFlags.Instance | BindingFlags.NonPublic);
    private static readonly MethodInfo ExecuteFloat = Method("RegionFloat");
    private static readonly MethodInfo ExecuteAtomic = Method("RegionAtomic");
    private static readonly MethodInfo ExecuteCsr = Method("RegionCsr");
    private static readonly MethodInfo MulHigh = typeof(MulDiv).GetMethod(nameof(MulDiv.MulHighSigned))!;
    private static readonly MethodInfo MulHighSu = typeof(MulDiv).GetMethod(nameof(MulDiv.MulHighSignedUnsigned))!;
    private static readonly MethodInfo MulHighU = typeof(RegionCompiler).GetMethod(nameof(MulHighUnsigned), BindingFlags.Static | BindingFlags.NonPublic)!;

    private static FieldInfo Field(string name) =>
        typeof(HartType).GetField(name, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
        ?? throw new MissingFieldException(nameof(HartType), name);

    private static MethodInfo Method(string name) =>
        typeof(HartType).GetMethod(name, BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new MissingMethodException(nameof(HartType), name);

    private static ulong MulHighUnsigned(ulong a, ulong b) => Math.BigMul(a, b, out _);

    private readonly RegionPlan _plan;
    private readonly RegionSpecialization _specialization;
    private readonly DynamicMethod _method;
    private readonly IlWriter _il;
    private readonly IlLocal?[] _registers = new IlLocal?[32];
    private readonly List<int> _written = [];
    private readonly IlLocal _steps, _exitPc, _exitIndex, _address, _physical, _entry, _status, _registerFile;
    /// <summary>Leaves towards <c>_exitPc</c> after <c>_steps</c>, through link <c>_exitIndex</c> (or <see cref="NoLink"/>, <see cref="JumpLink"/>).</summary>
    private readonly IlLabel _exit;
    /// <summary>Leaves with pc and steps as a helper set them (a trap, or the slice ended in it).</summary>
    private readonly IlLabel _leave;
    private const int NoLink = HartType.RegionUnlinkedExit, JumpLink = HartType.RegionJumpExit;
    /// <summary>The region's exits to fixed pcs, one link each (the delegate's closure target holds them).</summary>
    // Plain arrays searched linearly (a region has at most RegionPlan.MaxInstructions blocks and exits)
    // rather than dictionaries: each dictionary over a value type is one more generic instantiation for
    // the JIT to compile before the first region can run.
    private readonly ulong[] _linkPcs = new ulong[2 * RegionPlan.MaxInstructions];
    private int _linkCount;
    private readonly IlLabel[] _blockLabels;
    /// <summary>Cold code (slow paths, exits) emitted after the hot body, so the hot path falls through.</summary>
    private readonly List<Action> _cold = [];
    private readonly List<DecodedInstruction> _helperInstructions = [];
    private IlLocal? _helperBase;
    /// <summary>A store's decode chunk (see <see cref="EmitHoldsCodeCheck"/>), declared by the first store.</summary>
    private IlLocal? _chunk;

    private RegionCompiler(RegionPlan plan, RegionSpecialization specialization)
    {
        _plan = plan;
        _specialization = specialization;
        _blockLabels = new IlLabel[plan.Blocks.Count];
        // The first parameter is the region's exit links, which the delegate is closed over: invoking a
        // delegate closed over its first argument is a plain call, where an open static one goes through
        // a shuffle thunk.
        _method = new DynamicMethod($"rv64_{plan.Entry:x}", typeof(TranslatedRegion), [typeof(ExitLink[]), typeof(HartType)], typeof(HartType).Module, skipVisibility: true);
        _il = new IlWriter(_method);
        _steps = _il.DeclareLocal(typeof(ulong));
        _exitPc = _il.DeclareLocal(typeof(ulong));
        _exitIndex = _il.DeclareLocal(typeof(int));
        _address = _il.DeclareLocal(typeof(ulong));
        _physical = _il.DeclareLocal(typeof(ulong));
        _entry = _il.DeclareLocal(typeof(nint));
        _status = _il.DeclareLocal(typeof(int));
        _registerFile = _il.DeclareLocal(typeof(nint));
        _exit = _il.DefineLabel();
        _leave = _il.DefineLabel();
    }

    /// <summary>Compiles <paramref name="plan"/> for harts whose machines have <paramref name="specialization"/>'s
    /// RAM placement and data-access mode, and has the JIT compile it at once (the first call, with no hart).</summary>
    public static CompiledRegion Compile(RegionPlan plan, RegionSpecialization specialization)
    {
        var compiler = new RegionCompiler(plan, specialization);
        var compiled = compiler.Emit();
        compiled.Instantiate()(null!); // the warm-up call: the JIT compiles the method now, on this thread
        return compiled;
    }

    private CompiledRegion Emit()
    {
        CollectRegisters();
        for (int b = 0; b < _blockLabels.Length; b++) _blockLabels[b] = _il.DefineLabel();
        // The helper slots' address is only known once they are allocated, after the body: the
        // body loads it from a local that the prologue sets (patched below through a constant).
        foreach (var block in _plan.Blocks)
            foreach (var g in block)
                if (UsesHelperSlot(g.Decoded.Op)) _helperInstructions.Add(g.Decoded);
        DecodedInstruction[]? helperSlots = null;
        nint helperAddress = 0;
        if (_helperInstructions.Count > 0)
        {
            helperSlots = PinnedSlots.Allocate(_helperInstructions, out helperAddress);
            _helperBase = _il.DeclareLocal(typeof(nint));
        }

        // A null hart is the background compiler's warm-up call (see BackgroundCompiler): it makes
        // the JIT compile the method there, and returns before touching anything.
        var run = _il.DefineLabel();
        _il.Emit(OpCodes.Ldarg_1);
        _il.Emit(OpCodes.Brtrue, run);
        _il.Emit(OpCodes.Ldnull);
        _il.Emit(OpCodes.Ret);
        _il.MarkLabel(run);

        // Prologue: steps and the registers into locals.
        _il.Emit(OpCodes.Ldarg_1);
        _il.Emit(OpCodes.Ldfld, StepsField);
        _il.Emit(OpCodes.Stloc, _steps);
        if (_helperBase is not null)
        {
            _il.Emit(OpCodes.Ldc_I8, (long)helperAddress);
            _il.Emit(OpCodes.Conv_I);
            _il.Emit(OpCodes.Stloc, _helperBase);
        }
        bool anyRegister = false;
        for (int r = 1; r < 32; r++)
        {
            if (_registers[r] is not { } local) continue;
            if (!anyRegister) LoadRegistersPointer();
            anyRegister = true;
            LoadRegisterAddress(r);
            _il.Emit(OpCodes.Ldind_I8);
            _il.Emit(OpCodes.Stloc, local);
        }

        int helperIndex = 0;
        foreach (var block in _plan.Blocks) EmitBlock(block, ref helperIndex);
        for (int c = 0; c < _cold.Count; c++) _cold[c](); // cold code may add more cold code

        // The one exit path: registers back, then pc and steps (unless a helper set them for a trap
        // or a slice's end), and the region to run next when the exit knows it. One path rather than
        // a write-back per kind of exit, and only the chained case inline (an exit link whose region
        // is valid: a loop spanning regions takes it every iteration); the rest is one call. The
        // JIT's time grows with the code it is given.
        _il.MarkLabel(_leave);
        _il.Emit(OpCodes.Ldc_I4, HartType.RegionLeaveExit);
        _il.Emit(OpCodes.Stloc, _exitIndex);
        _il.MarkLabel(_exit);
        WriteBackRegisters();
        if (_linkCount > 0)
        {
            var unchained = _il.DefineLabel();
            var next = _il.DeclareLocal(typeof(object)); // a TranslatedRegion
            _il.Emit(OpCodes.Ldloc, _exitIndex);
            _il.Emit(OpCodes.Ldc_I4_0);
            _il.Emit(OpCodes.Blt, unchained);
            _il.Emit(OpCodes.Ldarg_0);
            _il.Emit(OpCodes.Ldloc, _exitIndex);
            _il.Emit(OpCodes.Ldelem_Ref);
            _il.Emit(OpCodes.Ldfld, LinkTargetField);
            _il.Emit(OpCodes.Stloc, next);
            _il.Emit(OpCodes.Ldloc, next);
            _il.Emit(OpCodes.Brfalse, unchained);
            _il.Emit(OpCodes.Ldloc, next);
            _il.Emit(OpCodes.Ldfld, RegionEpochField);
            _il.Emit(OpCodes.Ldarg_1);
            _il.Emit(OpCodes.Ldfld, EpochField);
            _il.Emit(OpCodes.Bne_Un, unchained);
            _il.Emit(OpCodes.Ldarg_1);
            _il.Emit(OpCodes.Ldloc, _exitPc);
            _il.Emit(OpCodes.Stfld, PcField);
            _il.Emit(OpCodes.Ldarg_1);
            _il.Emit(OpCodes.Ldloc, _steps);
            _il.Emit(OpCodes.Stfld, StepsField);
            _il.Emit(OpCodes.Ldloc, next);
            _il.Emit(OpCodes.Ret);
            _il.MarkLabel(unchained);
        }
        _il.Emit(OpCodes.Ldarg_1);
        _il.Emit(OpCodes.Ldarg_0);
        _il.Emit(OpCodes.Ldloc, _exitIndex);
        _il.Emit(OpCodes.Ldloc, _exitPc);
        _il.Emit(OpCodes.Ldloc, _steps);
        _il.Emit(OpCodes.Call, RegionExit);
        _il.Emit(OpCodes.Ret);
        _il.Finish();
        return new CompiledRegion(_method, _linkPcs.AsSpan(0, _linkCount).ToArray(), helperSlots, _plan.InstructionCount, _plan.EntryIsBreakpoint);
    }

    private static bool UsesHelperSlot(Opcode op) => op >= Opcode.LrW || IsCsr(op);

    private static bool IsCsr(Opcode op) => op is >= Opcode.Csrrw and <= Opcode.Csrrci;

    private void CollectRegisters()
    {
        void Use(int r)
        {
            if (r is > 0 and < 32 && _registers[r] is null) _registers[r] = _il.DeclareLocal(typeof(ulong));
        }
        var written = new bool[32];
        foreach (var block in _plan.Blocks)
        {
            foreach (var g in block)
            {
                var d = g.Decoded;
                Use(d.Rs1);
                Use(d.Rs2);
                Use(d.Rd);
                if (d.Rd is > 0 and < 32) written[d.Rd] = true;
            }
        }
        for (int r = 1; r < 32; r++) if (written[r]) _written.Add(r);
    }

    /// <summary>
    /// One of the running hart's pinned memory addresses (its register file, RAM, TLB, RAM page write
    /// epochs), loaded from the hart where it is used: the code bakes in no hart's addresses, so one
    /// compiled method serves every hart running the same guest code (see <see cref="TranslationCache"/>).
    /// Loaded at each use rather than kept in locals or passed as arguments: either would hold host
    /// registers through the region that the guest's registers need (measured: the guest's registers
    /// went to the stack, and U-Boot's idle loop ran 8% slower); a load from the hart is an L1 hit
    /// whose latency hides behind the address arithmetic it feeds.
    /// </summary>
    private void HartPointer(FieldInfo field)
    {
        _il.Emit(OpCodes.Ldarg_1);
        _il.Emit(OpCodes.Ldfld, field);
    }

    /// <summary>The register file's address into <c>_registerFile</c>, for the loads or stores of
    /// registers that follow (the prologue, a write-back): one field load instead of one per
    /// register, and a local that is not live across the body.</summary>
    private void LoadRegistersPointer()
    {
        HartPointer(RegistersPointerField);
        _il.Emit(OpCodes.Stloc, _registerFile);
    }

    /// <summary>Register <paramref name="r"/>'s address in the register file (after <see cref="LoadRegistersPointer"/>).</summary>
    private void LoadRegisterAddress(int r)
    {
        _il.Emit(OpCodes.Ldloc, _registerFile);
        _il.Emit(OpCodes.Ldc_I4, r * sizeof(ulong));
        _il.Emit(OpCodes.Add);
    }

    private void WriteBackRegisters()
    {
        if (_written.Count > 0) LoadRegistersPointer();
        foreach (int r in _written)
        {
            LoadRegisterAddress(r);
            _il.Emit(OpCodes.Ldloc, _registers[r]!);
            _il.Emit(OpCodes.Stind_I8);
        }
    }

    private void LoadX(int r)
    {
        if (r == 0) _il.Emit(OpCodes.Ldc_I8, 0L);
        else _il.Emit(OpCodes.Ldloc, _registers[r]!);
    }

    /// <summary>Stores the value on the stack into rd (dropped for x0).</summary>
    private void StoreX(int rd)
    {
        if (rd is > 0 and < 32) _il.Emit(OpCodes.Stloc, _registers[rd]!);
        else _il.Emit(OpCodes.Pop);
    }

    private void Const(ulong value) => _il.Emit(OpCodes.Ldc_I8, (long)value);

    /// <summary>steps += n (n may be 0).</summary>
    private void AdvanceSteps(int n)
    {
        if (n == 0) return;
        _il.Emit(OpCodes.Ldloc, _steps);
        Const((ulong)n);
        _il.Emit(OpCodes.Add);
        _il.Emit(OpCodes.Stloc, _steps);
    }

    private IlLabel BlockLabel(ulong pc)
    {
        for (int b = 0; ; b++)
            if (_plan.Blocks[b][0].Pc == pc) return _blockLabels[b];
    }

    /// <summary>A label that transfers control to <paramref name="pc"/>: the block there, or an exit through its link.</summary>
    private IlLabel TransferTo(ulong pc)
    {
        if (_plan.HasBlockAt(pc)) return BlockLabel(pc);
        int index = Array.IndexOf(_linkPcs, pc, 0, _linkCount);
        if (index < 0)
        {
            index = _linkCount++;
            _linkPcs[index] = pc;
        }
        var stub = _il.DefineLabel();
        _cold.Add(() =>
        {
            _il.MarkLabel(stub);
            Const(pc);
            _il.Emit(OpCodes.Stloc, _exitPc);
            _il.Emit(OpCodes.Ldc_I4, index);
            _il.Emit(OpCodes.Stloc, _exitIndex);
            _il.Emit(OpCodes.Br, _exit);
        });
        return stub;
    }

    /// <summary>A cold label that leaves the region at <paramref name="pc"/> after <paramref name="done"/> further steps.</summary>
    private IlLabel ExitAfter(ulong pc, int done)
    {
        var stub = _il.DefineLabel();
        _cold.Add(() =>
        {
            _il.MarkLabel(stub);
            AdvanceSteps(done);
            Const(pc);
            _il.Emit(OpCodes.Stloc, _exitPc);
            _il.Emit(OpCodes.Ldc_I4, NoLink);
            _il.Emit(OpCodes.Stloc, _exitIndex);
            _il.Emit(OpCodes.Br, _exit);
        });
        return stub;
    }

    private void EmitBlock(GuestInstruction[] block, ref int helperIndex)
    {
        int n = block.Length;
        _il.MarkLabel(BlockLabel(block[0].Pc));
        // Budget: the whole block must complete before the slice's end (steps + n <= SliceEnd). The
        // field is read each time: a helper that ends the slice lowers it.
        _il.Emit(OpCodes.Ldloc, _steps);
        Const((ulong)n);
        _il.Emit(OpCodes.Add);
        _il.Emit(OpCodes.Ldarg_1);
        _il.Emit(OpCodes.Ldfld, SliceEndField);
        _il.Emit(OpCodes.Bgt_Un, ExitAfter(block[0].Pc, 0));

        for (int i = 0; i < n; i++)
        {
            var g = block[i];
            var d = g.Decoded;
            bool last = i == n - 1;
            if (last && (RegionPlan.IsConditionalBranch(d.Op) || d.Op is Opcode.Jal or Opcode.Jalr))
            {
                EmitTransfer(g, n);
                return;
            }
            EmitInstruction(g, i, n, ref helperIndex);
        }
        // Straight on into the next block, or out of the region.
        var end = block[n - 1];
        AdvanceSteps(n);
        _il.Emit(OpCodes.Br, TransferTo(end.Pc + end.Decoded.Length));
    }

    private void EmitTransfer(GuestInstruction g, int n)
    {
        var d = g.Decoded;
        ulong next = g.Pc + d.Length;
        switch (d.Op)
        {
            case Opcode.Jal:
                Const(next);
                StoreX(d.Rd);
                AdvanceSteps(n);
                _il.Emit(OpCodes.Br, TransferTo(g.Pc + (ulong)d.Imm));
                return;
            case Opcode.Jalr:
                // The target first: rd may be rs1.
                LoadX(d.Rs1);
                Const((ulong)d.Imm);
                _il.Emit(OpCodes.Add);
                Const(~1UL);
                _il.Emit(OpCodes.And);
                _il.Emit(OpCodes.Stloc, _exitPc);
                _il.Emit(OpCodes.Ldc_I4, JumpLink);
                _il.Emit(OpCodes.Stloc, _exitIndex);
                Const(next);
                StoreX(d.Rd);
                AdvanceSteps(n);
                _il.Emit(OpCodes.Br, _exit);
                return;
        }
        AdvanceSteps(n);
        LoadX(d.Rs1);
        LoadX(d.Rs2);
        var taken = TransferTo(g.Pc + (ulong)d.Imm);
        _il.Emit(d.Op switch
        {
            Opcode.Beq => OpCodes.Beq,
            Opcode.Bne => OpCodes.Bne_Un,
            Opcode.Blt => OpCodes.Blt,
            Opcode.Bge => OpCodes.Bge,
            Opcode.Bltu => OpCodes.Blt_Un,
            _ => OpCodes.Bge_Un,
        }, taken);
        _il.Emit(OpCodes.Br, TransferTo(next));
    }

    private void EmitInstruction(GuestInstruction g, int i, int n, ref int helperIndex)
    {
        var d = g.Decoded;
        int rd = d.Rd;
        switch (d.Op)
        {
            case Opcode.Lui: if (Writes(rd)) { Const((ulong)d.Imm); StoreX(rd); } return;
            case Opcode.Auipc: if (Writes(rd)) { Const(g.Pc + (ulong)d.Imm); StoreX(rd); } return;
            case Opcode.Fence: return;

            case Opcode.Addi: Immediate(d, OpCodes.Add); return;
            case Opcode.Xori: Immediate(d, OpCodes.Xor); return;
            case Opcode.Ori: Immediate(d, OpCodes.Or); return;
            case Opcode.Andi: Immediate(d, OpCodes.And); return;
            case Opcode.Slti: Compare(d, immediate: true, OpCodes.Clt); return;
            case Opcode.Sltiu: Compare(d, immediate: true, OpCodes.Clt_Un); return;
            case Opcode.Slli: ShiftImmediate(d, OpCodes.Shl); return;
            case Opcode.Srli: ShiftImmediate(d, OpCodes.Shr_Un); return;
            case Opcode.Srai: ShiftImmediate(d, OpCodes.Shr); return;
            case Opcode.Add: Binary(d, OpCodes.Add); return;
            case Opcode.Sub: Binary(d, OpCodes.Sub); return;
            case Opcode.Xor: Binary(d, OpCodes.Xor); return;
            case Opcode.Or: Binary(d, OpCodes.Or); return;
            case Opcode.And: Binary(d, OpCodes.And); return;
            case Opcode.Mul: Binary(d, OpCodes.Mul); return;
            case Opcode.Slt: Compare(d, immediate: false, OpCodes.Clt); return;
            case Opcode.Sltu: Compare(d, immediate: false, OpCodes.Clt_Un); return;
            case Opcode.Sll: ShiftRegister(d, OpCodes.Shl, 63); return;
            case Opcode.Srl: ShiftRegister(d, OpCodes.Shr_Un, 63); return;
            case Opcode.Sra: ShiftRegister(d, OpCodes.Shr, 63); return;

            case Opcode.Addiw:
                if (!Writes(rd)) return;
                LoadX(d.Rs1); Const((ulong)d.Imm); _il.Emit(OpCodes.Add); SignExtendWord(); StoreX(rd); return;
            case Opcode.Slliw: WordShiftImmediate(d, OpCodes.Shl, OpCodes.Conv_U4); return;
            case Opcode.Srliw: WordShiftImmediate(d, OpCodes.Shr_Un, OpCodes.Conv_U4); return;
            case Opcode.Sraiw: WordShiftImmediate(d, OpCodes.Shr, OpCodes.Conv_I4); return;
            case Opcode.Addw: WordBinary(d, OpCodes.Add); return;
            case Opcode.Subw: WordBinary(d, OpCodes.Sub); return;
            case Opcode.Mulw: WordBinary(d, OpCodes.Mul); return;
            case Opcode.Sllw: WordShiftRegister(d, OpCodes.Shl, OpCodes.Conv_U4); return;
            case Opcode.Srlw: WordShiftRegister(d, OpCodes.Shr_Un, OpCodes.Conv_U4); return;
            case Opcode.Sraw: WordShiftRegister(d, OpCodes.Shr, OpCodes.Conv_I4); return;

            case Opcode.Mulh: Call2(d, MulHigh); return;
            case Opcode.Mulhsu: Call2(d, MulHighSu); return;
            case Opcode.Mulhu: Call2(d, MulHighU); return;
            case Opcode.Div: Call2(d, typeof(MulDiv).GetMethod(nameof(MulDiv.Div))!); return;
            case Opcode.Divu: Call2(d, typeof(MulDiv).GetMethod(nameof(MulDiv.Divu))!); return;
            case Opcode.Rem: Call2(d, typeof(MulDiv).GetMethod(nameof(MulDiv.Rem))!); return;
            case Opcode.Remu: Call2(d, typeof(MulDiv).GetMethod(nameof(MulDiv.Remu))!); return;
            case Opcode.Divw: Call2(d, typeof(MulDiv).GetMethod(nameof(MulDiv.Divw))!); return;
            case Opcode.Divuw: Call2(d, typeof(MulDiv).GetMethod(nameof(MulDiv.Divuw))!); return;
            case Opcode.Remw: Call2(d, typeof(MulDiv).GetMethod(nameof(MulDiv.Remw))!); return;
            case Opcode.Remuw: Call2(d, typeof(MulDiv).GetMethod(nameof(MulDiv.Remuw))!); return;

            case Opcode.Lb: EmitLoad(g, i, 0, OpCodes.Ldind_I1, signed: true); return;
            case Opcode.Lh: EmitLoad(g, i, 1, OpCodes.Ldind_I2, signed: true); return;
            case Opcode.Lw: EmitLoad(g, i, 2, OpCodes.Ldind_I4, signed: true); return;
            case Opcode.Ld: EmitLoad(g, i, 3, OpCodes.Ldind_I8, signed: true); return;
            case Opcode.Lbu: EmitLoad(g, i, 0, OpCodes.Ldind_U1, signed: false); return;
            case Opcode.Lhu: EmitLoad(g, i, 1, OpCodes.Ldind_U2, signed: false); return;
            case Opcode.Lwu: EmitLoad(g, i, 2, OpCodes.Ldind_U4, signed: false); return;
            case Opcode.Sb: EmitStore(g, i, 0, OpCodes.Stind_I1); return;
            case Opcode.Sh: EmitStore(g, i, 1, OpCodes.Stind_I2); return;
            case Opcode.Sw: EmitStore(g, i, 2, OpCodes.Stind_I4); return;
            case Opcode.Sd: EmitStore(g, i, 3, OpCodes.Stind_I8); return;
        }
        if (UsesHelperSlot(d.Op))
        {
            EmitExecutorCall(g, i, n, d.Op >= Opcode.Flw ? ExecuteFloat : IsCsr(d.Op) ? ExecuteCsr : ExecuteAtomic, helperIndex++);
            return;
        }
        throw new InvalidOperationException($"the translator has no code for {d.Op}");
    }

    private static bool Writes(int rd) => rd is > 0 and < 32;

    private void Immediate(DecodedInstruction d, OpCode op)
    {
        if (!Writes(d.Rd)) return;
        LoadX(d.Rs1); Const((ulong)d.Imm); _il.Emit(op); StoreX(d.Rd);
    }

    private void Binary(DecodedInstruction d, OpCode op)
    {
        if (!Writes(d.Rd)) return;
        LoadX(d.Rs1); LoadX(d.Rs2); _il.Emit(op); StoreX(d.Rd);
    }

    private void Compare(DecodedInstruction d, bool immediate, OpCode op)
    {
        if (!Writes(d.Rd)) return;
        LoadX(d.Rs1);
        if (immediate) Const((ulong)d.Imm); else LoadX(d.Rs2);
        _il.Emit(op);
        _il.Emit(OpCodes.Conv_U8);
        StoreX(d.Rd);
    }

    private void ShiftImmediate(DecodedInstruction d, OpCode op)
    {
        if (!Writes(d.Rd)) return;
        LoadX(d.Rs1); _il.Emit(OpCodes.Ldc_I4, (int)(d.Imm & 63)); _il.Emit(op); StoreX(d.Rd);
    }

    private void ShiftRegister(DecodedInstruction d, OpCode op, int mask)
    {
        if (!Writes(d.Rd)) return;
        LoadX(d.Rs1);
        LoadX(d.Rs2); _il.Emit(OpCodes.Conv_I4); _il.Emit(OpCodes.Ldc_I4, mask); _il.Emit(OpCodes.And);
        _il.Emit(op);
        StoreX(d.Rd);
    }

    /// <summary>The 32-bit result on the stack (int32 or int64), sign-extended to 64 bits.</summary>
    private void SignExtendWord()
    {
        _il.Emit(OpCodes.Conv_I4);
        _il.Emit(OpCodes.Conv_I8);
    }

    private void WordBinary(DecodedInstruction d, OpCode op)
    {
        if (!Writes(d.Rd)) return;
        LoadX(d.Rs1); _il.Emit(OpCodes.Conv_U4);
        LoadX(d.Rs2); _il.Emit(OpCodes.Conv_U4);
        _il.Emit(op);
        SignExtendWord();
        StoreX(d.Rd);
    }

    private void WordShiftImmediate(DecodedInstruction d, OpCode op, OpCode narrow)
    {
        if (!Writes(d.Rd)) return;
        LoadX(d.Rs1); _il.Emit(narrow);
        _il.Emit(OpCodes.Ldc_I4, (int)(d.Imm & 31));
        _il.Emit(op);
        SignExtendWord();
        StoreX(d.Rd);
    }

    private void WordShiftRegister(DecodedInstruction d, OpCode op, OpCode narrow)
    {
        if (!Writes(d.Rd)) return;
        LoadX(d.Rs1); _il.Emit(narrow);
        LoadX(d.Rs2); _il.Emit(OpCodes.Conv_I4); _il.Emit(OpCodes.Ldc_I4, 31); _il.Emit(OpCodes.And);
        _il.Emit(op);
        SignExtendWord();
        StoreX(d.Rd);
    }

    private void Call2(DecodedInstruction d, MethodInfo method)
    {
        if (!Writes(d.Rd)) return;
        LoadX(d.Rs1); LoadX(d.Rs2); _il.Emit(OpCodes.Call, method); StoreX(d.Rd);
    }

    /// <summary>
    /// Calls a helper for instruction <paramref name="i"/> of an <paramref name="n"/>-instruction block,
    /// after the arguments pushed so far: adds the instruction's pc, the block's first step and its
    /// shape (see <see cref="Hart.Hart.RegionShape"/>); the helper returns a status
    /// (<see cref="Hart.Hart.RegionContinue"/>, RegionLeave, RegionTrapped) into <c>_status</c>.
    /// </summary>
    private void CallHelper(MethodInfo helper, GuestInstruction g, int i, int n)
    {
        Const(g.Pc);
        _il.Emit(OpCodes.Ldloc, _steps);
        _il.Emit(OpCodes.Ldc_I4, HartType.RegionShape(i, n, g.Decoded.Length));
        _il.Emit(OpCodes.Call, helper);
        _il.Emit(OpCodes.Stloc, _status);
    }

    /// <summary>After <see cref="CallHelper"/>: leaves if the instruction trapped (rd untouched).</summary>
    private void LeaveIfTrapped()
    {
        _il.Emit(OpCodes.Ldloc, _status);
        _il.Emit(OpCodes.Ldc_I4, HartType.RegionTrapped);
        _il.Emit(OpCodes.Beq, _leave);
    }

    /// <summary>After <see cref="CallHelper"/> and rd's update: leaves if the helper ended the region
    /// (the slice ended in it and the rest of the block does not fit), else goes on at <paramref name="done"/>.</summary>
    private void LeaveOrContinue(IlLabel done)
    {
        _il.Emit(OpCodes.Ldloc, _status);
        _il.Emit(OpCodes.Brtrue, _leave);
        _il.Emit(OpCodes.Br, done);
    }

    /// <summary>
    /// Computes the access's address into <c>_address</c> and, on the hit path, the RAM offset into
    /// <c>_physical</c>; jumps to <paramref name="slow"/> for a TLB miss, a page-crossing access or
    /// anything outside RAM — exactly the interpreter's fast-path conditions (Hart.Memory.cs,
    /// TryLoadFast and TryStoreFast).
    /// </summary>
    private void EmitTranslate(DecodedInstruction d, int sizeLog2, bool store, IlLabel slow)
    {
        ulong size = 1UL << sizeLog2;
        LoadX(d.Rs1);
        Const((ulong)d.Imm);
        _il.Emit(OpCodes.Add);
        _il.Emit(OpCodes.Stloc, _address);
        if (_specialization.DataViaTlb)
        {
            // entry = tlb + ((address >> 12) & mask); a hit needs the tag and an access inside the page,
            // one compare: the tag against the page of the access's last byte. An entry sits at its
            // own page's index, so it can only hold that page when the first byte is on it too.
            HartPointer(TlbPointerField);
            _il.Emit(OpCodes.Ldloc, _address);
            _il.Emit(OpCodes.Ldc_I4, 12);
            _il.Emit(OpCodes.Shr_Un);
            Const(HartType.RegionTlbMask);
            _il.Emit(OpCodes.And);
            _il.Emit(OpCodes.Conv_I);
            _il.Emit(OpCodes.Ldc_I4, sizeof(TlbEntry));
            _il.Emit(OpCodes.Mul);
            _il.Emit(OpCodes.Add);
            _il.Emit(OpCodes.Stloc, _entry);
            _il.Emit(OpCodes.Ldloc, _entry);
            _il.Emit(OpCodes.Ldfld, store ? TlbWriteTag : TlbReadTag);
            _il.Emit(OpCodes.Ldloc, _address);
            if (size > 1)
            {
                Const(size - 1);
                _il.Emit(OpCodes.Add);
            }
            _il.Emit(OpCodes.Ldc_I4, 12);
            _il.Emit(OpCodes.Shr_Un);
            _il.Emit(OpCodes.Bne_Un, slow);
            // A hit is a RAM page (a device page's tags are marked TlbEntry.SlowPathOnly): offset = physical - ramBase.
            _il.Emit(OpCodes.Ldloc, _entry);
            _il.Emit(OpCodes.Ldfld, TlbPhysicalPage);
            _il.Emit(OpCodes.Ldloc, _address);
            Const(0xFFF);
            _il.Emit(OpCodes.And);
            _il.Emit(OpCodes.Or);
            Const(_specialization.RamBase);
            _il.Emit(OpCodes.Sub);
            _il.Emit(OpCodes.Stloc, _physical);
            return;
        }
        // offset = physical - ramBase, which must be <= ramSize - size
        _il.Emit(OpCodes.Ldloc, _address);
        Const(_specialization.RamBase);
        _il.Emit(OpCodes.Sub);
        _il.Emit(OpCodes.Stloc, _physical);
        _il.Emit(OpCodes.Ldloc, _physical);
        Const(_specialization.RamSize - size);
        _il.Emit(OpCodes.Bgt_Un, slow);
    }

    private void RamAddress()
    {
        HartPointer(RamPointerField);
        _il.Emit(OpCodes.Ldloc, _physical);
        _il.Emit(OpCodes.Conv_I);
        _il.Emit(OpCodes.Add);
    }

    /// <summary>
    /// A load: the inline fast path (TLB hit, RAM), else the region leaves before the instruction
    /// (its block's earlier instructions done) and the interpreter runs it. Leaving rather than
    /// calling the interpreter's access function and going on keeps every call out of the region's
    /// body but the A, F/D and CSR executors': the guest registers a loop keeps in locals then live
    /// across no call, so the JIT holds them in host registers instead of spilling them around the
    /// slow paths' calls (bench.elf's CRC loop kept four of its values in stack slots), and the
    /// JIT has less to compile (bench.elf's 29 regions: 20–22 ms instead of 25–27, recompiled in one
    /// process). A slow access costs a return to the dispatcher instead: on Linux running spawn 200,
    /// 4% more interpreter runs, 2.5% more interpreted steps.
    /// </summary>
    private void EmitLoad(GuestInstruction g, int i, int sizeLog2, OpCode load, bool signed)
    {
        var d = g.Decoded;
        EmitTranslate(d, sizeLog2, store: false, ExitAfter(g.Pc, i));
        RamAddress();
        if (sizeLog2 > 0) _il.Emit(OpCodes.Unaligned, (byte)1);
        _il.Emit(load);
        if (sizeLog2 < 3) _il.Emit(signed ? OpCodes.Conv_I8 : OpCodes.Conv_U8);
        StoreX(d.Rd);
    }

    /// <summary>A store: the inline fast path (TLB hit, RAM, a page without decoded code; the page's
    /// write epoch stamped), else, as for a load, the region leaves before it and the interpreter runs it.</summary>
    private void EmitStore(GuestInstruction g, int i, int sizeLog2, OpCode store)
    {
        var d = g.Decoded;
        var slow = ExitAfter(g.Pc, i);
        EmitTranslate(d, sizeLog2, store: true, slow);
        if (!_specialization.DataViaTlb)
        {
            // Untranslated, the access may cross into the next page, whose write epoch it must stamp too: the interpreter does.
            _il.Emit(OpCodes.Ldloc, _physical);
            Const(0xFFF);
            _il.Emit(OpCodes.And);
            Const((ulong)MainMemory.PageSize - (1UL << sizeLog2));
            _il.Emit(OpCodes.Bgt_Un, slow);
        }
        // A page holding decoded code: the interpreter's store drops its decodes and ends the slice.
        EmitHoldsCodeCheck(slow);
        RamAddress();
        LoadX(d.Rs2);
        if (sizeLog2 < 3) _il.Emit(OpCodes.Conv_I4);
        if (sizeLog2 > 0) _il.Emit(OpCodes.Unaligned, (byte)1);
        _il.Emit(store);
        // The page's write epoch, as every RAM store stamps it (Hart.NoteCodeWrite).
        HartPointer(PageEpochsPointerField);
        _il.Emit(OpCodes.Ldloc, _physical);
        _il.Emit(OpCodes.Ldc_I4, MainMemory.PageShift);
        _il.Emit(OpCodes.Shr_Un);
        _il.Emit(OpCodes.Conv_I);
        _il.Emit(OpCodes.Ldc_I4_4);
        _il.Emit(OpCodes.Mul);
        _il.Emit(OpCodes.Add);
        _il.Emit(OpCodes.Ldarg_1);
        _il.Emit(OpCodes.Ldfld, RamField);
        if (RamEpochField is not null) _il.Emit(OpCodes.Ldfld, RamEpochField);
        else _il.Emit(OpCodes.Call, RamEpoch);
        _il.Emit(OpCodes.Stind_I4);
    }

    /// <summary>
    /// Jumps to <paramref name="slow"/> if the RAM page at <c>_physical</c> holds decoded code, as
    /// <see cref="MainMemory.DecodedPageAt"/> tells, written out as its two array loads rather than a
    /// call the JIT inlines: at every store the inliner imported the callee and its two intrinsics
    /// afresh, 5% of the JIT time of bench.elf's and Linux's regions (the same regions compiled both
    /// ways in one process, 10 times each, least time of each).
    /// </summary>
    private void EmitHoldsCodeCheck(IlLabel slow)
    {
        var noChunk = _il.DefineLabel();
        _chunk ??= _il.DeclareLocal(typeof(object)); // a DecodedInstruction[]?[] (IlWriter declares locals of a few types only)
        _il.Emit(OpCodes.Ldarg_1);
        _il.Emit(OpCodes.Ldfld, DecodedChunksField);
        _il.Emit(OpCodes.Ldloc, _physical);
        _il.Emit(OpCodes.Ldc_I4, MainMemory.PageShift + MainMemory.DecodeChunkShift);
        _il.Emit(OpCodes.Shr_Un);
        _il.Emit(OpCodes.Conv_I);
        _il.Emit(OpCodes.Ldelem_Ref);
        _il.Emit(OpCodes.Stloc, _chunk);
        _il.Emit(OpCodes.Ldloc, _chunk);
        _il.Emit(OpCodes.Brfalse, noChunk);
        _il.Emit(OpCodes.Ldloc, _chunk);
        _il.Emit(OpCodes.Ldloc, _physical);
        _il.Emit(OpCodes.Ldc_I4, MainMemory.PageShift);
        _il.Emit(OpCodes.Shr_Un);
        _il.Emit(OpCodes.Conv_I4);
        _il.Emit(OpCodes.Ldc_I4, (1 << MainMemory.DecodeChunkShift) - 1);
        _il.Emit(OpCodes.And);
        _il.Emit(OpCodes.Ldelem_Ref);
        _il.Emit(OpCodes.Brtrue, slow);
        _il.MarkLabel(noChunk);
    }

    /// <summary>An A, F/D or CSR instruction through the interpreter's executor, which reads and writes
    /// the register file itself: the region's written registers go back first, rd comes back after.</summary>
    private void EmitExecutorCall(GuestInstruction g, int i, int n, MethodInfo executor, int slot)
    {
        WriteBackRegisters();
        var done = _il.DefineLabel();
        _il.Emit(OpCodes.Ldarg_1);
        _il.Emit(OpCodes.Ldloc, _helperBase!);
        _il.Emit(OpCodes.Ldc_I4, slot * sizeof(DecodedInstruction));
        _il.Emit(OpCodes.Conv_I);
        _il.Emit(OpCodes.Add);
        CallHelper(executor, g, i, n);
        LeaveIfTrapped();
        int rd = g.Decoded.Rd;
        if (rd is > 0 and < 32 && _registers[rd] is { } local)
        {
            LoadRegistersPointer();
            LoadRegisterAddress(rd);
            _il.Emit(OpCodes.Ldind_I8);
            _il.Emit(OpCodes.Stloc, local);
        }
        LeaveOrContinue(done);
        _il.MarkLabel(done);
    }
}
