namespace ReplayVm.Debugger.Symbols;

/// <summary>
/// Reads a whole .debug_line section: unit after unit (DWARF 2 to 5, 32- or 64-bit), each header
/// then its program, into line sequences. Throws <see cref="DwarfFormatException"/> and nothing
/// else for malformed input.
/// </summary>
public static class DebugLineReader
{
    /// <param name="debugLine">.debug_line</param>
    /// <param name="debugLineStr">.debug_line_str (DW_FORM_line_strp strings; DWARF 5), or empty</param>
    /// <param name="debugStr">.debug_str (DW_FORM_strp strings), or empty</param>
    public static List<LineSequence> Read(ReadOnlySpan<byte> debugLine, ReadOnlySpan<byte> debugLineStr, ReadOnlySpan<byte> debugStr)
    {
        var sequences = new List<LineSequence>();
        var section = new DwarfCursor(debugLine, ".debug_line");
        while (!section.AtEnd)
        {
            var header = LineProgramHeader.Read(ref section, debugLineStr, debugStr, debugLine);
            LineStateMachine.Run(header, debugLine, sequences);
        }
        return sequences;
    }
}
