using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Core.Devices.Storage;

namespace ReplayVm.Core.Tests.Devices;

public class CopyOnWriteOverlayTests
{
    [Fact]
    public void Writes_are_visible_through_the_overlay_but_never_reach_the_base()
    {
        var original = Enumerable.Range(0, 10_000).Select(i => (byte)i).ToArray();
        var baseStorage = new MemoryBlockStorage((byte[])original.Clone(), readOnly: true);
        var overlay = new CopyOnWriteOverlay(baseStorage);
        overlay.Write(4090, new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }); // spans two pages
        overlay.Write(9_998, new byte[] { 0xAA, 0xBB }); // last, partial page
        var back = new byte[10_000];
        overlay.Read(0, back);
        Assert.Equal(original, baseStorage.Bytes);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, back[4090..4100]);
        Assert.Equal(new byte[] { 0xAA, 0xBB }, back[9_998..]);
        Assert.Equal(original[..4090], back[..4090]);
        Assert.Equal(original[4100..9_998], back[4100..9_998]);
        Assert.Equal(3, overlay.DirtyPageCount);
        Assert.False(overlay.IsReadOnly);
    }

    [Fact]
    public void Access_outside_the_disk_is_rejected()
    {
        var overlay = new CopyOnWriteOverlay(new MemoryBlockStorage(new byte[1000]));
        Assert.Throws<ArgumentOutOfRangeException>(() => overlay.Read(999, new byte[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => overlay.Write(-1, new byte[1]));
    }

    /// <summary>The overlay behaves like a plain writable copy of the base for any sequence of writes.</summary>
    [Property(MaxTest = 200)]
    public Property Overlay_matches_a_plain_copy()
    {
        const int size = 3 * CopyOnWriteOverlay.PageSize + 100;
        var writes = Gen.ArrayOf(
            from offset in Gen.Choose(0, size - 1)
            from length in Gen.Choose(0, 2 * CopyOnWriteOverlay.PageSize)
            from fill in Gen.Choose(0, 255)
            select (offset, Math.Min(length, size - offset), (byte)fill));
        return Prop.ForAll(writes.ToArbitrary(), ws =>
        {
            var seed = Enumerable.Range(0, size).Select(i => (byte)(i * 31)).ToArray();
            var copy = (byte[])seed.Clone();
            var overlay = new CopyOnWriteOverlay(new MemoryBlockStorage((byte[])seed.Clone()));
            foreach (var (offset, length, fill) in ws)
            {
                var data = Enumerable.Repeat(fill, length).ToArray();
                overlay.Write(offset, data);
                data.CopyTo(copy, offset);
            }
            var back = new byte[size];
            overlay.Read(0, back);
            return back.AsSpan().SequenceEqual(copy);
        });
    }
}
