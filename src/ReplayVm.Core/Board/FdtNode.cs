using System.Buffers.Binary;
using System.Text;

namespace ReplayVm.Core.Board;

/// <summary>A device-tree node (devicetree spec v0.4 ch. 2): a name, properties in order, children in order.</summary>
public sealed class FdtNode(string name)
{
    public string Name { get; } = name;
    public List<(string Name, byte[] Value)> Properties { get; } = new();
    public List<FdtNode> Children { get; } = new();

    public FdtNode AddChild(string name)
    {
        var child = new FdtNode(name);
        Children.Add(child);
        return child;
    }

    public FdtNode Property(string name, byte[] value)
    {
        Properties.Add((name, value));
        return this;
    }

    /// <summary>A property with no value (a flag such as <c>interrupt-controller</c>).</summary>
    public FdtNode Empty(string name) => Property(name, []);

    /// <summary>One or more big-endian 32-bit cells.</summary>
    public FdtNode Cells(string name, params uint[] cells)
    {
        var bytes = new byte[4 * cells.Length];
        for (int i = 0; i < cells.Length; i++) BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4 * i), cells[i]);
        return Property(name, bytes);
    }

    /// <summary>A <c>reg</c> of (address, size) pairs with two cells each, as under QEMU virt's root and /soc.</summary>
    public FdtNode Reg64(params (ulong Address, ulong Size)[] ranges)
    {
        // Filled in place: a List<uint> grown from arrays went through generic code no precompiled
        // image holds (JIT-compiled in every process that builds a device tree).
        var cells = new uint[4 * ranges.Length];
        for (int i = 0; i < ranges.Length; i++)
        {
            var (address, size) = ranges[i];
            cells[4 * i] = (uint)(address >> 32);
            cells[4 * i + 1] = (uint)address;
            cells[4 * i + 2] = (uint)(size >> 32);
            cells[4 * i + 3] = (uint)size;
        }
        return Cells("reg", cells);
    }

    /// <summary>A string list: each string NUL-terminated (spec 2.2.4 &lt;stringlist&gt;).</summary>
    public FdtNode Strings(string name, params string[] values)
    {
        var bytes = new List<byte>();
        foreach (var v in values)
        {
            bytes.AddRange(Encoding.ASCII.GetBytes(v));
            bytes.Add(0);
        }
        return Property(name, [.. bytes]);
    }
}
