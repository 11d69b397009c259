using ReplayVm.Core.Loading;
using ReplayVm.Debugger.Disassembly;

namespace ReplayVm.Cli.Disassembly;

/// <summary>
/// Writes an objdump -d style listing of an image's executable segments: a header line for each
/// function or label, then one line per instruction with its address, raw bits and text.
/// </summary>
internal sealed class DisassemblyListing(ElfImage image)
{
    /// <summary>Like objdump, runs of this many zero bytes or more (padding) are shown as "...".</summary>
    private const int MinSkippedZeros = 8;

    private readonly AddressAnnotator _annotator = new(image.FindSymbol("__global_pointer$")?.Value, image.SymbolAt);

    public void WriteAll(TextWriter output)
    {
        foreach (var segment in image.Segments.Where(s => s.Executable).OrderBy(s => s.VirtualAddress))
        {
            ulong start = segment.VirtualAddress, end = start + (ulong)segment.FileBytes.Length;
            output.WriteLine($"Disassembly of segment at 0x{start:x}-0x{end:x}:");
            if (image.SymbolAt(start) is not { } name || name.Contains('+'))
            {
                output.WriteLine();
                output.WriteLine($"{start:x16} <segment>:");
            }
            WriteRange(segment, start, end, output);
            output.WriteLine();
        }
    }

    /// <summary>Lists one function (or label, up to the next symbol). Throws <see cref="UsageException"/> for an unknown name.</summary>
    public void WriteSymbol(string name, TextWriter output)
    {
        var symbol = image.FindSymbol(name);
        var segment = symbol is null ? null : image.Segments.FirstOrDefault(s => s.Executable && s.ContainsVirtual(symbol.Value));
        if (symbol is null || segment is null || symbol.Type is not (ElfSymbolType.Function or ElfSymbolType.Label))
            throw new UsageException($"no function named '{name}' in the executable segments");

        ulong segmentEnd = segment.VirtualAddress + (ulong)segment.FileBytes.Length;
        ulong end = symbol.Size != 0
            ? Math.Min(symbol.Value + symbol.Size, segmentEnd)
            : SymbolStarts(segment).Where(a => a > symbol.Value).DefaultIfEmpty(segmentEnd).Min();
        output.WriteLine($"{symbol.Value:x16} <{symbol.Name}>:");
        WriteRange(segment, symbol.Value, end, output, headers: false);
    }

    private void WriteRange(ElfSegment segment, ulong start, ulong end, TextWriter output, bool headers = true)
    {
        var starts = headers ? SymbolStarts(segment) : [];
        ReadOnlySpan<byte> bytes = segment.FileBytes;
        ulong pc = start;
        while (pc < end)
        {
            if (starts.Contains(pc))
            {
                _annotator.Reset();
                output.WriteLine();
                output.WriteLine($"{pc:x16} <{image.SymbolAt(pc)}>:");
            }
            int offset = (int)(pc - segment.VirtualAddress);
            int left = (int)Math.Min(end - pc, (ulong)(bytes.Length - offset));
            var rest = bytes.Slice(offset, left);
            int zeros = ZeroRun(rest, pc, starts);
            if (zeros >= MinSkippedZeros)
            {
                output.WriteLine("\t...");
                pc += (ulong)zeros;
                continue;
            }
            pc += (ulong)WriteInstruction(rest, pc, output);
        }
    }

    /// <summary>Writes the instruction at the start of <paramref name="bytes"/>; returns its length in bytes.</summary>
    private int WriteInstruction(ReadOnlySpan<byte> bytes, ulong pc, TextWriter output)
    {
        if (bytes.Length < 2)
        {
            output.WriteLine($"    {pc:x}:\t{bytes[0]:x2}                  \t.byte\t0x{bytes[0]:x}");
            return 1;
        }
        ushort low = (ushort)(bytes[0] | bytes[1] << 8);
        int length = RiscvDisassembler.Length(low);
        if (length == 4 && bytes.Length >= 4)
        {
            uint word = (uint)(low | bytes[2] << 16 | bytes[3] << 24);
            output.WriteLine($"    {pc:x}:\t{word:x8}          \t{RiscvDisassembler.Disassemble(word, pc, image.SymbolAt)}{_annotator.Annotate(word, pc)}");
            return 4;
        }
        if (length == 2)
        {
            _annotator.Observe(low);
            output.WriteLine($"    {pc:x}:\t{low:x4}                \t{RiscvDisassembler.Disassemble(low, pc, image.SymbolAt)}");
            return 2;
        }
        // Longer encodings (RISC-V unprivileged spec §1.5) or a cut-off instruction: show the parcel raw.
        output.WriteLine($"    {pc:x}:\t{low:x4}                \t.2byte\t0x{low:x}");
        return 2;
    }

    /// <summary>How many zero bytes start <paramref name="bytes"/>, stopping at the next symbol.</summary>
    private static int ZeroRun(ReadOnlySpan<byte> bytes, ulong pc, HashSet<ulong> starts)
    {
        int count = 0;
        while (count < bytes.Length && bytes[count] == 0 && (count == 0 || !starts.Contains(pc + (ulong)count)))
            count++;
        return count & ~1; // whole 16-bit parcels, so decoding stays aligned
    }

    /// <summary>Addresses in the segment where a function or label starts (absolute symbols are values, not places).</summary>
    private HashSet<ulong> SymbolStarts(ElfSegment segment) =>
        image.Symbols
            .Where(s => s.Type is ElfSymbolType.Function or ElfSymbolType.Label && !s.IsAbsolute && segment.ContainsVirtual(s.Value))
            .Select(s => s.Value)
            .ToHashSet();
}
