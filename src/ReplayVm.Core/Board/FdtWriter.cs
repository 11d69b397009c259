using System.Buffers.Binary;
using System.Text;

namespace ReplayVm.Core.Board;

/// <summary>
/// Flattens a node tree into a device-tree blob (devicetree spec v0.4 ch. 5): the 40-byte header,
/// an empty memory-reservation block, the structure block of FDT_BEGIN_NODE / FDT_PROP /
/// FDT_END_NODE tokens ending with FDT_END, and the strings block of property names.
/// </summary>
public static class FdtWriter
{
    private const uint Magic = 0xd00dfeed, Version = 17, LastCompatibleVersion = 16;
    private const uint BeginNode = 1, EndNode = 2, Prop = 3, End = 9;
    private const int HeaderSize = 40;

    /// <summary>
    /// Serializes <paramref name="root"/> (whose name must be empty). <paramref name="totalSize"/>
    /// pads the blob with free space, as QEMU makes its blob 1 MiB so firmware can grow it in place.
    /// </summary>
    public static byte[] Write(FdtNode root, int totalSize = 0)
    {
        var strings = new List<byte>();
        var stringOffsets = new Dictionary<string, int>(StringComparer.Ordinal);
        var structure = new List<byte>();
        WriteNode(root, structure, strings, stringOffsets);
        AppendU32(structure, End);

        int reservationOffset = HeaderSize; // already 8-byte aligned (spec 5.3)
        int reservationSize = 16; // just the terminating (0, 0) entry
        int structOffset = reservationOffset + reservationSize;
        int stringsOffset = structOffset + structure.Count;
        int used = stringsOffset + strings.Count;
        int size = Math.Max(used, totalSize);
        size = (size + 7) & ~7;

        var blob = new byte[size];
        var header = blob.AsSpan();
        uint[] fields =
        [
            Magic, (uint)size, (uint)structOffset, (uint)stringsOffset, (uint)reservationOffset,
            Version, LastCompatibleVersion, 0, (uint)strings.Count, (uint)structure.Count,
        ];
        for (int i = 0; i < fields.Length; i++) BinaryPrimitives.WriteUInt32BigEndian(header[(4 * i)..], fields[i]);
        structure.CopyTo(blob, structOffset);
        strings.CopyTo(blob, stringsOffset);
        return blob;
    }

    private static void WriteNode(FdtNode node, List<byte> structure, List<byte> strings, Dictionary<string, int> offsets)
    {
        AppendU32(structure, BeginNode);
        structure.AddRange(Encoding.ASCII.GetBytes(node.Name));
        structure.Add(0);
        Pad(structure);
        foreach (var (name, value) in node.Properties)
        {
            if (!offsets.TryGetValue(name, out int nameOffset))
            {
                nameOffset = strings.Count;
                offsets[name] = nameOffset;
                strings.AddRange(Encoding.ASCII.GetBytes(name));
                strings.Add(0);
            }
            AppendU32(structure, Prop);
            AppendU32(structure, (uint)value.Length);
            AppendU32(structure, (uint)nameOffset);
            structure.AddRange(value);
            Pad(structure);
        }
        foreach (var child in node.Children) WriteNode(child, structure, strings, offsets);
        AppendU32(structure, EndNode);
    }

    private static void AppendU32(List<byte> bytes, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, value);
        bytes.AddRange(b);
    }

    /// <summary>Tokens start on 4-byte boundaries (spec 5.4.1).</summary>
    private static void Pad(List<byte> bytes)
    {
        while (bytes.Count % 4 != 0) bytes.Add(0);
    }
}
