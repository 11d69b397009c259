namespace ReplayVm.Lockstep;

/// <summary>
/// What to run and how to compare. Either <see cref="ElfPath"/> (QEMU's <c>-bios none -kernel ELF</c>)
/// or <see cref="BiosPath"/> with optional <see cref="KernelPath"/> (QEMU's <c>-bios FW -kernel K</c>).
/// </summary>
public sealed record LockstepOptions
{
    public string? ElfPath { get; init; }
    public string? BiosPath { get; init; }
    public string? KernelPath { get; init; }
    public string? Append { get; init; }

    /// <summary>A raw disk image: QEMU gets a throw-away copy, ReplayVm a copy-on-write overlay.</summary>
    public string? DrivePath { get; init; }

    /// <summary>Replace ReplayVm's device tree with QEMU's (dumped with <c>-M virt,dumpdtb=</c>) so a
    /// firmware's FDT parsing does not diverge on a tree that differs in content or layout.</summary>
    public bool UseQemuDeviceTree { get; init; }

    public ulong MaxSteps { get; init; } = ulong.MaxValue;
    public IReadOnlySet<int> IgnoredRegisters { get; init; } = new HashSet<int>();
    public IReadOnlySet<string> IgnoredCsrs { get; init; } = new HashSet<string>();
    public int History { get; init; } = 8;

    /// <summary>Normalise QEMU 7.2 bugs documented in <see cref="KnownQemuDeviations"/> instead of stopping at them.</summary>
    public bool AllowKnownQemuDeviations { get; init; }

    /// <summary>Print a progress line to stderr every this many steps (0: never).</summary>
    public ulong ProgressEvery { get; init; }

    /// <summary>The image whose symbols name addresses in reports.</summary>
    public IEnumerable<string> SymbolSources => new[] { ElfPath, BiosPath, KernelPath }.OfType<string>();
}
