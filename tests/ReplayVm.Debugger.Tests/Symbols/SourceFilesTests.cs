using ReplayVm.Debugger.Symbols;

namespace ReplayVm.Debugger.Tests.Symbols;

public class SourceFilesTests
{
    private static readonly string Root = Addr2LineOracle.RepoRoot();
    private static readonly string Guests = Path.Combine(Root, "tools", "guests");

    [Fact]
    public void A_relative_dwarf_path_resolves_under_a_search_directory()
    {
        var sources = new SourceFiles([Guests]);
        var file = new SourceFile("demo/shell.c");
        Assert.Equal(Path.Combine(Guests, "demo", "shell.c"), sources.Locate(file));
        Assert.Equal(File.ReadAllLines(Path.Combine(Guests, "demo", "shell.c"))[208], sources.Line(file, 209));
    }

    [Fact]
    public void A_relative_path_from_an_unknown_build_directory_is_found_as_a_path_tail()
    {
        // tools/guests/build compiles from tools/guests, so the demo's DWARF says "demo/shell.c";
        // from the repository root that is found under tools/guests.
        var sources = new SourceFiles([Root]);
        Assert.Equal(Path.Combine(Guests, "demo", "shell.c"), sources.Locate(new SourceFile("demo/shell.c")));
        Assert.Equal(Path.Combine(Guests, "common", "uart.c"), sources.Locate(new SourceFile("../../common/uart.c")));
        Assert.Null(sources.Locate(new SourceFile("other/shell.c")));  // a tail must match whole segments
    }

    [Fact]
    public void Missing_files_and_lines_are_null()
    {
        var sources = new SourceFiles([Guests]);
        Assert.Null(sources.Line(new SourceFile("demo/nosuch.c"), 1));
        Assert.Null(sources.Line(new SourceFile("/nonexistent/dir/shell.c"), 1));
        Assert.Null(sources.Line(new SourceFile("demo/shell.c"), 0));
        Assert.Null(sources.Line(new SourceFile("demo/shell.c"), 1_000_000));
    }

    [Fact]
    public void Text_is_read_once_and_cached()
    {
        string dir = Directory.CreateTempSubdirectory("replayvm-sources-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "a.c"), "int x;\n\tint y;\n");
            var sources = new SourceFiles([dir]);
            var file = new SourceFile("a.c");
            Assert.Equal("    int y;", sources.Line(file, 2)); // tabs become spaces for the pane
            File.WriteAllText(Path.Combine(dir, "a.c"), "changed\n");
            Assert.Equal("int x;", sources.Line(file, 1));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Paths_join_as_dwarf_composes_them()
    {
        Assert.Equal("common/uart.c", SourceFile.Join(".", "common", "uart.c"));
        Assert.Equal("/usr/include/stdio.h", SourceFile.Join(".", "/usr/include", "stdio.h"));
        Assert.Equal("/abs.c", SourceFile.Join("/build", "lib", "/abs.c"));
        Assert.Equal("../../x/y.c", SourceFile.Join("../..", "x", "y.c"));
        Assert.True(new SourceFile("demo/shell.c").Matches("shell.c"));
        Assert.True(new SourceFile("demo/shell.c").Matches("./demo/shell.c"));
        Assert.False(new SourceFile("demo/shell.c").Matches("ell.c"));
        Assert.False(new SourceFile("demo/shell.c").Matches(""));
    }
}
