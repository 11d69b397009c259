using ReplayVm.Core.Board;
using ReplayVm.Core.Input;
using ReplayVm.Core.Loading;
using ReplayVm.Core.Memory;
using ReplayVm.Core.State;

namespace ReplayVm.Core.Tests.Memory;

/// <summary>
/// Guest RAM is reserved lazily: any size up to the board's limit can be configured, and a machine
/// costs what its guest touches. Snapshots, state hashes and restores of a large, mostly untouched
/// RAM do not read or copy the untouched part, and the state hash stays a function of RAM's content.
/// </summary>
public sealed class LazyRamTests
{
    private const ulong GiB = 1UL << 30;

    private static (Machine Machine, List<byte> Output) Boot(ulong ramSize, string guest = "hello.elf")
    {
        var output = new List<byte>();
        var machine = new Machine(new MachineConfig { RamSize = ramSize }, NoInput.Instance, output.Add);
        machine.LoadElf(ElfImage.Parse(File.ReadAllBytes(RepoPaths.GuestBinary(guest))));
        return (machine, output);
    }

    private static string Expected(string name) => File.ReadAllText(Path.Combine(RepoPaths.Root, "tools", "guests", "expected", name));

    /// <summary>Resident host memory in [address, address + length), page by page (mincore(2)).</summary>
    private static unsafe long ResidentBytes(byte* address, ulong length)
    {
        const ulong step = 1UL << 30;
        var vector = new byte[step / 4096];
        long resident = 0;
        for (ulong at = 0; at < length; at += step)
        {
            ulong part = Math.Min(step, length - at);
            fixed (byte* v = vector)
                if (Mincore((nint)(address + at), (nuint)part, v) != 0) throw new InvalidOperationException("mincore failed");
            foreach (byte b in vector.AsSpan(0, (int)((part + 4095) / 4096))) resident += b & 1;
        }
        return resident * 4096;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mincore")]
    private static extern unsafe int Mincore(nint address, nuint length, byte* vector);

    [Theory]
    [InlineData(2UL, true)]
    [InlineData(16UL, true)]
    [InlineData(1024UL, false)] // the largest size accepted
    public unsafe void Hello_runs_with_large_ram_and_costs_only_what_it_touches(ulong gib, bool hashAndSnapshot)
    {
        var (machine, output) = Boot(gib * GiB);
        var result = machine.Run(10_000_000);
        Assert.Equal(StopReason.GuestExit, result.Reason);
        Assert.Equal(Expected("hello.out"), System.Text.Encoding.Latin1.GetString(output.ToArray()));
        // hello touches a few dozen pages (code, data, stack at the top of RAM).
        long resident = ResidentBytes(machine.Ram.Pointer, machine.Ram.Size);
        Assert.True(resident < 4L << 20, $"hello on a {gib} GiB machine made {resident >> 10} KiB of RAM resident");
        if (!hashAndSnapshot) return;
        // Hashes and snapshots read the write epochs (4 bytes a page) but no page never written.
        new MachineStateHasher(machine).Compute();
        machine.CaptureSnapshot();
        Assert.Equal(resident, ResidentBytes(machine.Ram.Pointer, machine.Ram.Size));
    }

    [Fact]
    public void Sizes_beyond_the_limit_or_not_page_multiples_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MainMemory(0x8000_0000, MainMemory.MaxSize + 4096));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MainMemory(0x8000_0000, 4096 + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MainMemory(0x8000_0000, 0));
    }

    [Fact]
    public void Writes_anywhere_in_a_large_ram_are_read_back_and_stamped()
    {
        var ram = new MainMemory(0x8000_0000, 16 * GiB);
        ulong top = ram.Base + ram.Size - 8;
        ram.Write(top, [1, 2, 3, 4, 5, 6, 7, 8]);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, ram.Read(top, 8).ToArray());
        Assert.True(ram.EverWritten(ram.PageCount - 1));
        Assert.False(ram.EverWritten(ram.PageCount - 2));
        Assert.Equal(-1, ram.Read(ram.Base + 8 * GiB, 4096).IndexOfAnyExcept((byte)0));
        ram.ZeroPage(ram.PageCount - 1);
        Assert.Equal(-1, ram.Read(top, 8).IndexOfAnyExcept((byte)0));
        Assert.True(ram.EverWritten(ram.PageCount - 1), "a zeroed page counts as written: consumers must re-read it");
    }

    [Fact]
    public void Loading_an_elf_leaves_its_untouched_bss_unwritten_and_clears_bss_written_before()
    {
        // hello's one segment: 0x1e60 bytes from the file, then 1.1 MB of .bss, heap and stack.
        var image = ElfImage.Parse(File.ReadAllBytes(RepoPaths.GuestBinary("hello.elf")));
        var segment = Assert.Single(image.Segments, s => s.MemorySize != 0);
        Assert.True(segment.MemorySize > (ulong)segment.FileBytes.Length + 64 * 4096);
        ulong bssStart = segment.LoadAddress + (ulong)segment.FileBytes.Length;
        ulong lastPage = (segment.LoadAddress + segment.MemorySize - 1 - MemoryMap.RamBase) >> MainMemory.PageShift;

        var fresh = new Machine(new MachineConfig(), NoInput.Instance, _ => { });
        fresh.LoadElf(image);
        Assert.True(fresh.Ram.EverWritten((segment.LoadAddress - fresh.Ram.Base) >> MainMemory.PageShift));
        Assert.False(fresh.Ram.EverWritten(lastPage), "loading wrote the zeros of a page that already held them");

        // RAM written before the load (a second image, a debugger's load) is cleared where the .bss lies,
        // on the page the file's bytes end in and on whole pages alike.
        var used = new Machine(new MachineConfig(), NoInput.Instance, _ => { });
        used.Ram.Write(bssStart, [0xEE, 0xEE]);
        ulong lastByte = segment.LoadAddress + segment.MemorySize - 1;
        used.Ram.Write(lastByte, [0xEE]);
        used.LoadElf(image);
        Assert.Equal(new byte[] { 0, 0 }, used.Ram.Read(bssStart, 2).ToArray());
        Assert.Equal(0, used.Ram.Read(lastByte, 1)[0]);
        Assert.Equal(new MachineStateHasher(fresh).Compute(), new MachineStateHasher(used).Compute());
    }

    [Fact]
    public void State_hash_depends_on_content_only_whatever_was_written_and_zeroed()
    {
        var (a, _) = Boot(16 * GiB);
        var (b, _) = Boot(16 * GiB);
        var hashA = new MachineStateHasher(a);
        var hashB = new MachineStateHasher(b);
        Assert.Equal(hashA.Compute(), hashB.Compute());

        // b writes a page far up and then clears it again: same content as a, same hash.
        ulong far = b.Ram.Base + 15 * GiB;
        b.Ram.Write(far, [0xAB]);
        Assert.NotEqual(hashA.Compute(), hashB.Compute());
        b.Ram.Write(far, [0]);
        Assert.Equal(hashA.Compute(), hashB.Compute());
        Assert.True(hashB.PagesRehashedLastTime <= 1);

        // and a full re-read agrees with the incremental hash on the big RAM
        Assert.Equal(hashB.Compute(), new MachineStateHasher(b).Compute());
    }

    [Fact]
    public void State_hash_of_an_untouched_ram_matches_a_flat_reference_definition()
    {
        // The hash's RAM part is every page's XxHash3 digest in page order: check it against the
        // old flat definition (all pages read) on a small RAM with a few written pages.
        var (machine, _) = Boot(8UL << 20);
        machine.Ram.Write(machine.Ram.Base + machine.Ram.Size - 3, [9, 9, 9]);
        var sparse = new MachineStateHasher(machine).Compute();
        var full = new MachineStateHasher(machine, AllPagesDirty.Instance).Compute();
        Assert.Equal(full, sparse);
    }

    [Fact]
    public void Snapshots_of_a_large_ram_copy_only_written_pages_and_restore_exactly()
    {
        var (machine, _) = Boot(16 * GiB, "bench.elf");
        var hasher = new MachineStateHasher(machine);
        machine.Run(200_000);
        var first = machine.CaptureSnapshot();
        var atFirst = hasher.Compute();
        Assert.InRange(first.PrivatePages.Count, 1, 4096);

        ulong far = machine.Ram.Base + 12 * GiB + 123;
        machine.Ram.Write(far, [0x5A, 0xA5]);
        machine.Run(200_000);
        var second = machine.CaptureSnapshot();
        var atSecond = hasher.Compute();
        Assert.Contains((int)((far - machine.Ram.Base) >> MainMemory.PageShift), second.PrivatePages);

        machine.RestoreSnapshot(first);
        Assert.Equal(atFirst, hasher.Compute());
        Assert.Equal(0, machine.Ram.Read(far, 2)[0]);
        machine.RestoreSnapshot(second);
        Assert.Equal(atSecond, hasher.Compute());
        Assert.Equal(0x5A, machine.Ram.Read(far, 2)[0]);
    }
}
