namespace ReplayVm.Debugger.Symbols;

/// <summary>
/// The text of the guest's source files, found on this machine and cached (misses included).
/// A DWARF path is tried as it is (absolute, or relative to each search directory); a relative
/// one that is not there is then looked for as a path tail under the search directories, since a
/// guest built with relative paths (as tools/guests/build does: "demo/shell.c") names them from a
/// build directory the debugger does not know. Thread-safe.
/// </summary>
public sealed class SourceFiles
{
    /// <summary>How deep and how wide the tail search looks, so a search directory of / or ~ stays cheap.</summary>
    private const int MaxDepth = 6, MaxFiles = 50_000;

    private static readonly HashSet<string> SkippedDirectories = ["bin", "obj", "node_modules"];

    private readonly IReadOnlyList<string> _searchDirectories;
    private readonly Dictionary<string, string[]?> _texts = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private Dictionary<string, List<string>>? _byName;

    /// <param name="searchDirectories">Where relative paths are resolved and tails searched, in order.</param>
    public SourceFiles(IEnumerable<string> searchDirectories) =>
        _searchDirectories = searchDirectories.Where(d => d.Length > 0).Select(Path.GetFullPath).Distinct().ToList();

    /// <summary>The text of <paramref name="line"/> (1-based) of <paramref name="file"/>, tabs as spaces; null when the file or line is not here.</summary>
    public string? Line(SourceFile file, int line)
    {
        var lines = Lines(file);
        return lines is null || line < 1 || line > lines.Length ? null : lines[line - 1];
    }

    /// <summary>Where <paramref name="file"/> was found on this machine, or null.</summary>
    public string? Locate(SourceFile file)
    {
        string path = file.Path;
        if (Path.IsPathRooted(path)) return File.Exists(path) ? path : null;
        foreach (string directory in _searchDirectories)
        {
            string candidate = Path.Combine(directory, path);
            if (File.Exists(candidate)) return candidate;
        }
        // "../" segments climb out of a build directory we do not have: match on what follows them.
        string tail = string.Join('/', path.Split('/').SkipWhile(s => s == ".."));
        if (tail.Length == 0) return null;
        if (!ByName().TryGetValue(file.Name, out var candidates)) return null;
        return candidates.FirstOrDefault(c => c.Replace('\\', '/').EndsWith("/" + tail, StringComparison.Ordinal));
    }

    private string[]? Lines(SourceFile file)
    {
        lock (_lock)
        {
            if (_texts.TryGetValue(file.Path, out var cached)) return cached;
            string[]? lines = null;
            try
            {
                if (Locate(file) is { } found) lines = [.. File.ReadAllLines(found).Select(l => l.Replace("\t", "    "))];
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Unreadable: shown as file:line only, like a missing file.
            }
            _texts[file.Path] = lines;
            return lines;
        }
    }

    /// <summary>File name → full paths under the search directories (built once, on the first miss).</summary>
    private Dictionary<string, List<string>> ByName()
    {
        if (_byName is not null) return _byName;
        var index = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        int seen = 0;
        foreach (string directory in _searchDirectories) Walk(directory, 0);
        foreach (var list in index.Values) list.Sort(StringComparer.Ordinal);
        return _byName = index;

        void Walk(string directory, int depth)
        {
            if (depth > MaxDepth || seen >= MaxFiles) return;
            try
            {
                foreach (string file in Directory.EnumerateFiles(directory))
                {
                    if (++seen >= MaxFiles) return;
                    string name = Path.GetFileName(file);
                    if (!index.TryGetValue(name, out var list)) index[name] = list = [];
                    list.Add(file);
                }
                foreach (string sub in Directory.EnumerateDirectories(directory))
                {
                    string name = Path.GetFileName(sub);
                    if (name.StartsWith('.') || SkippedDirectories.Contains(name)) continue;
                    if (new DirectoryInfo(sub).LinkTarget is not null) continue; // no symlink loops
                    Walk(sub, depth + 1);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // An unreadable directory holds nothing we can show.
            }
        }
    }
}
