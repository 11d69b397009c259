using ReplayVm.Core;
using ReplayVm.Core.Input;
using ReplayVm.Core.State;

namespace ReplayVm.Replay.Tests;

public class HasherTests
{
    private static Machine Build() => TestGuests.Committed("hello").Build(NoInput.Instance, _ => { });

    [Fact]
    public void SameStateSameHashAcrossMachines()
    {
        var a = Build();
        var b = Build();
        Assert.Equal(new MachineStateHasher(a).Compute(), new MachineStateHasher(b).Compute());
        a.Run(1234);
        b.Run(1234);
        Assert.Equal(new MachineStateHasher(a).Compute(), new MachineStateHasher(b).Compute());
    }

    [Fact]
    public void RegistersCsrsAndRamAllCount()
    {
        var machine = Build();
        var hasher = new MachineStateHasher(machine);
        var start = hasher.Compute();

        machine.Hart.SetX(7, 42);
        var withX = hasher.Compute();
        Assert.NotEqual(start, withX);

        machine.Hart.SetF(3, 0x4000_0000_0000_0000);
        var withF = hasher.Compute();
        Assert.NotEqual(withX, withF);

        machine.Ram.Write(machine.Ram.Base + machine.Ram.Size - 1, [0x5A]);
        var withRam = hasher.Compute();
        Assert.NotEqual(withF, withRam);
        Assert.Equal(withRam, hasher.Compute());
    }

    /// <summary>Reports the pages the test says were written; anything else is assumed unchanged.</summary>
    private sealed class ListedPages : IDirtyPageSource
    {
        public readonly List<int> Pages = [];

        public void TakeDirtyPages(ulong[] bitmap)
        {
            foreach (int page in Pages) bitmap[page / 64] |= 1UL << (page % 64);
            Pages.Clear();
        }
    }

    [Fact]
    public void IncrementalHashRereadsOnlyReportedPages()
    {
        var machine = Build();
        var pages = new ListedPages();
        var incremental = new MachineStateHasher(machine, pages);
        var full = new MachineStateHasher(machine, AllPagesDirty.Instance);
        Assert.Equal(full.Compute(), incremental.Compute());
        // The first hash reads the pages the loader wrote, and no page never written (they are zero).
        int written = machine.Ram.PageEpochs.ToArray().Count(e => e != 0);
        Assert.InRange(written, 1, (int)(machine.Ram.Size / 4096) / 8);
        Assert.Equal(written, incremental.PagesRehashedLastTime);

        machine.Ram.Write(machine.Ram.Base + 5 * 4096 + 10, [1, 2, 3]);
        pages.Pages.Add(5);
        Assert.Equal(full.Compute(), incremental.Compute());
        Assert.Equal(1, incremental.PagesRehashedLastTime);

        // An unreported write is invisible to the incremental hasher: the source is trusted.
        machine.Ram.Write(machine.Ram.Base + 9 * 4096, [7]);
        Assert.NotEqual(full.Compute(), incremental.Compute());
    }

    /// <summary>The default source (RAM write epochs) must see every store path the guests use.</summary>
    [Theory]
    [InlineData("hello")]
    [InlineData("traps")]
    [InlineData("bench")]
    public void EpochHashAgreesWithFullRehashThroughoutARun(string guest)
    {
        var machine = TestGuests.Committed(guest).Build(NoInput.Instance, _ => { });
        var incremental = new MachineStateHasher(machine);
        var full = new MachineStateHasher(machine, AllPagesDirty.Instance);
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal(full.Compute(), incremental.Compute());
            if (machine.Run(997).Reason != StopReason.InstructionLimit) break;
        }
        Assert.Equal(full.Compute(), incremental.Compute());
        Assert.True(incremental.PagesRehashedLastTime < (int)(machine.Ram.Size / 4096));
    }

    [Fact]
    public void HashTextRoundTrips()
    {
        var hash = new StateHash(0x0123456789abcdef, 0xfedcba9876543210);
        Assert.Equal("0123456789abcdeffedcba9876543210", hash.ToString());
        Assert.Equal(hash, StateHash.Parse(hash.ToString()));
        Assert.Throws<FormatException>(() => StateHash.Parse("xyz"));
    }
}
