namespace ReplayVm.Debugger.Symbols.Info;

/// <summary>The DWARF tags, attributes and forms this reader uses (numbers from DWARF 5 §7.5).</summary>
public static class DwarfTag
{
    public const ushort ArrayType = 0x01, EnumerationType = 0x04, FormalParameter = 0x05, LexicalBlock = 0x0b, Member = 0x0d,
        PointerType = 0x0f, CompileUnit = 0x11, StructureType = 0x13, SubroutineType = 0x15, Typedef = 0x16, UnionType = 0x17,
        InlinedSubroutine = 0x1d, SubrangeType = 0x21, BaseType = 0x24, ConstType = 0x26, Enumerator = 0x28, Subprogram = 0x2e,
        Variable = 0x34, VolatileType = 0x35, RestrictType = 0x37, UnspecifiedType = 0x3b, AtomicType = 0x47;
}

public static class DwarfAt
{
    public const ushort Location = 0x02, Name = 0x03, ByteSize = 0x0b, BitSize = 0x0d, StmtList = 0x10, LowPc = 0x11, HighPc = 0x12,
        ConstValue = 0x1c, UpperBound = 0x2f, AbstractOrigin = 0x31, Count = 0x37, DataMemberLocation = 0x38, Declaration = 0x3c,
        Encoding = 0x3e, FrameBase = 0x40, Specification = 0x47, Type = 0x49, Ranges = 0x55, EntryPc = 0x52, DataBitOffset = 0x6b,
        AddrBase = 0x73, RnglistsBase = 0x74, LoclistsBase = 0x8c, CallFile = 0x58, CallLine = 0x59;
}

internal static class DwarfForm
{
    public const ushort Addr = 0x01, Block2 = 0x03, Block4 = 0x04, Data2 = 0x05, Data4 = 0x06, Data8 = 0x07, String = 0x08,
        Block = 0x09, Block1 = 0x0a, Data1 = 0x0b, Flag = 0x0c, Sdata = 0x0d, Strp = 0x0e, Udata = 0x0f, RefAddr = 0x10,
        Ref1 = 0x11, Ref2 = 0x12, Ref4 = 0x13, Ref8 = 0x14, RefUdata = 0x15, Indirect = 0x16, SecOffset = 0x17, Exprloc = 0x18,
        FlagPresent = 0x19, Strx = 0x1a, Addrx = 0x1b, RefSup4 = 0x1c, StrpSup = 0x1d, Data16 = 0x1e, LineStrp = 0x1f,
        RefSig8 = 0x20, ImplicitConst = 0x21, Loclistx = 0x22, Rnglistx = 0x23, RefSup8 = 0x24, Strx1 = 0x25, Strx2 = 0x26,
        Strx3 = 0x27, Strx4 = 0x28, Addrx1 = 0x29, Addrx2 = 0x2a, Addrx3 = 0x2b, Addrx4 = 0x2c;
}
