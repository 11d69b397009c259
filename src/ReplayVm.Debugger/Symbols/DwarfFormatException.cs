namespace ReplayVm.Debugger.Symbols;

/// <summary>
/// The ELF's section table or its DWARF line information is malformed or uses something this
/// reader does not support. The message is one line meant for the user ("truncated .debug_line
/// unit at 0x1c", "unknown form 0x2a in a DWARF 5 file entry").
/// </summary>
public sealed class DwarfFormatException : Exception
{
    public DwarfFormatException(string message) : base(message) { }
}
