namespace ReplayVm.Debugger.Symbols;

/// <summary>
/// A source file named by the line table: <see cref="Path"/> is the DWARF compilation directory,
/// include directory and file name joined with '/' ("." segments dropped, so GCC's "./common/uart.c"
/// becomes "common/uart.c"); relative when the guest was built with relative paths.
/// </summary>
public sealed record SourceFile(string Path)
{
    /// <summary>The last path segment ("uart.c"), what the code pane shows.</summary>
    public string Name { get; } = Path[(Path.LastIndexOf('/') + 1)..];

    /// <summary>
    /// Whether a user's <paramref name="query"/> ("uart.c", "common/uart.c") names this file: the
    /// whole path, or a tail of it starting at a '/'.
    /// </summary>
    public bool Matches(string query)
    {
        string q = Join(query);
        if (q.Length == 0) return false;
        return Path == q || (Path.EndsWith(q, StringComparison.Ordinal) && Path[^(q.Length + 1)] == '/');
    }

    /// <summary>Joins guest path parts with '/': an absolute part restarts the path, "." and empty segments go.</summary>
    public static string Join(params string[] parts)
    {
        var segments = new List<string>();
        bool absolute = false;
        foreach (string part in parts)
        {
            if (part.StartsWith('/'))
            {
                segments.Clear();
                absolute = true;
            }
            foreach (string segment in part.Split('/'))
                if (segment.Length > 0 && segment != ".") segments.Add(segment);
        }
        return (absolute ? "/" : "") + string.Join('/', segments);
    }

    public override string ToString() => Path;
}

/// <summary>Where an address's code came from: a file and 1-based line (0: no line, as DWARF allows).</summary>
public sealed record SourceLocation(SourceFile File, int Line, bool IsStmt)
{
    /// <summary>"uart.c:57".</summary>
    public override string ToString() => $"{File.Name}:{Line}";
}

/// <summary>One row of the line-number matrix (DWARF 5 §6.2.2) as the state machine appended it.</summary>
public readonly record struct LineRow(ulong Address, SourceFile File, int Line, bool IsStmt, bool EndSequence);

/// <summary>The rows of one sequence: increasing addresses, closed by an end_sequence row one past its last byte.</summary>
public sealed record LineSequence(IReadOnlyList<LineRow> Rows)
{
    public ulong Start => Rows[0].Address;
    public ulong End => Rows[^1].Address;
}
