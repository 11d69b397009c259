namespace ReplayVm.Core.Tests;

/// <summary>
/// Where the checkout's files are, found by walking up from the test binaries to ReplayVm.sln,
/// so tests read the committed guests and data wherever the build output lands.
/// </summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootDirectory = new(FindRoot);

    /// <summary>The directory holding ReplayVm.sln.</summary>
    public static string Root => RootDirectory.Value;

    /// <summary>tools/guests: the bundled guests' sources, expected outputs and scripts.</summary>
    public static string Guests => Path.Combine(Root, "tools", "guests");

    /// <summary>A built guest under tools/guests/elf.</summary>
    public static string GuestBinary(string name) => Path.Combine(Guests, "elf", name);

    /// <summary>A file the bundled guests' sessions are checked against, under tools/guests/expected.</summary>
    public static string Expected(string name) => Path.Combine(Guests, "expected", name);

    /// <summary>Sources of the bare-metal device-test guests (Devices/Data).</summary>
    public static string DeviceData => Path.Combine(Root, "tests", "ReplayVm.Core.Tests", "Devices", "Data");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ReplayVm.sln"))) return dir.FullName;
        throw new InvalidOperationException("ReplayVm.sln not found above " + AppContext.BaseDirectory);
    }
}
