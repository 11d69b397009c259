using System.Buffers.Binary;
using System.Security.Cryptography;
using ReplayVm.Core;
using ReplayVm.Core.Devices.Storage;
using ReplayVm.Core.State;
using ReplayVm.Replay.Format;

namespace ReplayVm.Replay.Tests;

/// <summary>
/// Traces made by a hostile hand: decompression bombs, forged step counts, impossible headers,
/// traces over 2 GiB. Each must cost memory for what it really holds (or what the guest touches),
/// never for what it claims, and every refusal is one clear line.
/// </summary>
public class HostileTraceTests
{
    private static TraceHeader Header(MachineSetup setup, ulong interval = 1000) => new(setup, interval, "test");

    private static readonly EndEvent End0 = new(0, StopReason.InstructionLimit, 0, default(StateHash), null);

    [Fact]
    public void A_forged_step_delta_is_a_format_error_not_an_endless_replay()
    {
        var bytes = TraceBuilder.Write(Header(TestGuests.Echo), [
            new StateHashEvent(0, new(1, 2)),
            new ConsoleInputEvent(1UL << 62, [(byte)'a']),
        ]);
        var e = Assert.Throws<TraceFormatException>(() => TraceReader.Read(bytes));
        Assert.Contains($"at step {1UL << 62}, past step 1000 where a state hash was due", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void An_end_record_far_past_the_hash_points_is_a_format_error()
    {
        var bytes = TraceBuilder.Write(Header(TestGuests.Echo), [
            new StateHashEvent(0, new(1, 2)),
            new StateHashEvent(1000, new(1, 2)),
            new EndEvent(1UL << 40, StopReason.GuestExit, 0, new(3, 4), null),
        ]);
        Assert.Contains("past step 2000", Assert.Throws<TraceFormatException>(() => TraceReader.Read(bytes)).Message);
    }

    [Fact]
    public void Hash_points_off_the_interval_are_a_format_error()
    {
        var bytes = TraceBuilder.Write(Header(TestGuests.Echo), [new StateHashEvent(0, new(1, 2)), new StateHashEvent(999, new(1, 2))]);
        Assert.Contains("not the next multiple of the interval", Assert.Throws<TraceFormatException>(() => TraceReader.Read(bytes)).Message);
    }

    [Fact]
    public void A_header_with_an_impossible_hash_interval_is_refused()
    {
        var bytes = TraceBuilder.Write(Header(TestGuests.Echo, interval: 1UL << 62), []);
        Assert.Contains("impossible state-hash interval", Assert.Throws<TraceFormatException>(() => TraceReader.Read(bytes)).Message);
    }

    [Fact]
    public void The_end_record_takes_only_the_documented_stop_reasons()
    {
        // Stop reason 4 is a debugger stop: it never ends a recording, and the format document lists 0..3.
        var bytes = TraceBuilder.Write(Header(TestGuests.Echo), [new EndEvent(0, StopReason.DebugStop, 0, default(StateHash), null)]);
        Assert.Contains("unknown stop reason (4)", Assert.Throws<TraceFormatException>(() => TraceReader.Read(bytes)).Message);
    }

    [Fact]
    public void A_header_RAM_size_the_machine_cannot_have_is_one_clear_line()
    {
        var setup = TestGuests.Echo with { Config = TestGuests.Config with { RamSize = (16UL << 20) + 1 } };
        var e = Assert.Throws<TraceFormatException>(() => new Replayer(TraceReader.Read(TraceBuilder.Write(Header(setup), [End0])), _ => { }));
        Assert.Contains("impossible RAM size of 16777217 bytes", e.Message);
        Assert.DoesNotContain("Parameter", e.Message);
    }

    [Fact]
    public void A_trace_asking_for_more_RAM_than_the_host_has_is_refused_up_front_saying_how_much()
    {
        var setup = TestGuests.Echo with { Config = TestGuests.Config with { RamSize = 1UL << 40 } };
        var trace = TraceReader.Read(TraceBuilder.Write(Header(setup), [End0]));
        Assert.Equal(1UL << 40, trace.Header.Setup.Config.RamSize);
        Assert.True(HostMemory.Available < 1L << 40, "this test needs a host with less than 1 TiB of memory");
        var e = Assert.Throws<TraceFormatException>(() => new Replayer(trace, _ => { }));
        Assert.Contains("it needs 1 TiB of memory (RAM 1 TiB", e.Message);
        Assert.DoesNotContain("Parameter", e.Message);

        // The rule itself, independent of this host: RAM and images count against what the host has.
        var small = TestGuests.Echo with { Config = TestGuests.Config with { RamSize = 1UL << 30 } };
        Assert.Contains("needs 1 GiB", Assert.Throws<Core.Loading.GuestImageException>(() => HostMemory.EnsureFits(small, available: 512L << 20)).Message);
        HostMemory.EnsureFits(small, available: 2L << 30);
    }

    /// <summary>A disk of zeros that costs nothing to hold: the content of a decompression bomb.</summary>
    private sealed class ZeroStorage(long length) : IBlockStorage
    {
        public long Length => length;
        public bool IsReadOnly => true;
        public void Read(long offset, Span<byte> destination) => destination.Clear();
        public void Write(long offset, ReadOnlySpan<byte> source) => throw new IOException("read-only");
        public void Flush() { }
    }

    private static byte[] ZeroSha(long length)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var zeros = new byte[1 << 20];
        for (long done = 0; done < length; done += zeros.Length) sha.AppendData(zeros, 0, (int)Math.Min(zeros.Length, length - done));
        return sha.GetHashAndReset();
    }

    private static long Allocated(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void A_bomb_of_zero_disks_is_read_and_replayed_without_inflating_it()
    {
        const long diskSize = 256L << 20;
        var sha = ZeroSha(diskSize);
        var disks = Enumerable.Range(1, 4).Select(i => new GuestDisk($"zero{i}.img", diskSize, sha, new ZeroStorage(diskSize))).ToList();
        var bytes = RoundTrip.Record(TestGuests.Echo with { Disks = disks }, new Input.ScriptedInputPort([]), interval: 1000, maxSteps: 3000).Trace;
        Assert.True(bytes.Length < 1 << 20, $"4 x 256 MiB of zeros took {bytes.Length} bytes"); // all-zero blocks are not stored

        TraceFile? trace = null;
        long reading = Allocated(() =>
        {
            trace = TraceReader.Read(bytes);
            // What `info` shows: sizes and hashes, from the header alone.
            Assert.All(trace.Header.Setup.Disks, d => Assert.Equal(diskSize, d.Size));
            Assert.Equal(TestGuests.Echo.Images[0].Size, trace.Header.Setup.Images[0].Size);
        });
        Assert.True(reading < 8 << 20, $"reading the header allocated {reading} bytes");

        // Replay: RAM, the image once, and a block buffer per disk; the disks' 1 GiB is never held.
        long replaying = Allocated(() => Assert.Equal(ReplayOutcome.Identical, new Replayer(trace!, _ => { }).Run().Outcome));
        Assert.True(replaying < (long)TestGuests.Config.RamSize + (64 << 20), $"replaying allocated {replaying} bytes");
    }

    /// <summary>An LZ4 block of <paramref name="length"/> zero bytes: one literal, one long match at offset 1, five final literals.</summary>
    private static byte[] Lz4Zeros(long length)
    {
        var block = new List<byte> { 0x1F, 0x00, 0x01, 0x00 };
        long extra = length - 1 - 5 - 4 - 15;
        for (; extra >= 255; extra -= 255) block.Add(255);
        block.Add((byte)extra);
        block.AddRange(new byte[] { 0x50, 0, 0, 0, 0, 0 });
        return [.. block];
    }

    /// <summary>A format-2 trace (the version the bomb of the issue was written in) with one disk as one LZ4 block.</summary>
    private static byte[] Version2Trace(long diskSize, byte[] diskSha, byte[] compressed)
    {
        var body = new List<byte>();
        void VarUInt(ulong v) { for (; v >= 0x80; v >>= 7) body.Add((byte)(v | 0x80)); body.Add((byte)v); }
        void Blob(byte[] b) { VarUInt((ulong)b.Length); body.AddRange(b); }
        var image = TestGuests.Echo.Images[0];
        VarUInt(1000); VarUInt((ulong)MachineStateHasher.Version); VarUInt((ulong)MachineConfig.BoardRevision); Blob("v2"u8.ToArray());
        VarUInt(TestGuests.Config.RamSize); body.Add(0); VarUInt(0);
        VarUInt(1); body.Add((byte)ImageRole.Elf); Blob("echo.elf"u8.ToArray()); VarUInt(0); VarUInt((ulong)image.Size); body.AddRange(image.Sha256);
        var packed = new byte[K4os.Compression.LZ4.LZ4Codec.MaximumOutputSize(image.Bytes.Length)];
        Blob(packed[..K4os.Compression.LZ4.LZ4Codec.Encode(image.Bytes, packed)]);
        VarUInt(1); Blob("zero.img"u8.ToArray()); VarUInt((ulong)diskSize); body.AddRange(diskSha); body.Add(1); Blob(compressed);
        var file = new byte[TraceFormat.FilePreambleSize + body.Count];
        "RVTRACE\0"u8.CopyTo(file);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(8), 2);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(12), (uint)body.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(16), Crc32C.Compute(body.ToArray()));
        body.CopyTo(file, TraceFormat.FilePreambleSize);
        return file;
    }

    [Fact]
    public void A_format_2_bomb_is_described_without_decompressing_its_disk()
    {
        const long diskSize = 128L << 20;
        var bytes = Version2Trace(diskSize, ZeroSha(diskSize), Lz4Zeros(diskSize));
        Assert.True(bytes.Length < 4 << 20);
        TraceFile? trace = null;
        long reading = Allocated(() => trace = TraceReader.Read(bytes));
        Assert.True(reading < 16 << 20, $"reading a format-2 header with a 128 MiB disk allocated {reading} bytes");
        var disk = trace!.Header.Setup.Disks.Single();
        Assert.Equal(2, trace.Header.FormatVersion);
        Assert.Equal(diskSize, disk.Size);
        // The old format still reads: the disk inflates (and is checked) only when read.
        var tail = new byte[16];
        disk.Content!.Read(diskSize - 16, tail);
        Assert.All(tail, b => Assert.Equal(0, b));
    }

    /// <summary>Incompressible, reproducible bytes: each 8-byte word is a SplitMix64 of its offset.</summary>
    private sealed class NoiseStorage(long length) : IBlockStorage
    {
        public long Length => length;
        public bool IsReadOnly => true;

        public void Read(long offset, Span<byte> destination)
        {
            // Offsets used here are multiples of 8, as the trace writer's blocks are.
            var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(destination);
            for (int i = 0; i < words.Length; i++) words[i] = Mix((ulong)offset + (ulong)i * 8);
            int tail = destination.Length - words.Length * 8;
            if (tail > 0)
            {
                Span<byte> last = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(last, Mix((ulong)offset + (ulong)words.Length * 8));
                last[..tail].CopyTo(destination[(words.Length * 8)..]);
            }
        }

        public static ulong Mix(ulong z)
        {
            z += 0x9E3779B97F4A7C15;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
            return z ^ (z >> 31);
        }

        public void Write(long offset, ReadOnlySpan<byte> source) => throw new IOException("read-only");
        public void Flush() { }
    }

    /// <summary>
    /// A trace of 2 GiB and more is read a piece at a time: its header, a skip over its disk data to
    /// the chunks beyond 2 GiB, and the disk's blocks by positional reads, each checked against its
    /// CRC. The file is made sparse so the test writes a few hundred KiB, not 2 GiB (writing that
    /// through the writer costs an LZ4 attempt per block, ten seconds of CPU): the writer writes the
    /// header of a disk this size (all zero blocks, so nothing is stored) and the chunks; the table is
    /// then rewritten to say every block is stored raw, and only the blocks the test reads are
    /// written, the rest left as a hole that reads as zeros and fails its CRC if ever read.
    /// </summary>
    [Fact]
    public void A_trace_over_2_GiB_is_read_in_pieces()
    {
        const long diskSize = (2L << 30) + (64L << 20) + 8;
        const int block = TraceFormat.DiskBlockSize;
        long blocks = (diskSize + block - 1) / block;
        string dir = Directory.CreateTempSubdirectory("replayvm-big-trace-").FullName;
        string path = Path.Combine(dir, "big.rvtrace");
        try
        {
            // The disk's SHA-256 is not what a replay would check here (nothing replays); the reader must not need it.
            var events = new List<TraceEvent>
            {
                new StateHashEvent(0, new(1, 2)),
                new ConsoleInputEvent(10, "after the disk"u8.ToArray()),
                new EndEvent(20, StopReason.GuestExit, 7, new(3, 4), "done"),
            };
            var zeros = new GuestDisk("noise.img", diskSize, new byte[32], new ZeroStorage(diskSize));
            byte[] small = TraceBuilder.Write(Header(TestGuests.Echo with { Disks = [zeros] }), events);
            int bodyLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(small.AsSpan(12));
            int dataStart = TraceFormat.FilePreambleSize + bodyLength;
            // The writer's own trace of a 2 GiB disk of zeros: every block-table entry (the body's last
            // field, 8 bytes each) says "all zero", and the chunks follow the header directly.
            var body = small.AsSpan(TraceFormat.FilePreambleSize, bodyLength).ToArray();
            var table = body.AsSpan(bodyLength - (int)blocks * 8);
            Assert.True(table.IndexOfAnyExcept((byte)0) < 0, "the table of a disk of zeros is not all zero");
            Assert.True(TraceReader.Read(small).Header.Setup.Disks.Single().Size == diskSize);

            // Blocks stored raw: the first, those the reads below touch, and the last two (the last is 8 bytes).
            var noise = new NoiseStorage(diskSize);
            var written = new SortedSet<long> { 0, ((2L << 30) + 4096) / block, blocks - 2, blocks - 1 };
            var content = new byte[block];
            for (long i = 0; i < blocks; i++)
            {
                int length = (int)Math.Min(block, diskSize - i * block);
                uint crc = 0;
                if (written.Contains(i))
                {
                    noise.Read(i * block, content.AsSpan(0, length));
                    crc = Crc32C.Compute(content.AsSpan(0, length));
                }
                BinaryPrimitives.WriteUInt32LittleEndian(table[(int)(i * 8)..], (uint)length);
                BinaryPrimitives.WriteUInt32LittleEndian(table[(int)(i * 8 + 4)..], crc);
            }
            var preamble = small.AsSpan(0, TraceFormat.FilePreambleSize).ToArray();
            BinaryPrimitives.WriteUInt32LittleEndian(preamble.AsSpan(16), Crc32C.Compute([.. preamble.AsSpan(8, 8), .. body]));
            using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
            {
                file.Write(preamble);
                file.Write(body);
                foreach (long i in written)
                {
                    int length = (int)Math.Min(block, diskSize - i * block);
                    noise.Read(i * block, content.AsSpan(0, length));
                    file.Position = dataStart + i * block;
                    file.Write(content, 0, length);
                }
                file.Position = dataStart + diskSize;
                file.Write(small.AsSpan(dataStart)); // the chunks
            }
            long fileLength = new FileInfo(path).Length;
            Assert.True(fileLength > int.MaxValue, $"the trace has only {fileLength} bytes");

            TraceFile? trace = null;
            long reading = Allocated(() => trace = TraceReader.ReadFile(path));
            Assert.True(reading < 32 << 20, $"reading a {fileLength}-byte trace allocated {reading} bytes");
            Assert.Equal(events, trace!.Events);
            Assert.False(trace.Truncated);
            Assert.Equal(fileLength, trace.ValidLength);

            // The embedded disk reads back from the file, block by block, up to its last bytes.
            var read = trace.Header.Setup.Disks.Single();
            Assert.Equal(diskSize, read.Size);
            var expected = new byte[4096];
            var actual = new byte[4096];
            foreach (long offset in new[] { 0L, (2L << 30) + 4096, diskSize - 4096 })
            {
                noise.Read(offset, expected);
                read.Content!.Read(offset, actual);
                Assert.Equal(expected, actual);
            }
            // A block in the hole is checked as it is read: its zeros fail the CRC the table gives.
            Assert.Contains("fails its CRC32C", Assert.Throws<TraceFormatException>(() => read.Content!.Read(1L << 30, actual)).Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
