namespace ReplayVm.Replay.Diff;

/// <summary>
/// What makes two traces' machines different before the first step: configuration fields, the
/// board revision, the images (role, load address, contents) and the disks (count, size,
/// contents by SHA-256). File names are ignored — the same ELF or disk image recorded under
/// another name builds the same machine — and so is whether a disk was embedded.
/// </summary>
public static class SetupComparison
{
    /// <summary>Everything of <see cref="Differences(MachineSetup, MachineSetup)"/>, and the board revision the traces were recorded on.</summary>
    public static IReadOnlyList<string> Differences(TraceHeader a, TraceHeader b)
    {
        var found = new List<string>();
        if (a.BoardRevision != b.BoardRevision) found.Add($"board revision {a.BoardRevision} vs {b.BoardRevision}");
        found.AddRange(Differences(a.Setup, b.Setup));
        return found;
    }

    /// <summary>One line per difference; empty when both traces build the same machine.</summary>
    public static IReadOnlyList<string> Differences(MachineSetup a, MachineSetup b)
    {
        var found = new List<string>();
        if (a.Config.RamSize != b.Config.RamSize) found.Add($"RAM size {Size(a.Config.RamSize)} vs {Size(b.Config.RamSize)}");
        if (a.Config.Board != b.Config.Board) found.Add($"board {a.Config.Board} vs {b.Config.Board}");
        if (a.Config.Bootargs != b.Config.Bootargs) found.Add($"kernel command line {Quote(a.Config.Bootargs)} vs {Quote(b.Config.Bootargs)}");
        // Anything else a future MachineConfig field adds still counts, even before it gets its own line.
        if (found.Count == 0 && a.Config != b.Config) found.Add($"machine configuration {a.Config} vs {b.Config}");

        if (a.Images.Count != b.Images.Count)
            found.Add($"{a.Images.Count} image(s) vs {b.Images.Count}");
        for (int i = 0; i < Math.Min(a.Images.Count, b.Images.Count); i++)
        {
            var (x, y) = (a.Images[i], b.Images[i]);
            string which = $"image {i + 1} ('{x.Name}' vs '{y.Name}')";
            if (x.Role != y.Role) found.Add($"{which}: role {x.Role} vs {y.Role}");
            if (x.LoadAddress != y.LoadAddress) found.Add($"{which}: load address 0x{x.LoadAddress:x} vs 0x{y.LoadAddress:x}");
            if (!x.Sha256.AsSpan().SequenceEqual(y.Sha256))
                found.Add($"{which}: contents differ ({x.Size} bytes, SHA-256 {Short(x.Sha256)} vs {y.Size} bytes, {Short(y.Sha256)})");
        }

        if (a.Disks.Count != b.Disks.Count)
            found.Add($"{a.Disks.Count} disk(s) vs {b.Disks.Count}");
        for (int i = 0; i < Math.Min(a.Disks.Count, b.Disks.Count); i++)
        {
            var (x, y) = (a.Disks[i], b.Disks[i]);
            if (x.Size != y.Size || !x.Sha256.AsSpan().SequenceEqual(y.Sha256))
                found.Add($"disk {i + 1} ('{x.Name}' vs '{y.Name}'): contents differ ({x.Size} bytes, SHA-256 {Short(x.Sha256)} vs {y.Size} bytes, {Short(y.Sha256)})");
        }
        return found;
    }

    /// <summary>
    /// True when two differing setups can still be replayed side by side and compared step by step:
    /// the same board and RAM size (the comparison walks both RAMs page by page).
    /// </summary>
    public static bool ComparableStateByState(MachineSetup a, MachineSetup b) =>
        a.Config.RamSize == b.Config.RamSize && a.Config.Board == b.Config.Board;

    private static string Size(ulong bytes) => bytes % (1UL << 20) == 0 ? $"{bytes >> 20} MiB" : $"{bytes} bytes";

    private static string Quote(string? text) => text is null ? "(none)" : $"'{text}'";

    private static string Short(byte[] sha) => Convert.ToHexStringLower(sha)[..16];
}
