namespace ReplayVm.Replica.Tests;

/// <summary>The console history keeps the most recent output in bounded memory and says when an offset is gone.</summary>
public sealed class ConsoleHistoryTests
{
    /// <summary>A byte that depends on its offset (and is not periodic in any chunk size), so a byte from the wrong place shows.</summary>
    private static byte At(long offset) => (byte)(offset * 7 + (offset >> 8) * 13 + (offset >> 16));

    private static void Feed(ConsoleHistory history, long from, long count)
    {
        for (long i = from; i < from + count; i++) history.Append(At(i));
    }

    private static void AssertBytes(long offset, byte[] bytes)
    {
        for (int i = 0; i < bytes.Length; i++)
            if (bytes[i] != At(offset + i)) Assert.Fail($"byte {offset + i} is {bytes[i]}, expected {At(offset + i)}");
    }

    /// <summary>
    /// 16 MiB through a history of 64 KiB: what it allocates stays within the bound (plus a chunk
    /// and bookkeeping), never near what the guest printed (the old doubling array grew to it); the
    /// most recent 64 KiB are all there, byte for byte.
    /// </summary>
    [Fact]
    public void Memory_stays_within_the_bound_whatever_the_guest_prints()
    {
        const long capacity = 64 << 10, printed = 16L << 20;
        long before = GC.GetAllocatedBytesForCurrentThread();
        var history = new ConsoleHistory(capacity);
        Feed(history, 0, printed);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < capacity + capacity / 4 + 4096, $"{allocated} bytes allocated for a history of {capacity} bytes after {printed} printed");
        Assert.Equal(printed, history.Produced);
        Assert.InRange(history.Oldest, printed - capacity - capacity / 8, printed - capacity);
        history.ReleaseAll();
        var tail = history.Read(printed - capacity, (int)capacity, TimeSpan.Zero);
        Assert.NotNull(tail);
        Assert.Equal((int)capacity, tail.Length);
        AssertBytes(printed - capacity, tail);
    }

    [Fact]
    public void A_dropped_offset_reads_as_null_and_a_held_one_reads_every_byte_once()
    {
        var history = new ConsoleHistory(4096);
        Feed(history, 0, 100_000);
        history.ReleaseAll();
        long oldest = history.Oldest;
        Assert.True(oldest > 0 && oldest <= 100_000 - 4096);
        Assert.Null(history.Read(0, 100, TimeSpan.Zero));
        Assert.Null(history.Read(oldest - 1, 100, TimeSpan.Zero));
        // A client resuming at `oldest` reads in small pieces, as a slow one would, up to the end: every byte once, in order.
        var seen = new List<byte>();
        long at = oldest;
        while (history.Read(at, 333, TimeSpan.Zero) is { Length: > 0 } bytes)
        {
            seen.AddRange(bytes);
            at += bytes.Length;
        }
        Assert.Equal(100_000, at);
        AssertBytes(oldest, [.. seen]);
    }

    /// <summary>Held output (the output rule) is not readable before release, and the rule's bookkeeping is unchanged by the ring.</summary>
    [Fact]
    public void Output_is_readable_only_once_released()
    {
        var history = new ConsoleHistory(4096);
        Feed(history, 0, 1000);
        history.Hold(10);
        Feed(history, 1000, 1000);
        history.Hold(20);
        Assert.Empty(history.Read(0, 5000, TimeSpan.Zero)!);
        Assert.Equal(2000, history.Unreleased);
        history.ReleaseThrough(15);
        var first = history.Read(0, 5000, TimeSpan.Zero)!;
        Assert.Equal(1000, first.Length);
        AssertBytes(0, first);
        history.ReleaseThrough(20);
        Assert.Equal(1000, history.Read(1000, 5000, TimeSpan.Zero)!.Length);
        Assert.Equal(0, history.Unreleased);
    }

    /// <summary>A joining backup's history starts at the offset the primary still holds, mid-chunk, and goes on from there.</summary>
    [Fact]
    public void A_history_started_at_an_offset_holds_bytes_at_their_own_offsets()
    {
        var primary = new ConsoleHistory(4096);
        Feed(primary, 0, 12_345);
        var (start, bytes) = primary.CopyRetained();
        Assert.Equal(primary.Oldest, start);
        Assert.Equal(12_345 - start, bytes.Length);
        AssertBytes(start, bytes);

        var backup = new ConsoleHistory(2048);
        backup.StartAt(start);
        backup.Append(bytes);
        Feed(backup, 12_345, 700);
        backup.ReleaseAll();
        Assert.Equal(13_045, backup.Produced);
        Assert.Null(backup.Read(start - 1, 10, TimeSpan.Zero));
        long from = 13_045 - 2048;
        var tail = backup.Read(from, 4096, TimeSpan.Zero)!;
        Assert.Equal(2048, tail.Length);
        AssertBytes(from, tail);
    }

    /// <summary>
    /// The machine's thread appends and releases while a client's thread reads: every byte a read
    /// returns is the byte printed at that offset (a recycled chunk is never read torn), and a
    /// reader that falls behind the ring is told (null) rather than shown other bytes.
    /// </summary>
    [Fact]
    public void Concurrent_reads_never_see_a_byte_from_another_offset()
    {
        var history = new ConsoleHistory(8192);
        const long total = 20_000_000;
        var writer = new Thread(() =>
        {
            for (long i = 0; i < total; i += 1000)
            {
                Feed(history, i, 1000);
                history.ReleaseAll();
            }
            history.SetEnd(0, "done");
        });
        writer.Start();
        long at = 0, read = 0;
        while (true)
        {
            var bytes = history.Read(at, 3000, TimeSpan.FromMilliseconds(5));
            if (bytes is null)
            {
                at = history.Oldest;
                continue;
            }
            AssertBytes(at, bytes);
            at += bytes.Length;
            read += bytes.Length;
            if (bytes.Length == 0 && history.End is not null && at == total) break;
        }
        writer.Join();
        Assert.True(read > 0);
        Assert.Equal(total, at);
    }
}
